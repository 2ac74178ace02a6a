"""The numbers a rollout plot draws, pulled out of a rollout TensorDict as numpy arrays.

Pure code: no matplotlib here, so what a plot shows can be tested number by number.

    >>> import torch
    >>> from tensordict import TensorDict
    >>> td = TensorDict({"action": torch.tensor([[0.5], [-0.5]]),
    ...                  "next": {"reward": torch.ones(2, 1),
    ...                           "done": torch.zeros(2, 1, dtype=torch.bool)}}, batch_size=[2])
    >>> rollout_series(td).reward.tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rltutor._greedy import action_leaves
from rltutor.envs import observation_names

__all__ = ["MAX_OBSERVATION_LINES", "ActionSeries", "RolloutSeries", "action_choices",
           "names_for", "rollout_series"]

MAX_OBSERVATION_LINES = 8


@dataclass
class ActionSeries:
    """One part of the action (the whole action unless it is composite), per step."""

    name: str  # "action", or the part's key in a composite action ("direction")
    values: np.ndarray  # (..., T, A) continuous values, or (..., T) index when discrete
    discrete: bool
    num_actions: int | None  # choices when discrete
    greedy: np.ndarray | None  # same shape: what the policy does without exploring
    explored: np.ndarray | None  # (..., T) bool: this part differs from the greedy one

    @property
    def width(self) -> int:
        """Lines this part draws: 1 for a discrete part, A for a continuous one."""
        return 1 if self.discrete else int(self.values.shape[-1])


@dataclass
class RolloutSeries:
    """The numbers a rollout plot draws, as numpy arrays indexed by time step.

    Arrays keep the rollout's batch dims: ``(T, ...)`` for one environment, ``(B, T, ...)``
    for a batched one (``num_envs`` = B; more leading dims are flattened into B).
    """

    steps: np.ndarray  # (T,) step index
    observation: np.ndarray | None  # (..., T, D) or None when there is no vector observation
    observation_names: list[str]
    actions: list[ActionSeries]  # one per part of the action
    reward: np.ndarray  # (..., T)
    done: np.ndarray  # (..., T) bool: the step ended an episode
    explored: np.ndarray | None  # (..., T) bool, or None when unknown
    num_envs: int = 1
    batched: bool = False

    def per_env(self, array: np.ndarray | None) -> np.ndarray | None:
        """``array`` with a leading env dim, also for a single env's rollout."""
        return array if array is None or self.batched else array[None]


def _numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().to("cpu").float().numpy() if x.is_floating_point() else x.cpu().numpy()


def _as_discrete(
    action: torch.Tensor, batch: int = 1, choices: int | None = None
) -> tuple[bool, np.ndarray, int | None]:
    """(discrete?, values, number of choices). One-hot and integer actions are discrete.

    ``batch`` leading dims index steps (and envs); ``choices`` is the spec's count, if known.
    """
    lead = action.shape[:batch]
    if action.is_floating_point():
        return False, _numpy(action.reshape(*lead, -1)), None
    if action.dtype == torch.bool or (action.ndim == batch + 1 and action.shape[-1] > 1):
        # one-hot (the action spec of CartPole in TorchRL): index of the 1
        return True, _numpy(action.long().argmax(-1)), int(action.shape[-1])
    index = _numpy(action.reshape(*lead, -1)[..., 0])
    seen = int(index.max()) + 1 if index.size else 1
    return True, index, max(seen, choices or 0)


def _action_series(
    name: str, taken: torch.Tensor, greedy: Any, explored: np.ndarray | None,
    batch: int, choices: int | None, compare: bool,
) -> ActionSeries:
    discrete, values, n = _as_discrete(taken, batch, choices)
    greedy_values = None
    if greedy is not None:
        greedy = torch.as_tensor(greedy)
        if discrete:
            greedy_values = (_as_discrete(greedy, batch)[1] if greedy.ndim == batch + 1
                             else _numpy(greedy.reshape(greedy.shape[:batch])))
        else:
            greedy_values = _numpy(greedy.reshape(*greedy.shape[:batch], -1))
    part_explored = explored
    if compare and explored is not None and greedy_values is not None:
        # a composite step explored if any part did: mark only the parts that differ
        differs = values != greedy_values if discrete else np.abs(values - greedy_values) > 1e-5
        part_explored = explored & (differs if discrete else differs.any(-1))
    return ActionSeries(name, values, discrete, n, greedy_values, part_explored)


