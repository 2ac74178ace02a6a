"""Offline data for lesson 12: Pendulum episodes from controllers of different quality.

A Decision Transformer learns from a fixed set of episodes, and it can only be asked
for returns that the set contains. This module makes such a set without downloads:
:class:`FeedbackController` is a simple controller whose ``effort`` sets how well it
does, :func:`make_offline_dataset` rolls several of them out and stacks the episodes
into one ``[episodes, time]`` TensorDict, and :func:`make_context_env` builds the
environment a Decision Transformer acts in (a target return that shrinks with every
reward, and the last ``context`` steps stacked for the model to read).

    >>> import torch
    >>> controller = FeedbackController(effort=1.0, noise=0.0)
    >>> controller(torch.tensor([1.0, 0.0, 0.0]))  # upright and still: no torque
    tensor([-0.])
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModule
from torch import nn

__all__ = [
    "CONTEXT_KEYS",
    "FeedbackController",
    "achieved_returns",
    "episode_returns",
    "make_context_env",
    "make_low_gravity_pendulum",
    "make_offline_dataset",
    "quiet_token_id_warning",
]

# where the stacked context lives in the environment's TensorDict (TorchRL's DT examples
# use the same names): the model reads these, the environment's own keys stay as they are
CONTEXT_KEYS = {
    "observation": "observation_cat",
    "action": "action_cat",
    "return_to_go": "return_to_go_cat",
}

_TOKEN_ID_NOTE = re.compile(
    r"(bos|eos)_token_id must be `None` or an integer within the vocabulary"
)


def _check_number(value: Any, name: str, *, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    return float(value)


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


class FeedbackController(nn.Module):
    """Pendulum torque ``-effort * (2 sin θ + ω)`` plus Gaussian noise, clipped to [-2, 2].

    On a low-gravity Pendulum (``g=2``, :func:`make_low_gravity_pendulum`) full effort
    pushes the pendulum up from anywhere and holds it there; a quarter of it only damps
    the swing, so the pendulum ends up hanging. Efforts in between give returns in
    between: one knob, a wide spread of episode returns.

    Args:
        effort: gain in [0, 1] (0: no torque, 1: swings up and balances).
        noise: standard deviation of the Gaussian noise added to every torque (>= 0).
        seed: seed of the controller's own noise generator, so episodes repeat.

    >>> FeedbackController(effort=0.5, noise=0.0)(torch.tensor([0.0, 1.0, 0.0]))
    tensor([-1.])
    """

    def __init__(self, effort: float = 1.0, noise: float = 0.2, seed: int = 0) -> None:
        super().__init__()
        self.effort = _check_number(effort, "effort", low=0.0, high=1.0)
        self.noise = _check_number(noise, "noise", low=0.0)
        self.generator = torch.Generator().manual_seed(int(seed))

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        sin_theta, omega = observation[..., 1:2], observation[..., 2:3]
        torque = -self.effort * (2.0 * sin_theta + omega)
        if self.noise:
            torque = torque + self.noise * torch.randn(torque.shape, generator=self.generator)
        return torque.clamp(-2.0, 2.0)

    def extra_repr(self) -> str:
        return f"effort={self.effort}, noise={self.noise}"


def make_low_gravity_pendulum(*, steps: int = 100, seed: int = 0) -> Any:
    """Gymnasium's Pendulum with gravity 2 (not 10), cut after ``steps`` steps, seeded.

    With weak gravity the motor (torque up to 2) can lift the pendulum directly, so a
    controller as simple as :class:`FeedbackController` swings it up, and a small model
    learns to copy it in seconds.

    Args:
        steps: episode length (gymnasium's ``max_episode_steps``; the episode is truncated).
        seed: seed of the environment's starting states.

    >>> env = make_low_gravity_pendulum(steps=5)
    >>> env.rollout(10).batch_size
    torch.Size([5])
    """
    from torchrl.envs import GymEnv

    env = GymEnv("Pendulum-v1", g=2.0, max_episode_steps=_check_count(steps, "steps"))
    env.set_seed(int(seed))
    return env


def make_offline_dataset(
    env: Any,
    *,
    efforts: Sequence[float] = (0.25, 0.5, 0.75, 1.0),
    episodes_per_effort: int = 15,
    steps: int = 100,
    noise: float = 0.2,
    seed: int = 0,
) -> TensorDictBase:
    """Roll out one :class:`FeedbackController` per effort, ``episodes_per_effort`` times.

    Every episode is cut at ``steps`` and its last step is marked as truncated (and done),
    so that return-to-go transforms find where each episode ends.

    Args:
        env: a TorchRL environment with Pendulum's observation (``[cos θ, sin θ, ω]``).
        efforts: the controllers' efforts, each in [0, 1].
        episodes_per_effort: episodes rolled out with each controller.
        steps: steps per episode.
        noise: torque noise of every controller.
        seed: seeds the controllers' noise (the environment keeps its own seed).

    Returns:
        A TensorDict of batch size ``[len(efforts) * episodes_per_effort, steps]`` with the
        rollouts' keys plus ``effort`` (the controller's effort at every step).

    >>> data = make_offline_dataset(make_low_gravity_pendulum(), efforts=(1.0,),
    ...                             episodes_per_effort=2, steps=5)
    >>> data.batch_size
    torch.Size([2, 5])
    """
    if isinstance(efforts, (int, float)) or not efforts:
        raise ValueError(f"efforts must be a non-empty sequence of numbers in [0, 1], got "
                         f"{efforts!r}")
    episodes_per_effort = _check_count(episodes_per_effort, "episodes_per_effort")
    steps = _check_count(steps, "steps")
    episodes = []
    for i, effort in enumerate(efforts):
        controller = FeedbackController(effort=effort, noise=noise, seed=seed + i)
        policy = TensorDictModule(controller, in_keys=["observation"], out_keys=["action"])
        for _ in range(episodes_per_effort):
            with torch.no_grad():
                episode = env.rollout(steps, policy, break_when_any_done=False)
            if episode.batch_size[0] != steps:
                raise RuntimeError(f"an episode had {episode.batch_size[0]} steps, not {steps}")
            episode["effort"] = torch.full((steps, 1), float(effort))
            episodes.append(_mark_end(episode))
    return torch.stack(episodes).contiguous()


def _mark_end(episode: TensorDictBase) -> TensorDictBase:
    for key in ("done", "truncated"):
        if ("next", key) in episode.keys(True):
            episode["next", key][-1] = True
    return episode


def episode_returns(data: TensorDictBase) -> torch.Tensor:
    """The return of every episode of a ``[episodes, time]`` TensorDict (sum of rewards).

    Args:
        data: episodes stacked along the first dimension, time along the second.

    >>> from tensordict import TensorDict
    >>> td = TensorDict({"next": {"reward": torch.ones(2, 3, 1)}}, batch_size=[2, 3])
    >>> episode_returns(td)
    tensor([3., 3.])
    """
    if not isinstance(data, TensorDictBase) or data.batch_dims != 2:
        raise ValueError("data must be a TensorDict of batch size [episodes, time]")
    return data["next", "reward"].sum(dim=(1, 2))


def make_context_env(
    target_return: float,
    *,
    context: int = 4,
    steps: int = 100,
    seed: int = 0,
) -> Any:
    """The low-gravity Pendulum as a Decision Transformer sees it.

    Four transforms: ``TargetReturn`` writes ``return_to_go`` (the target at reset, minus
    every reward received since); a ``TensorDictPrimer`` on the action spec keeps the
    last action in the TensorDict; ``UnsqueezeTransform`` + ``CatFrames`` stack the last
    ``context`` observations, actions and returns-to-go under :data:`CONTEXT_KEYS`.

    Args:
        target_return: the return the policy is asked for.
        context: how many steps the stacks hold.
        steps: episode length.
        seed: seed of the starting states.

    >>> env = make_context_env(-100.0, context=4)
    >>> env.reset()["observation_cat"].shape
    torch.Size([4, 3])
    """
    target = _check_number(target_return, "target_return", low=-float("inf"))
    context = _check_count(context, "context")
    return _with_context(make_low_gravity_pendulum(steps=steps, seed=seed), target, context)


def _with_context(base: Any, target: float, context: int) -> Any:
    from torchrl.envs import (
        CatFrames,
        Compose,
        TargetReturn,
        TensorDictPrimer,
        TransformedEnv,
        UnsqueezeTransform,
    )

    keys = list(CONTEXT_KEYS)
    return TransformedEnv(base, Compose(
        TargetReturn(target, out_keys=["return_to_go"]),
        TensorDictPrimer(base.full_action_spec),
        UnsqueezeTransform(-2, in_keys=keys, out_keys=[CONTEXT_KEYS[k] for k in keys]),
        CatFrames(N=context, dim=-2, in_keys=[CONTEXT_KEYS[k] for k in keys]),
    ))


def achieved_returns(
    policy: Any,
    *,
    targets: Sequence[float],
    seeds: Sequence[int],
    context: int = 4,
    steps: int = 100,
) -> torch.Tensor:
    """The return ``policy`` earns for each target return, from each start.

    For each target, one batched rollout: a ``SerialEnv`` of low-gravity pendulums, the
    ``i``-th seeded with ``seeds[i]`` (so it starts where :func:`make_context_env` with
    that seed starts), under the transforms of :func:`make_context_env`. One forward pass
    of the policy serves all starts at once. No gradients.

    Args:
        policy: a policy reading the context stacks (a ``DecisionTransformerInferenceWrapper``).
        targets: the target returns asked for.
        seeds: the starts (environment seeds) to play from.
        context: steps in the environment's stacks (the model's window).
        steps: steps per rollout.

    Returns:
        A tensor ``[len(targets), len(seeds)]`` of summed rewards.

    >>> still = lambda td: td.set("action", torch.zeros(*td.batch_size, 1))
    >>> achieved_returns(still, targets=[-100.0, 0.0], seeds=[0, 1], steps=5).shape
    torch.Size([2, 2])
    """
    from functools import partial

    from torchrl.envs import SerialEnv

    if not targets or not seeds:
        raise ValueError("targets and seeds must be non-empty sequences, e.g. "
                         "targets=[-600, -300, -100], seeds=range(10)")
    steps, context = _check_count(steps, "steps"), _check_count(context, "context")
    out = torch.empty(len(targets), len(seeds))
    for i, target in enumerate(targets):
        base = SerialEnv(len(seeds), [partial(make_low_gravity_pendulum, steps=steps,
                                              seed=int(seed)) for seed in seeds])
        env = _with_context(base, _check_number(target, "target", low=-float("inf")), context)
        with torch.no_grad():
            out[i] = env.rollout(steps, policy)["next", "reward"].sum(dim=(-2, -1))
        env.close()
    return out


def quiet_token_id_warning() -> None:
    """Drop transformers' note that GPT-2's bos/eos token id (50256) is outside the vocabulary.

    TorchRL's ``DecisionTransformer`` feeds GPT-2 embeddings, never token ids, so it sets
    ``vocab_size=1``; GPT-2's default special-token ids then fall outside that vocabulary
    and transformers says so once per process. Only that message is filtered; every other
    warning still shows.

    >>> quiet_token_id_warning()
    """
    log = logging.getLogger("transformers.configuration_utils")
    if not any(getattr(f, "__name__", "") == "_not_token_id_note" for f in log.filters):
        log.addFilter(_not_token_id_note)


def _not_token_id_note(record: logging.LogRecord) -> bool:
    return not _TOKEN_ID_NOTE.search(record.getMessage())
