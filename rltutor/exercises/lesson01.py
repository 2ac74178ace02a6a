"""Checks for lesson 01 (a policy as a TensorDictModule, reading a rollout).

    >>> from rltutor.exercises import lesson01 as ex
    >>> ex.check_first_reward(None, None).status
    'not done yet'
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDict, TensorDictBase
from tensordict.nn import TensorDictModuleBase
from torch import nn

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_bounded_policy", "check_first_reward"]

# Pendulum-v1 torques live in [-MAX_TORQUE, MAX_TORQUE]; its observation has 3 entries.
MAX_TORQUE = 2.0
OBS_SIZE = 3


def _as_float(value: Any) -> float | None:
    if isinstance(value, torch.Tensor):
        return float(value.reshape(())) if value.numel() == 1 else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


@exercise("set `first_reward` to the reward the environment gave for the first action")
def check_first_reward(first_reward: Any, rollout_td: TensorDictBase) -> Feedback:
    """Is ``first_reward`` the reward of step 0 of ``rollout_td``, i.e. ``["next", "reward"][0]``?

    >>> rewards = torch.tensor([[-1.5], [-0.7], [-0.2]])
    >>> rollout_td = TensorDict({"next": {"reward": rewards}}, batch_size=[3])
    >>> check_first_reward(rollout_td["next", "reward"][0], rollout_td).status
    'correct'
    >>> print(check_first_reward(rollout_td["next", "reward"][1], rollout_td))
    ✗ Not yet right: -0.7000 is the reward of step 1, not of the first step
      Hint: the first step has index 0 along the rollout's batch dimension
    """
    rewards = rollout_td["next", "reward"].reshape(-1)
    if isinstance(first_reward, torch.Tensor) and first_reward.numel() == rewards.numel() > 1:
        return wrong(
            f"you gave all {rewards.numel()} rewards of the rollout, not just the first",
            "index the time dimension (the batch dimension of the rollout) with [0]",
        )
    value = _as_float(first_reward)
    if value is None:
        return wrong(
            f"expected one number (a float or a one-element tensor), got {_describe(first_reward)}",
            "rewards live under the 'next' sub-TensorDict: rollout_td['next', 'reward']",
        )
    if abs(value - float(rewards[0])) < 1e-5:
        return correct(
            f"{value:.4f}: rewards sit under 'next' because they are the result of an action, "
            "and step 0's reward is the first row."
        )
    matches = [i for i, r in enumerate(rewards.tolist()) if abs(r - value) < 1e-5]
    if matches:
        return wrong(
            f"{value:.4f} is the reward of step {matches[0]}, not of the first step",
            "the first step has index 0 along the rollout's batch dimension",
        )
    return wrong(
        f"{value:.4f} is not a reward of this rollout",
        "read it with rollout_td['next', 'reward'][0] (rewards are not at the root)",
    )


def _probe_observations(n: int = 256) -> TensorDict:
    # Both calm and extreme observations: a policy must stay bounded on all of them.
    gen = torch.Generator().manual_seed(1)
    obs = torch.randn(n, OBS_SIZE, generator=gen) * torch.linspace(0.1, 100.0, n).unsqueeze(-1)
    return TensorDict(observation=obs, batch_size=[n])


@exercise("set `bounded_policy` to a TensorDictModule reading 'observation' and writing 'action'")
def check_bounded_policy(bounded_policy: Any) -> Feedback:
    """Does ``bounded_policy`` map ``observation`` to an ``action`` that stays in [-2, 2]?

    >>> from tensordict.nn import TensorDictModule
    >>> policy = TensorDictModule(
    ...     nn.Sequential(nn.LazyLinear(1), nn.Hardtanh(-2, 2)), ["observation"], ["action"])
    >>> check_bounded_policy(policy).status
    'correct'
    """
    if isinstance(bounded_policy, nn.Module) and not isinstance(
        bounded_policy, TensorDictModuleBase
    ):
        return wrong(
            f"`bounded_policy` is a plain {type(bounded_policy).__name__}: it takes tensors, "
            "not TensorDicts",
            "wrap it: TensorDictModule(your_module, in_keys=['observation'], out_keys=['action'])",
        )
    if not isinstance(bounded_policy, TensorDictModuleBase):
        return wrong(
            f"`bounded_policy` is a {type(bounded_policy).__name__}, not a TensorDictModule",
            "build it with tensordict.nn.TensorDictModule(module, in_keys=..., out_keys=...)",
        )
    if list(bounded_policy.in_keys) != ["observation"]:
        return wrong(
            f"the policy reads {list(bounded_policy.in_keys)}, but Pendulum gives 'observation'",
            "use in_keys=['observation']",
        )
    if "action" not in bounded_policy.out_keys:
        return wrong(
            f"the policy writes {list(bounded_policy.out_keys)}; the environment reads 'action'",
            "use out_keys=['action']",
        )
    # lazy layers draw their weights on this first call: keep the learner's RNG untouched
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        td = bounded_policy(_probe_observations())
    action = td["action"]
    if action.shape != (td.batch_size[0], 1):
        return wrong(
            f"for 256 observations the action has shape {tuple(action.shape)}, expected (256, 1)",
            "Pendulum has one torque: the last layer needs 1 output feature",
        )
    low, high = float(action.min()), float(action.max())
    if low < -MAX_TORQUE - 1e-6 or high > MAX_TORQUE + 1e-6:
        return wrong(
            f"actions reach [{low:.2f}, {high:.2f}]; a Linear layer alone is unbounded",
            "end the network with a layer whose output stays in [-2, 2], e.g. nn.Hardtanh(-2, 2) "
            "or nn.Tanh() followed by a scaling by 2",
        )
    if float(action.std()) < 1e-6:
        return wrong(
            "the action is the same for every observation: that ignores what it reads",
            "keep a (Lazy)Linear layer in front of the squashing layer",
        )
    return correct(
        f"on 256 observations, even extreme ones, the torque stays in [{low:.2f}, {high:.2f}]."
    )
