"""rltutor.rollout does what env.rollout does unless asked (issue 12, item 2).

Each test fails on the old defaults: exploration "deterministic", never stopping at
done, torch's global generator reseeded with 0, and everything under no_grad.
"""

from __future__ import annotations

import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import EGreedyModule, QValueModule

import rltutor


def always_right(env):
    """A greedy CartPole policy that always pushes right (the pole falls in ~10 steps)."""
    values = TensorDictModule(lambda obs: torch.stack([obs[..., 0] * 0 - 1, obs[..., 0] * 0],
                                                      -1), in_keys=["observation"],
                              out_keys=["action_value"])  # value(left) -1 < value(right) 0
    return TensorDictSequential(values, QValueModule(spec=env.action_spec))


def test_no_exploration_type_is_set_so_exploration_modules_explore():
    env = rltutor.make_env("CartPole-v1", seed=0)
    greedy = always_right(env)
    policy = TensorDictSequential(greedy, EGreedyModule(spec=env.action_spec, eps_init=1.0,
                                                        eps_end=1.0))
    td = rltutor.rollout(env, policy, steps=30, seed=0, break_when_done=False)
    assert (td["action"].argmax(-1) == 0).any()  # eps = 1: some steps push left
    with set_exploration_type(ExplorationType.DETERMINISTIC):  # the caller's type applies
        td = rltutor.rollout(env, policy, steps=30, seed=0, break_when_done=False)
    assert (td["action"].argmax(-1) == 1).all()
    td = rltutor.rollout(env, policy, steps=30, seed=0, exploration="deterministic",
                         break_when_done=False)  # or ask for one
    assert (td["action"].argmax(-1) == 1).all()


def test_stops_at_the_first_done_unless_asked_to_go_on():
    env = rltutor.make_env("CartPole-v1", seed=0)
    td = rltutor.rollout(env, always_right(env), steps=100, seed=0)
    assert td.shape[0] < 100 and td["next", "done"][-1].all()
    assert td["next", "done"][:-1].sum() == 0
    longer = rltutor.rollout(env, always_right(env), steps=100, seed=0, break_when_done=False)
    assert longer.shape[0] == 100 and longer["next", "done"].sum() >= 2


def test_leaves_torchs_global_generator_alone_unless_seeded():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    policy = rltutor.make_actor(env)
    torch.manual_seed(5)
    rltutor.rollout(env, policy, steps=5)
    after = torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(after, torch.rand(3))  # a deterministic actor draws nothing
    rltutor.rollout(env, policy, steps=5, seed=0)
    torch.manual_seed(0)
    first = torch.rand(3)
    rltutor.rollout(env, policy, steps=5, seed=0)
    assert torch.equal(torch.rand(3), first)  # seed= reseeds, as documented


def test_records_gradients_like_env_rollout():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    policy = rltutor.make_actor(env)
    assert rltutor.rollout(env, policy, steps=5)["action"].requires_grad
    assert env.rollout(5, policy)["action"].requires_grad
    with torch.no_grad():
        assert not rltutor.rollout(env, policy, steps=5)["action"].requires_grad


def test_equals_env_rollout_under_the_same_settings():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    policy = rltutor.with_gaussian_noise(rltutor.make_actor(env), env, sigma=0.5)
    ours = rltutor.rollout(env, policy, steps=30, seed=3)
    torch.manual_seed(3)
    env.set_seed(3)
    theirs = env.rollout(30, policy)
    assert (ours == theirs).all()
    assert not torch.equal(ours["action"], rltutor.make_actor(env)(ours.exclude("action"))
                           ["action"])  # noise was added: no exploration type was set
