"""rollout: seeded, exploration-aware, validated; exploratory_steps finds explored steps."""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import NormalParamExtractor, TensorDictModule, TensorDictSequential
from torchrl.modules import MLP, EGreedyModule, ProbabilisticActor, QValueModule, TanhNormal

from rltutor.envs import make_env
from rltutor.rollouts import deterministic_actions, exploratory_steps, policy_device, rollout


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


def test_rollout_same_inputs_same_output():
    env = make_env("CartPole-v1")
    policy, _ = egreedy_qvalue(env)
    a = rollout(env, policy, steps=40, exploration="random", seed=3)
    b = rollout(env, policy, steps=40, exploration="random", seed=3)
    assert (a == b).all()
    c = rollout(env, policy, steps=40, exploration="random", seed=4)
    assert not torch.equal(a["action"], c["action"])


def test_rollout_shape_and_no_grad():
    env = make_env()
    td = rollout(env, mlp_actor(), steps=25)
    assert td.batch_size == torch.Size([25])
    assert not td["action"].requires_grad


def test_rollout_continues_across_episode_ends():
    env = make_env("CartPole-v1")
    policy, _ = egreedy_qvalue(env, eps=1.0)
    td = rollout(env, policy, steps=150, exploration="random")
    assert td.shape[0] == 150
    assert td["next", "done"].sum() >= 2  # random CartPole falls within ~20-40 steps
    short = rollout(env, policy, steps=150, exploration="random", break_when_done=True)
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
    rnd = rollout(env, policy, steps=30, exploration="random")
    assert not exploratory_steps(policy, det).any()
    assert exploratory_steps(policy, rnd).all()  # every sample lands off the mean
    again = rollout(env, policy, steps=30, exploration="random")
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
