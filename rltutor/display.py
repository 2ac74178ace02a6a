"""See a TensorDict, a policy's dataflow, and what a module changed.

Views render as HTML in Jupyter and as aligned text anywhere else::

    >>> import torch, rltutor
    >>> from tensordict import TensorDict
    >>> td = TensorDict(obs=torch.zeros(4, 3), batch_size=[4])
    >>> print(rltutor.to_text(td))
    TensorDict  batch [4]
    └─ obs  [4 | 3]  float32  cpu  min 0  mean 0  max 0

Layers: ``rltutor._tree`` (and ``_modules``, ``_diff``) build plain nodes, then
``rltutor._render_text`` and ``rltutor._render_html`` turn them into strings. Nothing
here is registered with IPython until ``install()`` is called.
"""

from __future__ import annotations

import sys
from typing import Any

from rltutor import _render_html, _render_text
from rltutor._diff import diff_node
from rltutor._modules import check_module, flow_of
from rltutor._nodes import Node
from rltutor._tree import Options, build, make_options

__all__ = ["View", "dataflow", "diff", "install", "show", "to_html", "to_text", "uninstall"]


class View:
    """A rendered-on-demand view: HTML in Jupyter, text in ``print`` and terminals.

    >>> view = show(torch.arange(3))  # doctest: +SKIP
    >>> view.to_text()  # doctest: +SKIP
    """

    def __init__(self, node: Node, options: Options) -> None:
        self.node = node
        self.options = options

    def to_html(self) -> str:
        """The HTML fragment (self-contained: carries its own CSS)."""
        return _render_html.render(self.node, open_depth=self.options.open_depth)

    def to_text(self, width: int = 100) -> str:
        """The text rendering, every line at most ``width`` characters."""
        return _render_text.render(self.node, width=width)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/html": self.to_html(), "text/plain": self.to_text()}

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.to_text()

    def __str__(self) -> str:
        return self.to_text()


def show(obj: Any, **options: Any) -> View:
    """A view of a TensorDict, a tensor, a TensorDict module, or (as its repr) anything.

    Options: ``module=policy`` marks the keys the policy wrote and the ones it reads from
    the environment; ``max_keys``, ``max_depth``, ``previews``, ``spark_bins``,
    ``time_dim``, ``stats_limit``, ``open_depth``, ``sort`` (see ``rltutor._tree.Options``).

    >>> show(env.rollout(200))  # doctest: +SKIP
    >>> show(td, module=policy)  # doctest: +SKIP
    """
    if isinstance(obj, View) and not options:
        return obj  # to_html(diff(a, b)) and to_text(dataflow(policy)) just work
    opts = make_options(**options)
    return View(build(obj, opts), opts)


def to_html(obj: Any, **options: Any) -> str:
    """``show(obj, **options)`` as an HTML string.

    >>> to_html(torch.zeros(2)).startswith('<div class="rlt">')  # doctest: +SKIP
    True
    """
    return show(obj, **options).to_html()


def to_text(obj: Any, width: int = 100, **options: Any) -> str:
    """``show(obj, **options)`` as text, lines at most ``width`` characters.

    >>> print(to_text(td, width=80))  # doctest: +SKIP
    """
    if not isinstance(width, int) or width < 20:
        raise ValueError(f"width must be an integer >= 20, got {width!r}")
    return show(obj, **options).to_text(width=width)


def diff(before: Any, after: Any, **options: Any) -> View:
    """What changed from ``before`` to ``after``: keys added, removed, changed.

    A module call writes into its input, so keep a copy of the input first::

        >>> td = env.reset()  # doctest: +SKIP
        >>> diff(td, policy(td.clone()))  # doctest: +SKIP

    ``show_same=True`` lists the unchanged keys too.
    """
    opts = make_options(**options)
    return View(diff_node(before, after, opts), opts)


def dataflow(module: Any, **options: Any) -> View:
    """The keys ``module`` reads and writes, step by step through a sequence.

    Keys read before any step wrote them must come from the environment; they are marked.

    >>> dataflow(actor)  # doctest: +SKIP
    """
    opts = make_options(**options)
    return View(flow_of(check_module(module, "dataflow()")), opts)


# ---------------------------------------------------------------- IPython

_installed: dict[tuple[str, type | str], Any] = {}  # (mime, type) -> the formatter it replaced
# TorchRL specs by name: IPython resolves it when a spec is first shown, so registering
# them imports no torchrl
_SPEC_TYPE = "torchrl.data.tensor_specs.TensorSpec"


def _formatter_types() -> list[type | str]:
    from tensordict import TensorDictBase
    from tensordict.nn import TensorDictModuleBase

    return [TensorDictBase, TensorDictModuleBase, _SPEC_TYPE]


def _html_formatter(obj: Any) -> str:
    return to_html(obj)


def _text_formatter(obj: Any, printer: Any, cycle: bool) -> None:
    printer.text(to_text(obj))


def install(text: bool = True, hints: bool = True) -> bool:
    """Render TensorDicts, modules and specs with rltutor in IPython/Jupyter.

    Also appends a hint under exceptions that classic TorchRL mistakes cause (see
    ``rltutor.diagnostics.install_hints``); ``hints=False`` leaves exceptions alone.
    Returns False (and does nothing) outside IPython. Calling it twice is harmless;
    ``uninstall()`` restores what was there before. ``text=False`` leaves the plain-text
    repr (terminal IPython, ``print``) alone.

    >>> rltutor.install()  # doctest: +SKIP
    >>> td  # a bare td at the end of a cell now renders as a tree  # doctest: +SKIP
    """
    shell = _shell()
    if shell is None:
        return False
    formatters = shell.display_formatter.formatters
    mimes = ["text/html", "text/plain"] if text else ["text/html"]
    handlers = {"text/html": _html_formatter, "text/plain": _text_formatter}
    for mime in mimes:
        for cls in _formatter_types():
            if (mime, cls) in _installed:
                continue  # already ours: keep the original we saved the first time
            if isinstance(cls, str):
                module, name = cls.rsplit(".", 1)
                previous = formatters[mime].for_type_by_name(module, name, handlers[mime])
            else:
                previous = formatters[mime].for_type(cls, handlers[mime])
            _installed[(mime, cls)] = previous
    if hints:
        # imported here: diagnostics loads torchrl, and `import rltutor.display` stays light
        from rltutor.diagnostics import install_hints

        install_hints(shell)
    return True


def uninstall() -> bool:
    """Undo ``install()``: IPython shows TensorDicts and exceptions as before.

    False outside IPython.
    """
    shell = _shell()
    diagnostics = sys.modules.get("rltutor.diagnostics")  # not loaded: no hints to remove
    if shell is None:
        _installed.clear()
        if diagnostics is not None:
            diagnostics.uninstall_hints()
        return False
    formatters = shell.display_formatter.formatters
    for (mime, cls), previous in list(_installed.items()):
        formatter = formatters[mime]
        formatter.pop(cls, None)
        if previous is not None:
            if isinstance(cls, str):
                formatter.for_type_by_name(*cls.rsplit(".", 1), previous)
            else:
                formatter.for_type(cls, previous)
        del _installed[(mime, cls)]
    if diagnostics is not None:
        diagnostics.uninstall_hints(shell)
    return True


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
