"""The views: ``show`` builds a :class:`View`; ``to_text``/``to_html`` render it at once.

Every option is a keyword parameter (Shift-Tab in Jupyter lists them); their defaults
come from :class:`rltutor.display._options.Options`, written there once.
"""

from __future__ import annotations

from typing import Any

from rltutor.display import _render_html, _render_text
from rltutor.display._build import build, flow_for
from rltutor.display._diff import diff_node
from rltutor.display._nodes import Node
from rltutor.display._options import Options, make_options

__all__ = ["View", "dataflow", "diff", "show", "to_html", "to_text"]

_D = Options()  # the defaults, as the signatures below show them


class View:
    """A rendered-on-demand view: HTML in Jupyter, text in ``print`` and terminals.

    Args:
        node: what to draw (built by a handler, see ``rltutor.display._build``).
        options: the options it was built with (``open_depth`` matters for HTML).

    >>> import torch
    >>> view = show(torch.arange(3))
    >>> print(view.to_text())
    tensor  [3]  int64  cpu  min 0  mean 1  max 2
    """

    def __init__(self, node: Node, options: Options) -> None:
        self.node = node
        self.options = options

    def to_html(self) -> str:
        """The HTML fragment (self-contained: carries its own CSS)."""
        return _render_html.render(self.node, open_depth=self.options.open_depth)

    def to_text(self, width: int = 100) -> str:
        """The text rendering.

        Args:
            width: the most characters on a line (longer lines end with "…").
        """
        return _render_text.render(self.node, width=width)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/html": self.to_html(), "text/plain": self.to_text()}

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.to_text()

    def __str__(self) -> str:
        return self.to_text()


def show(
    obj: Any,
    *,
    module: Any = None,
    max_keys: int = _D.max_keys,
    max_depth: int = _D.max_depth,
    previews: bool = _D.previews,
    spark_bins: int = _D.spark_bins,
    time_dim: int | None = _D.time_dim,
    stats_limit: int = _D.stats_limit,
    text_limit: int = _D.text_limit,
    repr_limit: int = _D.repr_limit,
    open_depth: int = _D.open_depth,
    sort: bool = _D.sort,
) -> View:
    """A view of a TensorDict, a tensor, a TensorDict module, a spec, or (as its repr) anything.

    Args:
        obj: what to show. A :class:`View` (from ``diff`` or ``dataflow``) is returned as is.
        module: a TensorDict module: badges mark the keys it wrote and the ones it reads
            from the environment.
        max_keys: children shown per TensorDict level before "... N more keys".
        max_depth: nested TensorDicts shown below the root.
        previews: compute min/mean/max, true-counts and sparklines.
        spark_bins: points in a sparkline, whatever the rollout length.
        time_dim: the batch dim sparklines run over; default: the dim named "time".
        stats_limit: tensors with more values get no preview.
        text_limit: characters of a non-tensor value before "…".
        repr_limit: characters of the fallback repr.
        open_depth: HTML: nested TensorDicts this deep start expanded.
        sort: leaves A->Z, then nested TensorDicts A->Z; False keeps insertion order.

    >>> import torch
    >>> from tensordict import TensorDict
    >>> td = TensorDict(obs=torch.zeros(4, 3), batch_size=[4])
    >>> print(show(td, previews=False))
    TensorDict  batch [4]
    └─ obs  [4 | 3]  float32  cpu
    """
    opts = make_options(
        module=module, max_keys=max_keys, max_depth=max_depth, previews=previews,
        spark_bins=spark_bins, time_dim=time_dim, stats_limit=stats_limit,
        text_limit=text_limit, repr_limit=repr_limit, open_depth=open_depth, sort=sort,
    )
    if isinstance(obj, View) and opts == _D:
        return obj  # to_html(diff(a, b)) and to_text(dataflow(policy)) just work
    return View(build(obj, opts), opts)


def to_html(
    obj: Any,
    *,
    module: Any = None,
    max_keys: int = _D.max_keys,
    max_depth: int = _D.max_depth,
    previews: bool = _D.previews,
    spark_bins: int = _D.spark_bins,
    time_dim: int | None = _D.time_dim,
    stats_limit: int = _D.stats_limit,
    text_limit: int = _D.text_limit,
    repr_limit: int = _D.repr_limit,
    open_depth: int = _D.open_depth,
    sort: bool = _D.sort,
) -> str:
    """:func:`show` as an HTML string: one ``<div class="rlt">`` carrying its own CSS.

    Args:
        obj: what to show (see :func:`show`).
        module: see :func:`show`; so are the other options.
        max_keys: see :func:`show`.
        max_depth: see :func:`show`.
        previews: see :func:`show`.
        spark_bins: see :func:`show`.
        time_dim: see :func:`show`.
        stats_limit: see :func:`show`.
        text_limit: see :func:`show`.
        repr_limit: see :func:`show`.
        open_depth: see :func:`show`.
        sort: see :func:`show`.

    >>> import torch
    >>> to_html(torch.zeros(2)).startswith('<div class="rlt">')
    True
    """
    return show(
        obj, module=module, max_keys=max_keys, max_depth=max_depth, previews=previews,
        spark_bins=spark_bins, time_dim=time_dim, stats_limit=stats_limit,
        text_limit=text_limit, repr_limit=repr_limit, open_depth=open_depth, sort=sort,
    ).to_html()


