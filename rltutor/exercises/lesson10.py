"""Checks for lesson 10 (losses and replay).

>>> from rltutor.exercises import lesson10 as ex
>>> ex.check_sac_batch_keys(None, None).status
'not done yet'
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from rltutor._keys import key_str
from rltutor._kinds import is_replay_buffer
from rltutor._loss_keys import batch_keys
from rltutor.exercises import Feedback, correct, exercise, wrong
from rltutor.policies import make_qvalue_policy

__all__ = ["check_sac_batch_keys", "check_sequence_buffer"]

# why a key a learner might list is not asked of the batch
_NOT_FROM_THE_BATCH = {
    "action_log_prob": "SACLoss samples fresh actions from its actor and computes their "
                       "log-probability itself; a stored one is never read",
    "sample_log_prob": "SACLoss computes log-probabilities itself (and the key is called "
                       "action_log_prob nowadays anyway)",
    "next.action": "the loss samples the next action from its actor, on next.observation",
    "state_action_value": "the loss runs its Q-network on the batch and writes this itself",
    "loc": "the actor's distribution parameters are recomputed by the loss's actor",
    "scale": "the actor's distribution parameters are recomputed by the loss's actor",
    "priority_weight": "only a prioritised replay buffer writes it; without it every sample "
                       "weighs 1",
    "next.truncated": "the loss reads done and terminated, not truncated",
    "truncated": "the loss reads done and terminated, not truncated",
}


def _as_key_set(answer: Any) -> set[str] | None:
    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        return None
    keys = set()
    for key in answer:
        if not isinstance(key, (str, tuple)):
            return None
        keys.add(key_str(key))
    return keys


@exercise("set `sac_batch_keys` to a set of key strings, such as {'observation', ...}")
def check_sac_batch_keys(answer: Any, loss: Any) -> Feedback:
    """Did the learner list exactly the keys a SAC batch must hold?

    >>> check_sac_batch_keys(None, None).status
    'not done yet'
    """
    keys = _as_key_set(answer)
    if keys is None:
        return wrong(f"`sac_batch_keys` is a {type(answer).__name__}; expected a set of "
                     "key strings",
                     "write it like {'observation', 'next.reward', ...}")
    truth = {key_str(k) for k in batch_keys(loss)}
    for key in sorted(keys - truth):
        if key in _NOT_FROM_THE_BATCH:
            return wrong(f"'{key}' does not have to be in the batch",
                         _NOT_FROM_THE_BATCH[key])
        if "next." + key in truth:
            return wrong(f"'{key}' at the root: the loss reads 'next.{key}'",
                         "what the environment returned after the action lives under 'next'")
    if keys - truth:
        return wrong(f"the loss does not read {sorted(keys - truth)}",
                     "rltutor.show(sac_loss) lists what it reads from a batch")
    missing = sorted(truth - keys)
    if missing:
        next_missing = [k for k in missing if k.startswith("next.")]
        hint = ("the target is reward + gamma * value of the next state: the batch must say "
                "what happened after the action (under 'next')" if next_missing else
                "the critic scores the action that was actually taken, in the observation "
                "where it was taken")
        return wrong(f"missing {missing}", hint)
    return correct(f"a SAC batch needs exactly these {len(truth)} keys; everything else "
                   "(actions, log-probabilities, Q-values) the loss computes from them.")


def _fill(buffer: Any, env: Any) -> None:
    from torchrl.collectors import Collector

    logging.getLogger("torchrl").setLevel(logging.WARNING)
    collector = Collector(env, make_qvalue_policy(env), frames_per_batch=150,
                          total_frames=300, auto_register_policy_transforms=False)
    for batch in collector:
        buffer.extend(batch)
    collector.shutdown()


def _runs(sample: Any) -> list[int]:
    """Lengths of the runs of consecutive steps of one trajectory along a flat sample."""
    traj = sample["collector", "traj_ids"].reshape(-1)
    follows = (sample["next", "observation"][:-1] == sample["observation"][1:]).all(-1)
    same = (traj[:-1] == traj[1:]) & follows.reshape(-1)
    runs, length = [], 1
    for linked in same.tolist():
        if linked:
            length += 1
        else:
            runs.append(length)
            length = 1
    return runs + [length]


@exercise("set `sequence_buffer` to a ReplayBuffer whose sample() gives 5 slices of 6 steps")
def check_sequence_buffer(buffer: Any, env: Any) -> Feedback:
    """Does ``buffer.sample()`` return 5 runs of 6 consecutive steps of one trajectory?

    >>> check_sequence_buffer(None, None).status
    'not done yet'
    """
    if not is_replay_buffer(buffer):
        return wrong(f"`sequence_buffer` is a {type(buffer).__name__}, not a ReplayBuffer",
                     "ReplayBuffer(storage=LazyTensorStorage(1000), sampler=..., "
                     "batch_size=...), from torchrl.data")
    capacity = int(buffer.storage.max_size)
    if capacity < 1000:
        return wrong(f"the storage has room for {capacity} steps; the exercise asks for 1,000",
                     "LazyTensorStorage(1000)")
    if buffer.batch_size is None:
        return wrong("the buffer has no batch_size, so sample() does not know how many steps "
                     "to return", "5 slices of 6 steps: batch_size=30")
    _fill(buffer, env)
    torch.manual_seed(0)
    for _ in range(3):
        sample = buffer.sample()
        if sample.numel() != 30:
            return wrong(f"sample() returned {sample.numel()} steps; 5 slices of 6 are 30",
                         "batch_size=30")
        runs = _runs(sample)
        if max(runs) == 1:
            return wrong("the 30 steps are single steps scattered over the buffer, not "
                         "consecutive pieces of trajectories",
                         "sampler=SliceSampler(...) with the collector's trajectory ids as "
                         "traj_key")
        if any(r % 6 for r in runs):
            return wrong(f"the sample holds runs of {runs} consecutive steps; expected runs "
                         "of 6 (5 slices of 6 steps)",
                         "SliceSampler(slice_len=6, ...) or SliceSampler(num_slices=5, ...) "
                         "with batch_size=30")
    return correct("every sample is 5 slices of 6 consecutive steps, each from one trajectory: "
                   "sample.reshape(5, 6) is ready for recurrent mode.")
