"""rltutor/toy_envs.py: PuckEnv is a valid TorchRL env with a two-part action."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict
from torchrl.data import Bounded, Categorical
from torchrl.envs import SerialEnv
from torchrl.envs.utils import check_env_specs

from rltutor.addons.toy_envs import PuckEnv, plot_puck


def push(env: PuckEnv, td: TensorDict, direction: int, force: float) -> TensorDict:
    td["action"] = TensorDict(
        {"direction": torch.tensor(direction), "force": torch.tensor([force])}, [])
    return env.step(td)["next"]


def test_specs_match_what_the_env_writes() -> None:
    check_env_specs(PuckEnv(seed=0))


def test_action_spec_is_composite_with_a_discrete_and_a_continuous_part() -> None:
    spec = PuckEnv().full_action_spec["action"]
    assert isinstance(spec["direction"], Categorical) and spec["direction"].space.n == 2
    assert isinstance(spec["force"], Bounded)
    assert spec["force"].space.low.item() == 0.0 and spec["force"].space.high.item() == 1.0
    assert sorted(PuckEnv().action_keys) == [("action", "direction"), ("action", "force")]


def test_direction_decides_where_the_puck_goes_and_force_how_fast() -> None:
    env = PuckEnv(seed=0)
    start = env.reset()
    x0 = start["observation"][0].item()
    right = push(env, start.clone(), 1, 1.0)["observation"]
    left = push(env, start.clone(), 0, 1.0)["observation"]
    gentle = push(env, start.clone(), 1, 0.2)["observation"]
    assert right[0] > x0 > left[0]
    assert right[1] > gentle[1] > 0 > left[1]


def test_reward_is_distance_to_target_minus_effort() -> None:
    env = PuckEnv(seed=0)
    td = env.reset()
    out = env.step(td.set("action", TensorDict(
        {"direction": torch.tensor(1), "force": torch.tensor([0.0])}, [])))["next"]
    position, _, target = out["observation"].tolist()
    assert out["reward"].item() == pytest.approx(-abs(position - target))
    out = push(env, td.clone(), 1, 1.0)
    position, _, target = out["observation"].tolist()
    assert out["reward"].item() == pytest.approx(-abs(position - target) - 0.05)


def test_walls_stop_the_puck() -> None:
    env = PuckEnv(max_steps=200, seed=0)
    td = env.reset()
    for _ in range(100):
        td = push(env, td, 1, 1.0)
    assert td["observation"][0].item() == 1.0 and td["observation"][1].item() == 0.0


def test_episode_is_truncated_after_max_steps() -> None:
    rollout_td = PuckEnv(max_steps=7, seed=0).rollout(50)
    assert rollout_td.batch_size == (7,)
    assert rollout_td["next", "truncated"][-1].item()
    assert not rollout_td["next", "terminated"].any()


def test_seed_makes_episodes_reproducible() -> None:
    a, b, c = PuckEnv(seed=3), PuckEnv(seed=3), PuckEnv(seed=4)
    assert torch.equal(a.reset()["observation"], b.reset()["observation"])
    assert not torch.equal(a.reset()["observation"], c.reset()["observation"])
    a.set_seed(3)
    b.set_seed(3)
    assert torch.equal(a.reset()["observation"], b.reset()["observation"])


def test_batches_in_a_serial_env() -> None:
    env = SerialEnv(2, lambda: PuckEnv(max_steps=5))
    rollout_td = env.rollout(5)
    assert rollout_td.batch_size == (2, 5)
    assert rollout_td["action", "force"].shape == (2, 5, 1)
    env.close()


def test_bad_max_steps_is_refused() -> None:
    with pytest.raises(ValueError, match="positive integer"):
        PuckEnv(max_steps=0)


def test_plot_puck_draws_position_and_pushes() -> None:
    import matplotlib

    matplotlib.use("Agg")
    rollout_td = PuckEnv(max_steps=10, seed=0).rollout(10)
    fig = plot_puck(rollout_td)
    top, bottom = fig.axes
    assert len(top.lines) == 2 and len(bottom.patches) == 10
    with pytest.raises(ValueError, match="PuckEnv rollout"):
        plot_puck(rollout_td.exclude("action"))
