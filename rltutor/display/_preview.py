"""Cheap value previews of a tensor: min/mean/max, true-counts, a sparkline over time.

Each preview costs a handful of torch calls and one ``tolist()`` however large the
tensor is (up to ``stats_limit`` elements); no per-element Python loop anywhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rltutor.display._nodes import Preview


def preview_tensor(
    tensor: torch.Tensor, time_dim: int | None, bins: int, stats_limit: int
) -> Preview:
    """Summarise ``tensor``'s values; ``time_dim`` (if given) gets a sparkline.

    >>> preview_tensor(torch.tensor([1.0, 3.0]), None, 8, 10).high
    3.0
    """
    total = tensor.numel()
    if total == 0:
        return Preview(kind="empty", total=0)
    if total > stats_limit:
        return Preview(
            kind="skipped",
            total=total,
            note=f"no preview: {total:,} values > limit {stats_limit:,}",
        )
    if tensor.is_complex() or tensor.is_meta:
        return Preview(kind="skipped", total=total, note="no preview for this dtype")
    data = tensor.detach()
    spark: tuple[float, ...] = ()
    steps = 0
    if time_dim is not None and data.dim() > time_dim and data.shape[time_dim] >= 2 and bins > 0:
        steps = data.shape[time_dim]
        spark = _spark(data, time_dim, bins, is_bool=data.dtype == torch.bool)
    if data.dtype == torch.bool:
        return Preview(
            kind="bool", true_count=int(data.sum()), total=total, spark=spark, spark_steps=steps
        )
    floating = data.is_floating_point()
    as_float = data if floating else data.double()
    low, high = torch.aminmax(as_float)
    # one device->host transfer for the three numbers
    low_v, mean_v, high_v = torch.stack([low, as_float.mean(), high]).tolist()
    return Preview(
        kind="float" if floating else "int",
        low=low_v,
        mean=mean_v,
        high=high_v,
        total=total,
        spark=spark,
        spark_steps=steps,
    )


def _spark(data: torch.Tensor, time_dim: int, bins: int, is_bool: bool) -> tuple[float, ...]:
    """Mean over every non-time dim, averaged into at most ``bins`` bins, scaled to [0, 1].

    Bools keep their fraction-true per bin (0 stays 0, so a rare ``done`` stays visible
    as a spike); other dtypes are scaled min->max of the series.
    """
    steps = data.shape[time_dim]
    series = data.movedim(time_dim, 0).reshape(steps, -1).float().mean(dim=1)
    if steps > bins:
        series = F.adaptive_avg_pool1d(series.view(1, 1, steps), bins).view(-1)
    if is_bool:
        return tuple(series.tolist())
    low, high = torch.aminmax(series)
    span = high - low
    scaled = torch.where(span > 0, (series - low) / span, torch.full_like(series, 0.5))
    scaled = torch.nan_to_num(scaled, nan=0.5)
    return tuple(scaled.tolist())
