"""Which steps an exploration module changed, recorded while the rollout runs.

A step's action can differ from the deterministic one for two reasons: the policy
*sampled* it from a distribution, or an exploration module (``EGreedyModule``, the noise
modules) *replaced* what the policy gave it. Comparing the final action with the
deterministic one mixes the two; :func:`record_replaced` tells them apart by looking at
each exploration module's own input and output at the moment it runs.

    >>> import rltutor
    >>> env = rltutor.make_env("CartPole-v1")
    >>> policy = rltutor.with_egreedy(rltutor.make_categorical_actor(env), env, eps=0.0)
    >>> with record_replaced(policy) as recorder:
    ...     td = rltutor.rollout(env, policy, steps=20, exploration="random")
    >>> bool(recorder.result(td).any())  # eps = 0: samples, but nothing replaced
    False
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from rltutor._exploration import exploration_modules
from rltutor._greedy import explored_mask

__all__ = ["ReplacementRecorder", "record_replaced"]


class ReplacementRecorder:
    """One mask per policy call: where an exploration module changed the action it got.

    Args:
        policy: the policy the rollout runs.
        action_key: the key the exploration modules rewrite.
    """

    def __init__(self, policy: Any, action_key: str = "action") -> None:
        self.policy, self.action_key = policy, action_key
        found = exploration_modules(policy)
        self.modules = found["egreedy"] + found["noise"]
        self.active = bool(self.modules) and isinstance(policy, nn.Module)
        self.steps: list[torch.Tensor | None] = []
        self._current: torch.Tensor | None = None
        self._given: Any = None
        self._handles: list[Any] = []

    def _start(self, module: nn.Module, args: tuple) -> None:
        self._current = None

    def _end(self, module: nn.Module, args: tuple, output: Any) -> None:
        self.steps.append(self._current)

    def _action_in(self, module: nn.Module, args: tuple) -> None:
        action = args[0].get(self.action_key, None) if args and hasattr(args[0], "get") else None
        self._given = None if action is None else action.clone()

    def _action_out(self, module: nn.Module, args: tuple, output: Any) -> None:
        if self._given is None or not hasattr(output, "get"):
            return
        changed = explored_mask(output.get(self.action_key), self._given,
                                batch_dims=output.batch_dims)
        self._current = changed if self._current is None else self._current | changed

    @contextmanager
    def _hooked(self) -> Iterator[ReplacementRecorder]:
        if self.active:
            self._handles = [self.policy.register_forward_pre_hook(self._start),
                             self.policy.register_forward_hook(self._end)]
            for module in self.modules:
                self._handles += [module.register_forward_pre_hook(self._action_in),
                                  module.register_forward_hook(self._action_out)]
        try:
            yield self
        finally:
            for handle in self._handles:
                handle.remove()
            self._handles = []

    def result(self, td: Any) -> torch.Tensor:
        """A bool per step of the rollout ``td`` (``[T]`` or ``[envs, T]``): True where an
        exploration module changed the action.

        Args:
            td: the rollout the recorded calls produced.
        """
        nothing = torch.zeros(td.batch_size, dtype=torch.bool, device=td.device)
        length = td.shape[-1]
        # a call before the rollout (lazy layers getting their weights) is not a step
        steps = self.steps[-length:]
        if not self.active or len(steps) != length:
            return nothing
        time_dim = td.batch_dims - 1
        at = (slice(None),) * time_dim
        parts = [nothing[(*at, t)] if s is None else s.to(td.device)
                 for t, s in enumerate(steps)]
        return torch.stack(parts, time_dim)


@contextmanager
def record_replaced(policy: Any, action_key: str = "action") -> Iterator[ReplacementRecorder]:
    """Record, for every policy call inside the block, where an exploration module changed
    the action (see :class:`ReplacementRecorder`).

    Args:
        policy: the policy the rollout inside the block runs.
        action_key: the key the exploration modules rewrite.

    >>> import rltutor
    >>> env = rltutor.make_env("Pendulum-v1")
    >>> policy = rltutor.with_gaussian_noise(rltutor.make_actor(env), env, sigma=0.5)
    >>> with record_replaced(policy) as recorder:
    ...     td = rltutor.rollout(env, policy, steps=10, exploration="random")
    >>> recorder.result(td).float().mean().item()
    1.0
    """
    recorder = ReplacementRecorder(policy, action_key)
    with recorder._hooked():
        yield recorder
