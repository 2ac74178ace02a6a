"""Plain nodes that every rltutor view is built from.

The handlers (``_tensordict``, ``_modules``, ``_specs``; ``_diff`` for diffs) turn an
object into these dataclasses; the text and HTML backends only ever read them. Keeping them
free of torch objects means a renderer can never accidentally touch tensor values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Badges a leaf or a dataflow key can carry, and what they mean (shown in legends).
POLICY = "policy"  # the policy (or any module that acts) wrote this key
VALUE = "value"  # a value network (critic) wrote this key
INPUT = "input"  # the module reads this key and nothing before it wrote it: env provides it
BATCH = "batch"  # a loss or a Q-network reads this key from collected data (env + policy)
BADGE_HELP = {
    POLICY: "written by the module",
    VALUE: "written by the value network",
    INPUT: "read by the module, must come from the environment",
    BATCH: "read from collected data (env + policy), as a loss or a Q-network does",
}


@dataclass(frozen=True)
class Preview:
    """A cheap summary of a tensor's values.

    ``kind`` is "float", "int", "bool", "empty" or "skipped". ``spark`` holds the series
    over the time dimension, already downsampled and scaled to [0, 1].
    """

    kind: str
    low: float | None = None
    mean: float | None = None
    high: float | None = None
    true_count: int | None = None
    total: int = 0
    spark: tuple[float, ...] = ()
    spark_steps: int = 0  # length of the time dimension the spark summarises
    note: str = ""


@dataclass(frozen=True)
class Leaf:
    """One tensor (or non-tensor value) inside a TensorDict, or a bare tensor."""

    key: str
    shape: tuple[int, ...]
    batch_dims: int
    dtype: str
    device: str
    preview: Preview | None = None
    badges: tuple[str, ...] = ()
    text: str | None = None  # the value of a NonTensorData (or a spec's space), shortened
    kind: str = ""  # a TorchRL spec's class (Bounded, OneHot, ...); "" for data


@dataclass
class Branch:
    """A TensorDict (the root or a nested one) and its children."""

    key: str | None
    type_name: str
    batch_size: tuple[int, ...]
    device: str | None
    names: tuple[str | None, ...] = ()
    children: list[Leaf | Branch] = field(default_factory=list)
    more: int = 0  # children left out because of max_keys
    note: str = ""
    badges: tuple[str, ...] = ()


@dataclass(frozen=True)
class Opaque:
    """Anything rltutor has no handler for: its repr, shortened."""

    type_name: str
    text: str
    more_chars: int = 0


@dataclass
class ModuleCard:
    """A TensorDict module: what it reads, what it writes, what it is made of."""

    name: str
    in_keys: tuple[str, ...]
    out_keys: tuple[str, ...]
    details: tuple[tuple[str, str], ...] = ()
    children: list[ModuleCard] = field(default_factory=list)
    env_keys: tuple[str, ...] = ()  # only filled on the root card
    # where env_keys come from: a loss reads "a batch of collected data", not the env
    inputs_from: str = "the environment"


@dataclass(frozen=True)
class Step:
    """One module in a dataflow: the keys it reads and the keys it writes."""

    index: int
    name: str
    group: str  # the containers it sits in, e.g. "ProbabilisticActor > TensorDictSequential"
    reads: tuple[str, ...]
    env_reads: tuple[str, ...]  # the subset of ``reads`` that nothing before wrote
    writes: tuple[str, ...]
    note: str = ""


@dataclass
class Flow:
    """Keys read and written, step by step, through a module."""

    name: str
    steps: list[Step]
    env_keys: tuple[str, ...]
    out_keys: tuple[str, ...]
    inputs_from: str = "the environment"  # as ModuleCard.inputs_from
    writer: str = POLICY  # the badge of the keys it writes (VALUE for a critic)


@dataclass(frozen=True)
class Change:
    """One key in a diff. ``status`` is "added", "removed", "changed" or "same"."""

    key: str
    status: str
    before: Leaf | None
    after: Leaf | None
    what: tuple[str, ...] = ()  # for "changed": any of "shape", "dtype", "value", "type"
    detail: str = ""


@dataclass
class DiffNode:
    """What changed between two TensorDicts."""

    changes: list[Change]
    counts: dict[str, int]
    note: str = ""
    more: int = 0


Node = Leaf | Branch | Opaque | ModuleCard | Flow | DiffNode
