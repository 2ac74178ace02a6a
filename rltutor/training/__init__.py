"""Training helpers for lesson 11 and later: greedy evaluation, honest checkpoint selection,
and a live training monitor.

None runs a training loop: the loop stays in the lesson, written out, and calls these.

>>> from rltutor.training import BestCheckpoint, TrainingMonitor, evaluate, held_out
"""

from rltutor.training.evaluate import episode_returns, evaluate
from rltutor.training.monitor import TrainingMonitor
from rltutor.training.selection import BestCheckpoint, HeldOut, held_out, reward_threshold

__all__ = ["BestCheckpoint", "HeldOut", "TrainingMonitor", "episode_returns", "evaluate",
           "held_out", "reward_threshold"]