def rollout_series(
    td: Any,
    *,
    explored: Any = None,
    greedy_action: Any = None,
    observation_names: Sequence[str] | None = None,
    action_choices: dict[str, int] | None = None,
) -> RolloutSeries:
    """Pull the plotted quantities out of a rollout TensorDict.

    Works for one environment's rollout (batch ``[T]``) and for batched envs (``[B, T]``).
    A composite action (a TensorDict under ``"action"``) gives one :class:`ActionSeries`
    per part, log-probabilities left out. ``explored`` (a bool per step, shaped like the
    rollout's batch) marks exploratory steps. Without it, a rollout that holds
    ``action_value`` (a Q-value policy) counts a step as exploratory when the action
    taken is not the one with the highest value. ``greedy_action`` is the action the
    policy takes without exploring (a tensor, or a TensorDict for a composite action).
    ``observation_names`` label the observation entries (``obs[i]`` where missing);
    ``action_choices`` gives the number of choices of discrete parts, by part name.

    Args:
        td: a rollout TensorDict (batch ``[T]`` or ``[envs, T]``).
        explored: a bool per step marking exploratory steps, or None.
        greedy_action: the action without exploring (tensor or TensorDict), or None.
        observation_names: labels of the observation entries.
        action_choices: number of choices of each discrete action part, by name.

    >>> from rltutor import make_env, make_actor, rollout
    >>> env = make_env("Pendulum-v1")
    >>> s = rollout_series(rollout(env, make_actor(env), steps=20))
    >>> s.reward.shape, s.observation.shape, s.actions[0].discrete
    ((20,), (20, 3), False)
    """
    if not hasattr(td, "batch_dims") or td.batch_dims < 1:
        raise ValueError(
            "a rollout must be a TensorDict with a time dimension (batch [T] or [envs, T]), "
            f"got {type(td).__name__} with batch size {tuple(getattr(td, 'batch_size', ()))}"
        )
    if "action" not in td.keys():
        raise ValueError(
            f"a rollout must hold an 'action' entry; this TensorDict has: {sorted(td.keys())}"
        )
    batched = td.batch_dims > 1
    if td.batch_dims > 2:  # e.g. [workers, envs, T]: every trajectory is one "env"
        td = td.reshape(-1, td.shape[-1])
    batch = td.batch_dims
    lead = tuple(td.shape)
    steps = np.arange(td.shape[-1])
    observation, names = None, []
    if "observation" in td.keys():
        obs = td["observation"]
        if obs.ndim == batch + 1:  # (..., T, D) vector observation; pixels are not drawn here
            observation = _numpy(obs)[..., :MAX_OBSERVATION_LINES]
            given = list(observation_names or ())
            names = [given[i] if i < len(given) else f"obs[{i}]"
                     for i in range(observation.shape[-1])]
    reward = _numpy(td["next", "reward"].reshape(*lead, -1).sum(-1))
    done = _numpy(td["next", "done"].reshape(*lead, -1).any(-1)).astype(bool)

    parts = action_leaves(td["action"])
    if not parts:
        raise ValueError("the rollout's 'action' has no entries to draw")
    composite = not isinstance(td["action"], torch.Tensor)
    if explored is None and not composite and "action_value" in td.keys():
        discrete, index, _ = _as_discrete(td["action"], batch)
        if discrete:
            best = td["action_value"].argmax(-1).cpu().numpy()
            explored = index.reshape(best.shape) != best
            if greedy_action is None:
                greedy_action = torch.as_tensor(best)
    if explored is not None:
        explored = np.asarray(_numpy(torch.as_tensor(explored)), dtype=bool)
        if explored.size != int(np.prod(lead)):
            raise ValueError(
                f"explored must have one entry per step (shape {lead}), "
                f"got {tuple(explored.shape)}"
            )
        explored = explored.reshape(lead)
    choices = action_choices or {}
    actions = []
    for name, taken in parts:
        if greedy_action is None:
            greedy = None
        elif composite:
            greedy = greedy_action.get(tuple(name.split(".")), None)
        else:
            greedy = greedy_action
        actions.append(_action_series(name, taken, greedy, explored, batch,
                                      choices.get(name), compare=composite))
    series = RolloutSeries(steps, observation, names, actions, reward, done, explored,
                           num_envs=lead[0] if batched else 1, batched=batched)
    return series


def action_choices(env: Any) -> dict[str, int]:
    """Number of choices of each discrete action part, from the env's action spec.

    Args:
        env: an environment, or None (no choices known).

    >>> from rltutor import make_env
    >>> action_choices(make_env("CartPole-v1"))
    {'action': 2}
    """
    spec = getattr(env, "full_action_spec", None) if env is not None else None
    if spec is None or "action" not in spec.keys():
        return {}
    spec = spec["action"]
    leaves = spec.items(True, True) if hasattr(spec, "items") else [("action", spec)]
    choices = {}
    for key, leaf in leaves:
        n = getattr(getattr(leaf, "space", None), "n", None)
        if isinstance(n, int):
            name = key if isinstance(key, str) else ".".join(key)
            choices[name] = n
    return choices


def names_for(names: Sequence[str] | None, env: Any, td: Any) -> list[str] | None:
    """Observation labels: ``names`` if given, else the env's (None: none known).

    Args:
        names: the labels the caller gave, or None.
        env: the environment the rollout came from, or None.
        td: the rollout (its observation size picks how many names).

    >>> names_for(["x", "v"], None, None)
    ['x', 'v']
    """
    if names is not None:
        if isinstance(names, str):
            raise ValueError(f"observation_names must be a list of names, got the string {names!r}")
        return [str(n) for n in names]
    if env is None:
        return None
    obs = td.get("observation", None) if hasattr(td, "get") else None
    size = int(obs.shape[-1]) if obs is not None and obs.ndim >= 1 else None
    return observation_names(env, size)