def to_text(
    obj: Any,
    width: int = 100,
    *,
    module: Any = None,
    max_keys: int = _D.max_keys,
    max_depth: int = _D.max_depth,
    previews: bool = _D.previews,
    spark_bins: int = _D.spark_bins,
    time_dim: int | None = _D.time_dim,
    stats_limit: int = _D.stats_limit,
    text_limit: int = _D.text_limit,
    repr_limit: int = _D.repr_limit,
    sort: bool = _D.sort,
) -> str:
    """:func:`show` as text, every line at most ``width`` characters.

    Args:
        obj: what to show (see :func:`show`).
        width: the most characters on a line (an integer >= 20).
        module: see :func:`show`; so are the other options.
        max_keys: see :func:`show`.
        max_depth: see :func:`show`.
        previews: see :func:`show`.
        spark_bins: see :func:`show`.
        time_dim: see :func:`show`.
        stats_limit: see :func:`show`.
        text_limit: see :func:`show`.
        repr_limit: see :func:`show`.
        sort: see :func:`show`.

    >>> import torch
    >>> from tensordict import TensorDict
    >>> print(to_text(TensorDict(obs=torch.zeros(4, 3), batch_size=[4])))
    TensorDict  batch [4]
    └─ obs  [4 | 3]  float32  cpu  min 0  mean 0  max 0
    """
    if not isinstance(width, int) or width < 20:
        raise ValueError(f"width must be an integer >= 20, got {width!r}")
    return show(
        obj, module=module, max_keys=max_keys, max_depth=max_depth, previews=previews,
        spark_bins=spark_bins, time_dim=time_dim, stats_limit=stats_limit,
        text_limit=text_limit, repr_limit=repr_limit, sort=sort,
    ).to_text(width=width)


def diff(
    before: Any,
    after: Any,
    *,
    show_same: bool = _D.show_same,
    max_keys: int = _D.max_keys,
    previews: bool = _D.previews,
    stats_limit: int = _D.stats_limit,
    text_limit: int = _D.text_limit,
    sort: bool = _D.sort,
) -> View:
    """What changed from ``before`` to ``after``: keys added, removed, changed.

    A module call writes into its input, so keep a copy of the input first:
    ``diff(td, policy(td.clone()))``.

    Args:
        before: a TensorDict.
        after: a TensorDict.
        show_same: also list the keys that did not change.
        max_keys: rows shown before "... N more keys".
        previews: show min/mean/max of added and removed tensors.
        stats_limit: tensors with more values get no preview and no value comparison count.
        text_limit: characters of a non-tensor value before "…".
        sort: keys A->Z; False keeps the order of ``before`` then ``after``.

    >>> import torch
    >>> from tensordict import TensorDict
    >>> print(diff(TensorDict(a=torch.zeros(2)), TensorDict(a=torch.ones(2), b=torch.zeros(1))))
    diff: 1 added, 0 removed, 1 changed, 0 unchanged
    ~  a  [2]  float32  value: 2/2 values differ, max |Δ| 1
    +  b  [1]  float32  min 0  mean 0  max 0
    """
    opts = make_options(show_same=show_same, max_keys=max_keys, previews=previews,
                        stats_limit=stats_limit, text_limit=text_limit, sort=sort)
    return View(diff_node(before, after, opts), opts)


def dataflow(module: Any) -> View:
    """The keys ``module`` reads and writes, step by step through a sequence.

    Keys read before any step wrote them must come from the environment; they are marked
    (the rule is ``rltutor._keys.env_keys``, the one ``check_policy`` uses).

    Args:
        module: a TensorDict module (a sequence, an actor, an exploration module, ...).

    >>> import torch
    >>> from tensordict.nn import TensorDictModule
    >>> print(dataflow(TensorDictModule(torch.nn.Linear(3, 1), in_keys=["observation"],
    ...                                 out_keys=["action"])))
    dataflow of TensorDictModule
      from the environment: observation
      writes: action
    #  step    reads                  writes  notes
    1  Linear  observation (env)  ->  action  parameters 4
    """
    return View(flow_for(module), Options())
