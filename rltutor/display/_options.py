"""The options every view takes, checked once, with errors that list what is accepted."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from tensordict.nn import TensorDictModuleBase
from torch import nn

__all__ = ["OPTION_NAMES", "Options", "make_options"]


@dataclass(frozen=True)
class Options:
    """Everything a view can be tuned with; ``show(obj, ...)`` fills it.

    Args:
        module: a TensorDict module: mark the keys it wrote and the ones it reads.
        max_keys: children shown per TensorDict level before "... N more".
        max_depth: nested TensorDicts shown below the root.
        previews: compute min/mean/max, counts and sparklines.
        spark_bins: points in a sparkline, whatever the rollout length.
        time_dim: batch dim to draw sparklines over; default: the one named "time".
        stats_limit: tensors with more values get no preview.
        text_limit: characters of a non-tensor value or key before "…".
        repr_limit: characters of a fallback repr.
        open_depth: HTML: nested TensorDicts this deep start expanded.
        sort: leaves A->Z then nested TensorDicts A->Z; False keeps insertion order.
        show_same: diff: also list unchanged keys.

    >>> Options(max_keys=5).max_keys
    5
    """

    module: Any = None
    max_keys: int = 40
    max_depth: int = 6
    previews: bool = True
    spark_bins: int = 24
    time_dim: int | None = None
    stats_limit: int = 2_000_000
    text_limit: int = 60
    repr_limit: int = 2000
    open_depth: int = 1
    sort: bool = True
    show_same: bool = False


OPTION_NAMES = tuple(f.name for f in dataclasses.fields(Options))
_COUNTS = ("max_keys", "max_depth", "spark_bins", "stats_limit", "text_limit", "repr_limit")


def make_options(**options: Any) -> Options:
    """Check option names and values, with an error that lists what is accepted.

    Args:
        **options: any fields of :class:`Options` by name (the views pass theirs through).

    >>> make_options(max_keys=-1)
    Traceback (most recent call last):
    ...
    ValueError: display option max_keys must be an integer >= 0, got -1
    """
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise TypeError(
            f"unknown display option(s) {', '.join(map(repr, unknown))}; "
            f"accepted: {', '.join(OPTION_NAMES)}"
        )
    for name in _COUNTS:
        value = options.get(name)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ValueError(f"display option {name} must be an integer >= 0, got {value!r}")
    module = options.get("module")
    # RandomPolicy or a function of a TensorDict: badges for the keys it declares
    plain_callable = callable(module) and not isinstance(module, (type, nn.Module))
    if module is not None and not (isinstance(module, TensorDictModuleBase) or plain_callable):
        raise TypeError(
            "display option module= takes a TensorDict module (TensorDictModule, "
            f"TensorDictSequential, ProbabilisticActor, ...) or a callable policy such as "
            f"RandomPolicy, got {type(module).__name__}"
        )
    return Options(**options)
