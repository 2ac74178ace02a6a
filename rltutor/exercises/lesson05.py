"""Checks for lesson 05 (Q-value actors).

>>> from rltutor.exercises import lesson05 as ex
>>> ex.check_qvalue_policy(None, None).status
'not done yet'
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModuleBase, TensorDictSequential
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import EGreedyModule, QValueModule

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_overridden_steps", "check_qvalue_policy"]

_KEYS = ("action_value", "action", "chosen_action_value")


def _check_value_net(q_policy: TensorDictModuleBase, td: TensorDictBase, n: int) -> Feedback | None:
    # Run the modules before the QValueModule alone, so a wrong value network is named
    # as such instead of surfacing as an error from inside QValueModule.
    if isinstance(q_policy, QValueModule):
        return wrong(
            "your answer is a QValueModule alone: nothing computes the action values",
            "put a value network writing 'action_value' before it, in a TensorDictSequential",
        )
    if not isinstance(q_policy, TensorDictSequential):
        return None
    with torch.no_grad():
        for module in q_policy.module:
            if isinstance(module, QValueModule):
                break
            td = module(td)
    if "action_value" not in td.keys():
        made = sorted(k for k in td.keys() if k not in ("done", "terminated", "truncated"))
        return wrong(
            f"before the QValueModule, the TensorDict has {made} but no 'action_value'",
            "the value network must write 'action_value' (QValueModule reads that key): "
            "out_keys=['action_value']",
        )
    size = td["action_value"].shape[-1]
    if size != n:
        return wrong(
            f"action_value has {size} entries per step; CartPole has {n} actions",
            f"the network's last layer needs out_features={n}: one value per action",
        )
    return None


@exercise("set `q_policy_mine` to a value network followed by a QValueModule")
def check_qvalue_policy(q_policy: Any, env: Any) -> Feedback:
    """Does ``q_policy`` write action_value, its one-hot argmax and the chosen value?

    >>> check_qvalue_policy(None, env).status  # doctest: +SKIP
    'not done yet'
    """
    if not isinstance(q_policy, TensorDictModuleBase):
        return wrong(
            f"your answer is a {type(q_policy).__name__}, not a TensorDict module",
            "chain TensorDictModule(net, in_keys=['observation'], out_keys=['action_value']) "
            "and QValueModule(spec=env.action_spec) in a TensorDictSequential",
        )
    if not any(isinstance(m, QValueModule) for m in q_policy.modules()):
        return wrong(
            "there is no QValueModule in your policy: nothing turns action values into an action",
            "add QValueModule(spec=env.action_spec) after the value network",
        )
    if any(isinstance(m, EGreedyModule) for m in q_policy.modules()):
        return wrong(
            "your policy contains an EGreedyModule; this exercise asks for the greedy policy",
            "leave exploration out; it is added on top later",
        )
    n = env.action_spec.space.n
    torch.manual_seed(0)
    env.set_seed(0)
    problem = _check_value_net(q_policy, env.reset(), n)
    if problem is not None:
        return problem
    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
        td = env.rollout(20, q_policy)
    missing = [k for k in _KEYS if k not in td.keys()]
    if missing:
        return wrong(
            f"the rollout has no {', '.join(map(repr, missing))}; it has "
            f"{sorted(k for k in td.keys() if k != 'next')}",
            "the value network must write 'action_value' (QValueModule reads that key)",
        )
    values, action = td["action_value"], td["action"]
    if values.shape[-1] != n:
        return wrong(
            f"action_value has {values.shape[-1]} entries per step; CartPole has {n} actions",
            f"the network's last layer needs out_features={n}: one value per action",
        )
    if action.shape[-1] != n or not bool(((action == 0) | (action == 1)).all()):
        return wrong(
            f"action has shape {tuple(action.shape[1:])} per step, not a one-hot vector of {n} "
            "like CartPole's action spec",
            "give QValueModule the spec by keyword, QValueModule(spec=env.action_spec), "
            "and no action_space",
        )
    if not torch.equal(action.argmax(-1), values.argmax(-1)):
        return wrong(
            "the action is not the argmax of action_value at every step",
            "QValueModule should pick the action with the largest value",
        )
    best = values.max(-1, keepdim=True).values
    if not torch.allclose(td["chosen_action_value"], best):
        return wrong(
            "chosen_action_value is not the largest action value",
            "let QValueModule write chosen_action_value",
        )
    return correct(
        f"over a {len(td)}-step episode, every action is the one-hot argmax of action_value and "
        "chosen_action_value = the max."
    )


@exercise("set `overridden` to a boolean tensor: True where e-greedy replaced the action")
def check_overridden_steps(overridden: Any, rollout_td: TensorDictBase) -> Feedback:
    """Did the learner find the steps where the action is not the argmax of action_value?

    >>> check_overridden_steps(None, None).status  # doctest: +SKIP
    'not done yet'
    """
    truth = rollout_td["action"].argmax(-1) != rollout_td["action_value"].argmax(-1)
    if not isinstance(overridden, torch.Tensor):
        return wrong(
            f"`overridden` is a {type(overridden).__name__}; expected a torch.Tensor of bools",
            "compare two argmaxes with !=, which gives a bool tensor",
        )
    if overridden.dtype != torch.bool:
        return wrong(
            f"`overridden` has dtype {overridden.dtype}; expected torch.bool",
            "a comparison such as a != b gives bools",
        )
    if overridden.shape != truth.shape:
        return wrong(
            f"`overridden` has shape {tuple(overridden.shape)}, expected {tuple(truth.shape)} "
            "(one entry per step)",
            "take argmax(-1) of the one-hot actions and of action_value: one index per step",
        )
    if not torch.equal(overridden, truth):
        bad = (overridden != truth).nonzero().flatten().tolist()
        return wrong(
            f"wrong at steps {bad[:8]}{' ...' if len(bad) > 8 else ''}",
            "the greedy choice is action_value.argmax(-1); the action taken is "
            "action.argmax(-1) (actions are one-hot)",
        )
    return correct(
        f"e-greedy replaced the greedy action at {int(truth.sum())} of {len(truth)} steps "
        "(some random draws land on the greedy action by chance and don't show)."
    )
