"""Checks for lesson 05 (Q-value actors).

>>> from rltutor.exercises import lesson05 as ex
>>> ex.check_index_qvalue_policy(None, None).status
'not done yet'
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModuleBase, TensorDictSequential
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import EGreedyModule, QValueModule

from rltutor.envs import env_id
from rltutor.exercises import Feedback, correct, exercise, not_done, wrong

__all__ = ["check_index_qvalue_policy", "check_overridden_fraction"]

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
            f"action_value has {size} entries per step; the env has {n} actions",
            f"the network's last layer needs out_features={n}: one value per action",
        )
    return None


_ENV_ID = "Acrobot-v1"


def _fresh_env(env_id: str) -> Any:
    # the check rolls out in an env of its own: the learner's env keeps its seed and state
    from torchrl.envs import GymEnv

    env = GymEnv(env_id, categorical_action_encoding=True)
    env.set_seed(0)
    return env


def _check_index_env(index_env: Any) -> Feedback | None:
    from torchrl.data import Categorical, OneHot


    if not hasattr(index_env, "action_spec") or not hasattr(index_env, "rollout"):
        return wrong(f"index_env is a {type(index_env).__name__}, not a TorchRL environment",
                     f"build it with torchrl.envs.GymEnv('{_ENV_ID}', ...)")
    name = env_id(index_env)
    if name != _ENV_ID:
        return wrong(f"index_env runs {name}; this exercise asks for {_ENV_ID}",
                     f"GymEnv('{_ENV_ID}', ...)")
    spec = index_env.action_spec
    if isinstance(spec, OneHot):
        return wrong("index_env's action spec is OneHot: its actions are one-hot vectors, "
                     "as CartPole's are",
                     "GymEnv has an argument that hands discrete actions over as indices: "
                     "look for it in help(GymEnv)")
    if not isinstance(spec, Categorical):
        return wrong(f"index_env's action spec is {type(spec).__name__}, not Categorical",
                     f"a plain GymEnv('{_ENV_ID}', ...) with index-encoded actions")
    return None


@exercise("set `index_env` and `index_policy`: a Q-value policy for Acrobot's index actions")
def check_index_qvalue_policy(index_policy: Any, index_env: Any) -> Feedback:
    """Is ``index_policy`` a greedy Q-value policy writing Acrobot's actions as indices?

    The check rolls the policy out in an env of its own (Acrobot-v1 with index actions,
    seeded), so ``index_env`` and torch's global generator are left as they were.

    >>> from tensordict.nn import TensorDictModule
    >>> from torchrl.envs import GymEnv
    >>> env = GymEnv("Acrobot-v1", categorical_action_encoding=True)
    >>> net = TensorDictModule(torch.nn.Linear(6, 3), in_keys=["observation"],
    ...                        out_keys=["action_value"])
    >>> check_index_qvalue_policy(TensorDictSequential(net, QValueModule(spec=env.action_spec)),
    ...                           env).status
    'correct'
    """
    if index_env is None:
        return not_done(f"set `index_env` to a {_ENV_ID} env whose actions are indices")
    problem = _check_index_env(index_env)
    if problem is not None:
        return problem
    if not isinstance(index_policy, TensorDictModuleBase):
        return wrong(
            f"your answer is a {type(index_policy).__name__}, not a TensorDict module",
            "chain a value network writing 'action_value' and a QValueModule in a "
            "TensorDictSequential",
        )
    qvalues = [m for m in index_policy.modules() if isinstance(m, QValueModule)]
    if not qvalues:
        return wrong(
            "there is no QValueModule in your policy: nothing turns action values into an action",
            "add a QValueModule after the value network",
        )
    if any(isinstance(m, EGreedyModule) for m in index_policy.modules()):
        return wrong(
            "your policy contains an EGreedyModule; this exercise asks for the greedy policy",
            "leave exploration out",
        )
    if qvalues[0].action_space != "categorical":
        return wrong(
            f"your QValueModule writes '{qvalues[0].action_space}' actions, but index_env "
            "takes one index per step",
            "QValueModule takes the action format from the spec it is given: which env's "
            "spec did you give it?",
        )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        env = _fresh_env(_ENV_ID)
        n = env.action_spec.space.n
        problem = _check_value_net(index_policy, env.reset(), n)
        if problem is not None:
            return problem
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
            td = env.rollout(20, index_policy)
    missing = [k for k in _KEYS if k not in td.keys()]
    if missing:
        return wrong(
            f"the rollout has no {', '.join(map(repr, missing))}; it has "
            f"{sorted(k for k in td.keys() if k != 'next')}",
            "the value network must write 'action_value' (QValueModule reads that key)",
        )
    values, action = td["action_value"], td["action"]
    if action.shape != td.batch_size or action.is_floating_point():
        return wrong(
            f"action has shape {tuple(action.shape[1:])} per step; an index action is one "
            "integer per step (shape ())",
            "let QValueModule read the format from index_env's spec",
        )
    if not torch.equal(action, values.argmax(-1)):
        return wrong("the action is not the index of the largest action_value at every step",
                     "QValueModule should pick the action with the largest value")
    best = values.max(-1, keepdim=True).values
    if not torch.allclose(td["chosen_action_value"], best):
        return wrong("chosen_action_value is not the largest action value",
                     "let QValueModule write chosen_action_value")
    return correct(
        f"over {len(td)} steps of {_ENV_ID}, each action is one index (e.g. "
        f"{action[:5].tolist()}), the argmax of the {n} action values, and "
        "chosen_action_value is their max. Same QValueModule as for CartPole: the spec "
        "alone decided the format."
    )


_EPS_TRIED = (0.0, 0.2, 0.6, 1.0)
_TOLERANCE = 0.1  # 300 steps: the fraction's spread is below 0.03


def _fractions(fn: Any) -> list[Any]:
    # each call on its own seeded generator: repeatable, and the lesson's stream untouched
    values = []
    for eps in _EPS_TRIED:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            values.append(fn(eps))
    return values


@exercise("define `overridden_fraction(eps)` returning the fraction of overridden steps")
def check_overridden_fraction(overridden_fraction: Any, num_actions: int = 2) -> Feedback:
    """Does ``overridden_fraction(eps)`` follow eps × (1 - 1/num_actions)?

    With probability eps the action is replaced by a random one, which lands on the greedy
    action 1/num_actions of the time: for CartPole's 2 actions, the fraction is eps / 2.

    >>> check_overridden_fraction(lambda eps: eps / 2).status
    'correct'
    >>> check_overridden_fraction(lambda eps: eps).status
    'wrong'
    """
    if not callable(overridden_fraction):
        return wrong(f"`overridden_fraction` is a {type(overridden_fraction).__name__}, "
                     "not a function", "def overridden_fraction(eps): ... return fraction")
    raw = _fractions(overridden_fraction)
    if any(v is None for v in raw):
        return not_done("make `overridden_fraction(eps)` return the fraction (a float)")
    try:
        got = [float(v) for v in raw]
    except (TypeError, ValueError, RuntimeError):
        return wrong(f"overridden_fraction(0.2) returned {raw[1]!r}, not one number",
                     "return a float: mask.float().mean().item()")
    expected = [eps * (1 - 1 / num_actions) for eps in _EPS_TRIED]
    shown = ", ".join(f"eps={e:g}: {g:.2f}" for e, g in zip(_EPS_TRIED, got))
    if all(abs(g - e) < 0.03 for g, e in zip(got, _EPS_TRIED)) and got[-1] > 0.9:
        return wrong(f"you return eps itself ({shown})",
                     "count the steps where the action differs from the argmax: a random "
                     "one-hot action is the greedy one half of the time")
    if max(got) - min(got) < 0.1:
        return wrong(f"the fraction hardly changes with eps ({shown})",
                     "build a new EGreedyModule(spec=env.action_spec, eps_init=eps, "
                     "eps_end=eps) inside the function; explored_td's actions were taken "
                     "with eps = 0.5")
    if got[0] > 0.02:
        return wrong(f"at eps=0 nothing is replaced, yet you count {got[0]:.2f}",
                     "compare action.argmax(-1) with action_value.argmax(-1) (!=)")
    off = [(e, g, x) for e, g, x in zip(_EPS_TRIED, got, expected) if abs(g - x) > _TOLERANCE]
    if off:
        eps, g, _ = off[0]
        return wrong(f"at eps={eps:g} you get {g:.2f} ({shown})",
                     "call the chain once on explored_td.select('observation').clone() and "
                     "compare action.argmax(-1) with action_value.argmax(-1)")
    return correct(f"{shown}: about eps / 2. With probability eps the action is replaced, "
                   f"and the random choice lands on the greedy action 1 time in "
                   f"{num_actions}, so only eps × (1 - 1/{num_actions}) of the steps change.")
