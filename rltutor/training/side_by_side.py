"""Evaluation episodes run side by side: the same episodes as one env, in a fraction of the time.

Evaluating a policy on 5 or 20 seeded episodes, one after the other, pays TorchRL's
per-step TensorDict work once per frame: in the training lessons that was about a third
of a run's time. gymnasium's ``SyncVectorEnv`` steps all the episodes in one call, so
:func:`episode_returns` runs them in a *twin* of the env: a ``GymWrapper`` around
``SyncVectorEnv`` copies of the same gymnasium spec, with gymnasium's own reset switched
off. ``twin.set_seed(s)`` seeds copy ``j`` with ``s + j`` (gymnasium's rule for vector
envs), and the reset after it draws each copy's start exactly as the single env's rollout
does after ``env.set_seed(s + j)``: the same episodes, up to float rounding in a batched
forward pass (``tests/test_training_side_by_side.py`` compares both).

Only a plain ``GymEnv`` (no transforms, no rendering) and a policy that is a module get a
twin, and only while the policy writes one action per episode: a transform, a hand-written
callable or a spec written for one env may not accept a batch, so those keep the
one-at-a-time path.
"""

from __future__ import annotations

import weakref
from typing import Any

import torch

__all__ = ["MAX_SIDE_BY_SIDE", "NotSideBySide", "side_by_side_returns", "twin_of"]

MAX_SIDE_BY_SIDE = 20  # copies in one twin: held_out's 20 episodes in one pass
_TWINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class NotSideBySide(ValueError):
    """The policy does not act on a batch of episodes (e.g. its action spec was written for
    one env by hand): the caller runs the episodes one at a time instead."""


def twin_of(env: Any, copies: int) -> Any | None:
    """A ``GymWrapper(SyncVectorEnv)`` of ``copies`` copies of ``env``'s gymnasium env, or None.

    None when ``env`` is not a plain, unbatched ``GymEnv`` of a registered id without
    rendering. Twins are kept per env (and per number of copies) while ``env`` lives.

    Args:
        env: the environment the caller evaluates on.
        copies: how many episodes to run at once, >= 2.

    >>> from rltutor.envs import make_env
    >>> twin_of(make_env("CartPole-v1"), 3).batch_size
    torch.Size([3])
    """
    from torchrl.envs import GymEnv

    if type(env) is not GymEnv or tuple(env.batch_size) != () or copies < 2:
        return None
    inner = getattr(env, "_env", None)
    spec = getattr(inner, "spec", None)
    if spec is None or getattr(inner, "render_mode", None) is not None or getattr(
            env, "from_pixels", False):
        return None
    kept = _TWINS.setdefault(env, {})
    if copies not in kept:
        import gymnasium as gym
        from torchrl.envs import GymWrapper

        vector = gym.vector.SyncVectorEnv([lambda: gym.make(spec)] * copies,
                                          autoreset_mode=gym.vector.AutoresetMode.DISABLED)
        # TorchRL's own options travel too: they change what a step is and what an action is
        kept[copies] = GymWrapper(
            vector, device=env.device, frame_skip=getattr(env, "frame_skip", 1) or 1,
            categorical_action_encoding=getattr(env, "_categorical_action_encoding", False))
    return kept[copies]


def side_by_side_returns(twin: Any, policy: Any, *, episodes: int, seed: int,
                         max_steps: int) -> list[float]:
    """Each episode's summed reward, ``twin.batch_size[0]`` episodes at a time.

    Episode ``i`` is copy ``i % n`` of pass ``i // n``, seeded ``seed + i``. An episode's
    return counts its rewards up to its first done; a copy that is done is reset by
    TorchRL (as a collector does) and stepped on, its rewards no longer counted, until
    every copy of the pass is done or ``max_steps`` steps have run. The caller sets the
    exploration type and ``no_grad``. Raises :class:`NotSideBySide`, before any step, when
    the policy's action for the batch does not have the twin's action shape.

    Args:
        twin: an env with one batch dimension, from :func:`twin_of`.
        policy: a TensorDict module that writes ``"action"`` for a batch.
        episodes: how many episodes, >= 1.
        seed: the first episode's seed.
        max_steps: the longest episode.

    >>> from rltutor.envs import make_env
    >>> from rltutor.policies import make_qvalue_policy
    >>> env = make_env("CartPole-v1")
    >>> len(side_by_side_returns(twin_of(env, 2), make_qvalue_policy(env), episodes=3,
    ...                          seed=0, max_steps=50))
    3
    """
    from torchrl.envs.utils import step_mdp

    copies = twin.batch_size[0]
    returns: list[float] = []
    for first in range(0, episodes, copies):
        twin.set_seed(seed + first)
        td = twin.reset()
        rewards, lengths = [], torch.zeros(copies, dtype=torch.long)
        running = torch.ones(copies, dtype=torch.bool)
        for _ in range(max_steps):
            td = policy(td)
            if td.get("action").shape != twin.action_spec.shape:
                raise NotSideBySide(f"the policy wrote an action of shape "
                                    f"{tuple(td['action'].shape)} for {copies} episodes")
            td = twin.step(td)
            rewards.append(td["next", "reward"].reshape(copies))
            lengths += running
            running &= ~td["next", "done"].reshape(copies)
            if not running.any():
                break
            td = step_mdp(td)
            if td["done"].any():  # a copy whose episode ended starts another (not counted)
                td = twin.reset(td.set("_reset", td["done"].clone()))
        steps = torch.stack(rewards)
        # each episode's rewards summed alone, as one env's rollout sums them (same rounding)
        returns += [float(steps[:length, j].contiguous().sum())
                    for j, length in enumerate(lengths.tolist()[: episodes - first])]
    return returns
