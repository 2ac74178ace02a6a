"""Training helpers for lesson 11 and later: greedy evaluation and a live training monitor.

Neither runs a training loop: the loop stays in the lesson, written out, and calls these.

>>> from rltutor.training import TrainingMonitor, evaluate
"""

from rltutor.training.evaluate import evaluate
from rltutor.training.monitor import TrainingMonitor

__all__ = ["TrainingMonitor", "evaluate"]
