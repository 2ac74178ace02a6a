"""rollout: seeded, exploration-aware, validated; exploratory_steps finds explored steps."""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import NormalParamExtractor, TensorDictModule, TensorDictSequential
from torchrl.modules import MLP, EGreedyModule, ProbabilisticActor, QValueModule, TanhNormal

from rltutor._greedy import action_leaves, explored_mask
from rltutor.envs import make_env
from rltutor.rollouts import (
    deterministic_actions,
    exploratory_steps,
    move_specs,
    move_to_device,
    policy_device,
    rollout,
)


def mlp_actor(seed=0):
    torch.manual_seed(seed)
    return TensorDictModule(MLP(out_features=1, num_cells=[16]), in_keys=["observation"],
                            out_keys=["action"])


def gaussian_actor(env, seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(MLP(out_features=2, num_cells=[16]), NormalParamExtractor())
    return ProbabilisticActor(
        TensorDictModule(net, in_keys=["observation"], out_keys=["loc", "scale"]),
        in_keys=["loc", "scale"], spec=env.action_spec, distribution_class=TanhNormal,
        distribution_kwargs={"low": -2.0, "high": 2.0},
    )


def egreedy_qvalue(env, eps=0.5, seed=0):
    torch.manual_seed(seed)
    q = TensorDictModule(MLP(out_features=2, num_cells=[16]), in_keys=["observation"],
                         out_keys=["action_value"])
    egreedy = EGreedyModule(env.action_spec, eps_init=eps, eps_end=eps)
    return TensorDictSequential(q, QValueModule(spec=env.action_spec), egreedy), egreedy


def composite_actor(env=None, seed=0):
    """Lesson 07's policy for PuckEnv (``env``, or its action spec alone when None): heads
    write ("params", part, ...) leaf by leaf, the actor reads the whole "params" and writes
    ("action", part) plus one log-prob per part."""
    from tensordict.nn import CompositeDistribution
    from torch import distributions as d
    from torchrl.data import Bounded, Categorical, Composite

    spec = env.full_action_spec if env is not None else Composite(
        action=Composite(direction=Categorical(2), force=Bounded(0.0, 1.0, shape=(1,))))
    torch.manual_seed(seed)
    body = TensorDictModule(torch.nn.Linear(3, 8), ["observation"], ["hidden"])
    direction = TensorDictModule(torch.nn.Linear(8, 2), ["hidden"],
                                 [("params", "direction", "logits")])
    force = TensorDictModule(torch.nn.Sequential(torch.nn.Linear(8, 2), NormalParamExtractor()),
                             ["hidden"], [("params", "force", "loc"), ("params", "force", "scale")])
    return ProbabilisticActor(
        TensorDictSequential(body, direction, force), in_keys=["params"],
        out_keys=[("action", "direction"), ("action", "force")], spec=spec,
        distribution_class=CompositeDistribution,
        distribution_kwargs={
            "distribution_map": {"direction": d.Categorical, "force": TanhNormal},
            "name_map": {"direction": ("action", "direction"), "force": ("action", "force")},
            "extra_kwargs": {"force": {"low": 0.0, "high": 1.0}},
        },
        return_log_prob=True,
    )


def pendulums(n=3):
    from torchrl.envs import GymEnv, SerialEnv

    return SerialEnv(n, lambda: GymEnv("Pendulum-v1"))


def test_rollout_same_inputs_same_output():
    env = make_env("CartPole-v1")
    policy, _ = egreedy_qvalue(env)
    a = rollout(env, policy, steps=40, exploration="random", seed=3)
    b = rollout(env, policy, steps=40, exploration="random", seed=3)
    assert (a == b).all()
    c = rollout(env, policy, steps=40, exploration="random", seed=4)
    assert not torch.equal(a["action"], c["action"])


def test_rollout_shape_and_gradients_as_env_rollout():
    env = make_env()
    td = rollout(env, mlp_actor(), steps=25)
    assert td.batch_size == torch.Size([25])
    assert td["action"].requires_grad  # no forced no_grad: the caller decides
    with torch.no_grad():
        assert not rollout(env, mlp_actor(), steps=25)["action"].requires_grad


def test_rollout_continues_across_episode_ends():
    env = make_env("CartPole-v1")
    policy, _ = egreedy_qvalue(env, eps=1.0)
    td = rollout(env, policy, steps=150, exploration="random", break_when_done=False)
    assert td.shape[0] == 150
    assert td["next", "done"].sum() >= 2  # random CartPole falls within ~20-40 steps
    short = rollout(env, policy, steps=150, exploration="random")  # stops, as env.rollout
    assert short.shape[0] < 150 and short["next", "done"][-1].all()


def test_deterministic_mode_turns_egreedy_off():
    env = make_env("CartPole-v1")
    policy, _ = egreedy_qvalue(env, eps=1.0)
    td = rollout(env, policy, steps=60, exploration="deterministic")
    assert not exploratory_steps(policy, td).any()
    td = rollout(env, policy, steps=60, exploration="random")
    assert exploratory_steps(policy, td).float().mean() > 0.2


def test_random_mode_samples_from_probabilistic_policy():
    env = make_env()
    policy = gaussian_actor(env)
    det = rollout(env, policy, steps=30, exploration="deterministic")
    rnd = rollout(env, policy, steps=30, exploration="random", seed=0)
    assert not exploratory_steps(policy, det).any()
    assert exploratory_steps(policy, rnd).all()  # every sample lands off the mean
    again = rollout(env, policy, steps=30, exploration="random", seed=0)
    torch.testing.assert_close(rnd["action"], again["action"])  # seeded sampling


def test_exploration_accepts_torchrl_enum():
    from torchrl.envs.utils import ExplorationType

    env = make_env()
    td = rollout(env, gaussian_actor(env), steps=5, exploration=ExplorationType.RANDOM)
    assert td.shape[0] == 5


def test_deterministic_actions_match_policy():
    env = make_env()
    policy = mlp_actor()
    td = rollout(env, policy, steps=10)
    torch.testing.assert_close(deterministic_actions(policy, td), td["action"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": 0}, "steps must be a positive integer"),
        ({"exploration": "greedy"}, "exploration must be one of"),
        ({"seed": -1}, "seed must be a whole number"),
    ],
)
def test_rollout_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rollout(make_env(), mlp_actor(), **kwargs)


def test_rollout_missing_in_keys():
    policy = TensorDictModule(torch.nn.Linear(3, 1), in_keys=["pixels"], out_keys=["action"])
    with pytest.raises(ValueError, match="reads 'pixels'.*it has: .*'observation'"):
        rollout(make_env(), policy, steps=5)


def test_policy_device():
    assert policy_device(mlp_actor()) == torch.device("cpu")
    assert policy_device(lambda td: td) is None


def test_batched_rollout_explored_per_env_and_step():
    env = pendulums(3)
    policy = gaussian_actor(env)
    td = rollout(env, policy, steps=20, exploration="random")
    assert td.batch_size == torch.Size([3, 20])
    explored = exploratory_steps(policy, td)
    assert explored.shape == (3, 20) and explored.all()
    det = rollout(env, policy, steps=20, exploration="deterministic")
    assert not exploratory_steps(policy, det).any()


def test_composite_action_rollout_and_explored_parts():
    from rltutor.addons.toy_envs import PuckEnv

    env = PuckEnv(seed=0)
    actor = composite_actor(env)
    # the actor lists "params" among its in_keys though its own network writes it
    td = rollout(env, actor, steps=30, exploration="random")
    assert [name for name, _ in action_leaves(td["action"])] == ["direction", "force"]
    assert exploratory_steps(actor, td).all()  # the sampled force never equals its mean
    det = rollout(env, actor, steps=30, exploration="deterministic")
    assert not exploratory_steps(actor, det).any()
    # a step explored when any part differs from the deterministic one
    greedy = det["action"].clone()
    greedy["direction"][4] = 1 - greedy["direction"][4]
    mask = explored_mask(det["action"], greedy)
    assert mask.tolist() == [i == 4 for i in range(30)]
    with pytest.raises(ValueError, match="no 'force' part"):
        explored_mask(det["action"], greedy.exclude("force"))


def test_explored_mask_with_batch_dims():
    taken = torch.zeros(2, 3, 1)
    greedy = taken.clone()
    greedy[1, 2] = 1.0
    assert explored_mask(taken, greedy, batch_dims=2).tolist() == [[False] * 3,
                                                                   [False, False, True]]


def noisy_policy(env):
    from torchrl.modules import AdditiveGaussianModule

    return TensorDictSequential(mlp_actor(), AdditiveGaussianModule(spec=env.action_spec))


def test_move_specs_moves_what_module_to_leaves_behind():
    from torchrl.modules import OrnsteinUhlenbeckProcessModule

    env, cartpole = make_env(), make_env("CartPole-v1")
    noise = noisy_policy(env)
    egreedy_policy, egreedy = egreedy_qvalue(cartpole)
    ou = OrnsteinUhlenbeckProcessModule(spec=env.action_spec)
    for policy, module in ((noise, noise[1]), (egreedy_policy, egreedy), (ou, ou)):
        policy.to("meta")  # parameters and buffers move ...
        assert module.spec["action"].device == torch.device("cpu")  # ... the spec does not
        assert module in move_specs(policy, torch.device("meta"))
        assert module.spec["action"].device == torch.device("meta")
        assert move_specs(policy, "meta") == []  # nothing left to move


def test_move_to_device_moves_policy_specs_and_env(monkeypatch):
    # No second real device here, and a meta tensor cannot come back to the CPU, so the
    # env is a stand-in that records the move and "meta" is let through the device check.
    import rltutor.rollouts

    class RecordingEnv:
        device = None  # what a batched env built without a device says

        def to(self, device):
            self.device = device
            return self

    env, policy = RecordingEnv(), noisy_policy(make_env())
    assert move_to_device(env, policy, "cpu") == torch.device("cpu")
    assert env.device is None  # None already means the CPU: nothing to move
    with pytest.raises(ValueError, match="not available on this machine"):
        move_to_device(env, policy, "cuda:7")
    monkeypatch.setattr(rltutor.rollouts, "check_device", torch.device)
    assert move_to_device(env, policy, "meta") == torch.device("meta")
    assert policy_device(policy) == torch.device("meta")
    assert policy[1].spec["action"].device == torch.device("meta")
    assert env.device == torch.device("meta")
