"""Checks for lesson 12 (the Decision Transformer: what conditioning can reach, and windows).

>>> from rltutor.exercises import lesson12 as ex
>>> ex.check_ceiling(None, policy=None).status
'not done yet'
>>> ex.check_slice_windows(None, None, data=None).status
'not done yet'
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import torch
from tensordict import TensorDictBase

from rltutor.addons.offline import CONTEXT_KEYS, make_context_env
from rltutor.exercises import Feedback, correct, exercise, is_unanswered, not_done, wrong

__all__ = ["CEILING_START", "CEILING_TARGETS", "LESSON_SEED", "WINDOWS", "ceiling",
           "check_ceiling", "check_slice_windows"]

LESSON_SEED = 3  # the start the lesson's rollouts and sliders use (make_dt_env's seed)
CEILING_START = 0  # exercise 1's start
# the checker's sweep: the high half of the sliders' range, where ceilings are reached
CEILING_TARGETS = (-400, -200, 0, 200, 400)
CEILING_TOLERANCE = 15.0  # the plateau is flat to a few units; a coarser sweep is fine
WINDOWS, WINDOW_STEPS = 16, 4  # exercise 2: 16 windows of 4 steps per sample


def ceiling(policy: Any, *, start: int, targets: Sequence[float] | None = None,
            context: int = 4) -> tuple[float, float]:
    """The most ``policy`` earns from ``start`` over ``targets``, and the target that earns it.

    Args:
        policy: the lesson's wrapped Decision Transformer.
        start: the environment seed (the starting state).
        targets: the target returns tried (default :data:`CEILING_TARGETS`).
        context: the environment's window (the model's).

    >>> still = lambda td: td.set("action", torch.zeros(1))
    >>> earned, at = ceiling(still, start=0, targets=[0.0])
    >>> earned < 0, at
    (True, 0.0)
    """
    targets = tuple(CEILING_TARGETS if targets is None else targets)
    # a learner re-runs the check: the same weights need the same rollouts only once
    weights = tuple(round(p.detach().sum().item(), 6) for p in _parameters(policy))
    key = (id(policy), weights, start, targets, context)
    if key not in _CEILINGS:
        best = (-float("inf"), float("nan"))
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            for target in targets:
                env = make_context_env(float(target), context=context, seed=start)
                earned = env.rollout(100, policy)["next", "reward"].sum().item()
                best = max(best, (earned, float(target)))
        _CEILINGS[key] = best
    return _CEILINGS[key]


_CEILINGS: dict[tuple, tuple[float, float]] = {}


def _parameters(policy: Any) -> list[torch.Tensor]:
    return list(policy.parameters()) if isinstance(policy, torch.nn.Module) else []


@exercise("set `ceiling_0` to the most the policy earns from start 0 (a number)")
def check_ceiling(ceiling_0: Any, *, policy: Any, start: int = CEILING_START) -> Feedback:
    """Is ``ceiling_0`` the highest return the trained policy earns from ``start``?

    The checker sweeps the targets -400 to 400 (steps of 200) from that start itself.

    Args:
        ceiling_0: the learner's measured ceiling.
        policy: the lesson's wrapped policy (``DecisionTransformerInferenceWrapper``).
        start: the start asked about (seed 0).

    >>> print(check_ceiling("high", policy=None))
    ✗ Not yet right: ceiling_0 is a str; expected the return you measured (a number)
      Hint: play(target, seed=0) for targets from -800 to 400, and keep the best return
    """
    if isinstance(ceiling_0, bool) or not isinstance(ceiling_0, numbers.Real):
        return wrong(f"ceiling_0 is a {type(ceiling_0).__name__}; expected the return you "
                     "measured (a number)",
                     f"play(target, seed={start}) for targets from -800 to 400, and keep the "
                     "best return")
    if ceiling_0 > 0:
        return wrong(f"{ceiling_0:g} is above 0: Pendulum's rewards are never positive",
                     "a return is a sum of rewards, each at most 0")
    earned, at = ceiling(policy, start=start)
    if abs(ceiling_0 - earned) <= CEILING_TOLERANCE:
        lesson, lesson_at = ceiling(policy, start=LESSON_SEED)
        return correct(f"from start {start} the policy earns at most {earned:.0f} (first at "
                       f"target {at:g}); from start {LESSON_SEED}, at most {lesson:.0f} (at "
                       f"{lesson_at:g}). Asking for more than a start allows changes nothing: "
                       "what is possible depends on where the pendulum starts.")
    lesson, _ = ceiling(policy, start=LESSON_SEED)
    if abs(ceiling_0 - lesson) <= CEILING_TOLERANCE:
        return wrong(f"{ceiling_0:g} is what the policy earns at best from the lesson's start "
                     f"(seed {LESSON_SEED}), not from start {start}",
                     f"run the rollouts from start {start}: the starting state changes what "
                     "can be earned")
    if ceiling_0 > earned:
        return wrong(f"the policy never earns {ceiling_0:g} from start {start}: that is more "
                     "than any target gives",
                     "keep the return each rollout achieved (the sum of its rewards), not the "
                     "target you asked for")
    return wrong(f"{ceiling_0:g} is less than the policy earns from start {start} for some "
                 "target",
                 "try higher targets too, up to 400: where does asking for more stop helping?")


@exercise("set `slice_buffer` to a ReplayBuffer of single steps with a SliceSampler")
def check_slice_windows(slice_buffer: Any, to_windows: Any, *, data: TensorDictBase) -> Feedback:
    """Do ``slice_buffer`` and ``to_windows`` give the training windows from a stream of steps?

    ``slice_buffer`` must store the steps of ``data`` one by one and cut 16 slices of 4
    consecutive steps per sample (a ``SliceSampler``); ``to_windows(sample)`` must turn
    a sample into a ``[16, 4]`` batch with the keys the loss reads.

    Args:
        slice_buffer: the learner's replay buffer.
        to_windows: the learner's function from a sample to windows.
        data: the lesson's episodes ``[episodes, time]`` with ``return_to_go``.

    A buffer of whole episodes (the lesson's layout) is not a stream of steps:

    >>> from tensordict import TensorDict
    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> data = TensorDict(observation=torch.randn(2, 20, 3), batch_size=[2, 20])
    >>> buffer = ReplayBuffer(storage=LazyTensorStorage(2), batch_size=32)
    >>> indices = buffer.extend(data)
    >>> print(check_slice_windows(buffer, None, data=data))
    ✗ Not yet right: the buffer holds 2 entries, one per episode; a stream has one per step (40)
      Hint: store single steps: extend the buffer with the episodes flattened to one dimension
    """
    from torchrl.data import ReplayBuffer
    from torchrl.data.replay_buffers import SliceSampler

    if not isinstance(slice_buffer, ReplayBuffer):
        return wrong(f"slice_buffer is a {type(slice_buffer).__name__}, not a ReplayBuffer",
                     "ReplayBuffer(storage=..., sampler=..., batch_size=...)")
    steps = data.numel()
    if len(slice_buffer) != steps:
        what = ("one per episode" if len(slice_buffer) == data.batch_size[0]
                else "not one per step")
        return wrong(f"the buffer holds {len(slice_buffer)} entries, {what}; a stream has one "
                     f"per step ({steps})",
                     "store single steps: extend the buffer with the episodes flattened to "
                     "one dimension")
    if not isinstance(slice_buffer.sampler, SliceSampler):
        return wrong(f"the buffer samples with a {type(slice_buffer.sampler).__name__}: single "
                     "steps from anywhere, not runs of consecutive steps",
                     "lesson 10's sampler that cuts slices of consecutive steps")
    if is_unanswered(to_windows):
        return not_done("the buffer is right; now write `to_windows(sample)`")
    if not callable(to_windows):
        return wrong(f"to_windows is a {type(to_windows).__name__}, not a function",
                     "def to_windows(sample): ... return the windows")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        sample = slice_buffer.sample()
        windows = to_windows(sample.clone())
    if sample.batch_dims != 1 or sample.numel() != WINDOWS * WINDOW_STEPS:
        return wrong(f"a sample has batch size {tuple(sample.batch_size)}, not "
                     f"[{WINDOWS * WINDOW_STEPS}] ({WINDOWS} slices of {WINDOW_STEPS} steps)",
                     f"batch_size={WINDOWS * WINDOW_STEPS} and slices of {WINDOW_STEPS} steps")
    if not isinstance(windows, TensorDictBase):
        return wrong(f"to_windows returned a {type(windows).__name__}, not a TensorDict",
                     "return the sample, reshaped and renamed")
    if tuple(windows.batch_size) != (WINDOWS, WINDOW_STEPS):
        return wrong(f"the windows have batch size {tuple(windows.batch_size)}, not "
                     f"({WINDOWS}, {WINDOW_STEPS}) = (windows, steps)",
                     "the sample is the slices one after the other: reshape it")
    missing = [k for k in (*CONTEXT_KEYS.values(), "action") if k not in windows.keys()]
    if missing:
        return wrong(f"the windows have no {missing}: the loss reads the `_cat` names and "
                     "compares with `action`",
                     "copy the three sequences to the names the model reads, keeping `action`")
    if not _windows_of(windows, data):
        return wrong("the windows are not runs of consecutive steps of one episode",
                     f"reshape to ({WINDOWS}, {WINDOW_STEPS}): slices first, then time")
    return correct(f"{WINDOWS} windows of {WINDOW_STEPS} consecutive steps, none across an "
                   "episode end: the same training samples as RandomCropTensorDict gave, cut "
                   "from a flat stream of steps, the layout real offline datasets come in "
                   "(episodes of any length, one after the other).")


def _windows_of(sample: TensorDictBase, data: TensorDictBase) -> bool:
    """Is every sampled window ``context`` consecutive steps of one episode of ``data``?"""
    observations = data["observation"]  # [episodes, time, 3]
    context = sample.batch_size[1]
    for window in sample[CONTEXT_KEYS["observation"]]:
        hits = (observations - window[0]).abs().amax(-1) < 1e-6  # where the window starts
        found = False
        for episode, start in hits.nonzero().tolist():
            stop = start + context
            if stop <= observations.shape[1] and torch.allclose(
                observations[episode, start:stop], window, atol=1e-6
            ):
                found = True
                break
        if not found:
            return False
    return True
