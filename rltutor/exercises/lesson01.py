"""Checks for lesson 01 (a policy as a TensorDictModule, reading a rollout).

    >>> from rltutor.exercises import lesson01 as ex
    >>> ex.check_episode_return(None, None).status
    'not done yet'
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDict, TensorDictBase
from tensordict.nn import TensorDictModuleBase
from torch import nn

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_bounded_policy", "check_episode_return"]

# Pendulum-v1 torques live in [-MAX_TORQUE, MAX_TORQUE]; its observation has 3 entries.
MAX_TORQUE = 2.0
FULL_RANGE = 0.95  # a bounded policy reaches this share of the bound on extreme inputs
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


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-5 * max(1.0, abs(b))


@exercise("set `episode_return` to the sum of the rewards of the episode in `long_td`")
def check_episode_return(episode_return: Any, long_td: TensorDictBase) -> Feedback:
    """Is ``episode_return`` the sum of every reward of ``long_td`` (its ``next`` rewards)?

    >>> rewards = torch.tensor([[-1.5], [-0.7], [-0.2]])
    >>> long_td = TensorDict({"next": {"reward": rewards}}, batch_size=[3])
    >>> check_episode_return(long_td["next", "reward"].sum(), long_td).status
    'correct'

    The reward of the first step, what the nearest cell reads, is not the return:

    >>> print(check_episode_return(long_td["next", "reward"][0], long_td))
    ✗ Not yet right: -1.5000 is the reward of step 0 only; the episode has 3 steps
      Hint: the return adds up what the environment gave back at every step of the episode
    """
    rewards = long_td["next", "reward"].reshape(-1)
    steps = rewards.numel()
    if isinstance(episode_return, torch.Tensor) and episode_return.numel() > 1:
        return wrong(
            f"you gave {episode_return.numel()} numbers; the return is one number",
            "add the rewards up along the time dimension (the rollout's batch dimension)",
        )
    value = _as_float(episode_return)
    if value is None:
        return wrong(
            f"expected one number (a float or a one-element tensor), got "
            f"{_describe(episode_return)}",
            "rewards live under the 'next' sub-TensorDict, one per step",
        )
    total = float(rewards.sum())
    if _close(value, total):
        return correct(
            f"{value:.2f} over {steps} steps: each step's reward sits under 'next', the "
            "result of that step's action, and the return adds them all up."
        )
    if _close(value, total / steps):
        return wrong(
            f"{value:.4f} is the average reward per step, not the return",
            "the return adds the rewards up; it does not divide by the number of steps",
        )
    nearest = int((rewards - value).abs().argmin())
    if _close(value, float(rewards[nearest])):
        return wrong(
            f"{value:.4f} is the reward of step {nearest} only; the episode has {steps} steps",
            "the return adds up what the environment gave back at every step of the episode",
        )
    partial = torch.cumsum(rewards, 0).tolist()
    short = [n + 1 for n, r in enumerate(partial) if _close(value, r)]
    if short:
        return wrong(
            f"{value:.2f} adds up the first {short[0]} of the episode's {steps} rewards",
            "is this the rollout of the whole episode? use every step of `long_td`",
        )
    if _close(value, total - float(rewards[0])):
        return wrong(f"{value:.2f} leaves out the reward of step 0",
                     "every step of the episode earned a reward, the first one too")
    return wrong(
        f"{value:.2f} is not the sum of this episode's rewards",
        "where does a rollout keep the rewards? add them up over all the steps",
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
            f"actions reach [{low:.2f}, {high:.2f}]: nothing in the network limits its output",
            "a linear layer's output grows with its input: the network needs a last step "
            "whose output cannot leave [-2, 2]",
        )
    if float(action.std()) < 1e-6:
        return wrong(
            "the action is the same for every observation: that ignores what it reads",
            "keep a (Lazy)Linear layer in front of the squashing layer",
        )
    if max(-low, high) < FULL_RANGE * MAX_TORQUE:
        return wrong(
            f"even on extreme observations the torque stays within [{low:.2f}, {high:.2f}]: "
            "the policy can never use the motor's full strength",
            "the squashing step's output range should match the action spec, [-2, 2]",
        )
    return correct(
        f"on 256 observations, even extreme ones, the torque stays in [{low:.2f}, {high:.2f}]."
    )
