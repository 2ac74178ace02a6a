"""The action a policy would have taken without exploring, recorded *during* the rollout.

Re-running a policy on a rollout's stored entries afterwards gives the wrong answer for
policies that overwrite their own inputs (an ``ObservationNorm`` inside the policy, an LSTM
whose ``out_keys`` equal its ``in_keys``): the stored entries are no longer what the policy
read. It also costs a second pass of the whole policy. Instead, :func:`record_greedy`
hooks the modules whose behaviour depends on the exploration type, at the moment they run:

* ``EGreedyModule`` and the noise modules (``AdditiveGaussianModule``, OU): the action
  they receive is the greedy one; a forward pre-hook copies it;
* a probabilistic module (``ProbabilisticActor``'s last step): a forward hook copies the
  distribution parameters it just read; after the rollout, that one small module runs
  once on all steps' parameters under ``DETERMINISTIC`` (not the network before it).

The first such module in a policy call decides the step's greedy action. A policy with
none of them does not explore, so its greedy action is the action taken, at no cost; the
same holds for any policy under the ``"deterministic"`` exploration type. ``RandomPolicy``
has no greedy action: every step is a random draw.

    >>> import rltutor
    >>> env = rltutor.make_env("CartPole-v1")
    >>> policy = rltutor.with_egreedy(rltutor.make_qvalue_policy(env), env, eps=0.5)
    >>> with record_greedy(policy, "random") as recorder:
    ...     td = rltutor.rollout(env, policy, steps=20, exploration="random")
    >>> greedy, explored = recorder.result(td)
    >>> 0 < int(explored.sum()) < 20
    True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from tensordict.nn import InteractionType, set_interaction_type
from torch import nn

from rltutor._exploration import exploration_modules, is_random_policy, keeps_last_of_window
from rltutor._keys import key_str
from rltutor.validation import check_exploration

__all__ = ["GreedyRecorder", "action_leaves", "explored_mask", "is_random_policy",
           "record_greedy"]


def action_leaves(action: Any) -> list[tuple[str, torch.Tensor]]:
    """The parts of an action as ``(name, tensor)``: one ``("action", t)`` for a plain tensor,
    one per leaf of a composite action (a TensorDict), log-probabilities left out.

    Args:
        action: a rollout's ``"action"`` entry.

    >>> from tensordict import TensorDict
    >>> a = TensorDict({"direction": torch.tensor([1]), "force": torch.ones(1, 1),
    ...                 "force_log_prob": torch.zeros(1)}, batch_size=[1])
    >>> [name for name, _ in action_leaves(a)]
    ['direction', 'force']
    """
    if isinstance(action, torch.Tensor):
        return [("action", action)]
    leaves = []
    for key in action.keys(include_nested=True, leaves_only=True):
        if key_str(key).endswith("log_prob"):  # written next to the sample; not an action
            continue
        leaves.append((key_str(key), action.get(key)))
    return leaves


def explored_mask(
    taken: Any, greedy: Any, *, atol: float = 1e-5, batch_dims: int | None = None
) -> torch.Tensor:
    """A bool per step: where the action ``taken`` is not the ``greedy`` (deterministic) one.

    ``taken``/``greedy`` are tensors (the first ``batch_dims`` dims index steps, 1 unless
    told) or composite actions (TensorDicts, compared leaf by leaf: a step explored if any
    part differs; their own batch dims count).

    Args:
        taken: the actions taken.
        greedy: the deterministic actions, same structure.
        atol: tolerance for continuous actions.
        batch_dims: leading dims that index steps (and envs).

    >>> explored_mask(torch.tensor([[0.0], [1.0]]), torch.tensor([[0.0], [0.5]]))
    tensor([False,  True])
    """
    if not isinstance(taken, torch.Tensor):
        dims = taken.batch_dims if batch_dims is None else batch_dims
        mask = torch.zeros(taken.batch_size[:dims], dtype=torch.bool, device=taken.device)
        for name, part in action_leaves(taken):
            other = greedy.get(tuple(name.split(".")), None)
            if other is None:
                raise ValueError(
                    f"the deterministic action has no {name!r} part; it has: "
                    f"{[n for n, _ in action_leaves(greedy)]}"
                )
            mask = mask.to(part.device) | explored_mask(part, other, atol=atol, batch_dims=dims)
        return mask
    dims = 1 if batch_dims is None else batch_dims
    greedy = greedy.to(taken.device)
    batch = taken.shape[:dims]
    if taken.is_floating_point():
        diff = (taken - greedy).abs().reshape(*batch, -1)
        return (diff > atol).any(-1)
    return (taken != greedy).reshape(*batch, -1).any(-1)


class GreedyRecorder:
    """Collects one greedy action per policy call while :func:`record_greedy` is active.

    Args:
        policy: the policy the rollout runs.
        exploration: the exploration type of the rollout.
        action_key: the key whose greedy value is recorded.
    """

    def __init__(self, policy: Any, exploration: Any, action_key: str = "action") -> None:
        self.policy, self.action_key = policy, action_key
        found = exploration_modules(policy)
        deterministic = (exploration is not None
                         and check_exploration(exploration) is InteractionType.DETERMINISTIC)
        # nothing here explores (or nothing may): greedy == taken, nothing to record
        self.active = any(found.values()) and not deterministic and isinstance(policy, nn.Module)
        self._before = found["egreedy"] + found["noise"]
        self._after = found["probabilistic"]
        # a Decision Transformer wrapper's actor acts on the whole context window, and the
        # wrapper keeps the window's last action: so does the greedy one
        self._window = keeps_last_of_window(policy)
        self.steps: list[Any] = []  # one entry per policy call: the greedy action or None
        self._current: Any = None
        self._handles: list[Any] = []

    # -- hooks ------------------------------------------------------------------------
    def _start(self, module: nn.Module, args: tuple) -> None:
        self._current = None

    def _end(self, module: nn.Module, args: tuple, output: Any) -> None:
        self.steps.append(self._current)

    def _action_in(self, module: nn.Module, args: tuple) -> None:
        if self._current is None and args and hasattr(args[0], "get"):
            action = args[0].get(self.action_key, None)
            self._current = None if action is None else action.clone()

    def _params_in(self, module: nn.Module, args: tuple, output: Any) -> None:
        if self._current is None and args and hasattr(args[0], "select"):
            # the distribution's parameters, turned into actions after the rollout
            self._current = _Params(module, args[0].select(*module.in_keys, strict=False)
                                    .clone())

    @contextmanager
    def _hooked(self) -> Iterator[GreedyRecorder]:
        if self.active:
            self._handles = [self.policy.register_forward_pre_hook(self._start),
                             self.policy.register_forward_hook(self._end)]
            self._handles += [m.register_forward_pre_hook(self._action_in) for m in self._before]
            self._handles += [m.register_forward_hook(self._params_in) for m in self._after]
        try:
            yield self
        finally:
            for handle in self._handles:
                handle.remove()
            self._handles = []

    # -- the answer -------------------------------------------------------------------
    def result(self, td: Any) -> tuple[Any, torch.Tensor]:
        """``(greedy, explored)`` for the rollout ``td`` recorded: the greedy action per step
        (None for ``RandomPolicy``, which has none) and a bool mask of explored steps.

        Args:
            td: the rollout the recorded calls produced (``[T]`` or ``[envs, T]``).
        """
        taken = td.get(self.action_key)
        batch = td.batch_size
        if is_random_policy(self.policy):  # every action is a draw from the spec
            return None, torch.ones(batch, dtype=torch.bool, device=td.device)
        if not self.active or not any(s is not None for s in self.steps):
            return taken, torch.zeros(batch, dtype=torch.bool, device=td.device)
        time_dim, length = td.batch_dims - 1, td.shape[-1]
        # a call before the rollout (lazy layers getting their weights) is not a step
        steps = _deterministic(self.steps[-length:], time_dim, self.action_key)
        if self._window:
            steps = [None if s is None else s[..., -1, :] for s in steps]
        at = (slice(None),) * time_dim
        parts = [taken[(*at, t)] if s is None else s.to(taken.device)
                 for t, s in enumerate(steps)]
        greedy = torch.stack(parts, time_dim)
        return greedy, explored_mask(taken, greedy, batch_dims=td.batch_dims)


class _Params:
    """A probabilistic module and the distribution parameters it read at one step."""

    def __init__(self, module: nn.Module, params: Any) -> None:
        self.module, self.params = module, params


def _deterministic(steps: list[Any], time_dim: int, action_key: str) -> list[Any]:
    """``steps`` with each recorded set of distribution parameters replaced by its
    deterministic action: one call of the probabilistic module for all of its steps."""
    steps = list(steps)
    modules = {id(s.module): s.module for s in steps if isinstance(s, _Params)}
    for key, module in modules.items():
        where = [t for t, s in enumerate(steps) if isinstance(s, _Params) and id(s.module) == key]
        params = torch.stack([steps[t].params for t in where], time_dim)
        with torch.no_grad(), set_interaction_type(InteractionType.DETERMINISTIC):
            actions = module(params).get(action_key, None)
        at = (slice(None),) * time_dim
        for i, t in enumerate(where):
            steps[t] = None if actions is None else actions[(*at, i)]
    return steps


@contextmanager
def record_greedy(policy: Any, exploration: Any,
                  action_key: str = "action") -> Iterator[GreedyRecorder]:
    """Record the greedy action of every policy call made inside the ``with`` block.

    Args:
        policy: the policy the rollout inside the block runs.
        exploration: the exploration type of that rollout (``"random"``, ...).
        action_key: the key whose greedy value is recorded.

    >>> from rltutor import make_env, make_actor, rollout
    >>> env = make_env("Pendulum-v1")
    >>> with record_greedy(make_actor(env), "deterministic") as recorder:
    ...     td = rollout(env, make_actor(env), steps=5)
    >>> bool(recorder.result(td)[1].any())
    False
    """
    recorder = GreedyRecorder(policy, exploration, action_key)
    with recorder._hooked():
        yield recorder
