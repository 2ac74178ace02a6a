"""See a TensorDict, a policy's dataflow, and what a module changed.

Views render as HTML in Jupyter and as aligned text anywhere else::

    >>> import torch, rltutor
    >>> from tensordict import TensorDict
    >>> td = TensorDict(obs=torch.zeros(4, 3), batch_size=[4])
    >>> print(rltutor.to_text(td))
    TensorDict  batch [4]
    └─ obs  [4 | 3]  float32  cpu  min 0  mean 0  max 0

How it is built: a handler (``_tensordict``, ``_modules``, ``_specs``, chained in
``_build``) turns an object into plain nodes (``_nodes``); a backend (``_render_text``,
``_render_html``) turns nodes into a string, with formatting rules shared in ``_format``.
``_diff`` compares two TensorDicts; ``_view`` holds the functions below, ``_ipython``
the opt-in Jupyter registration.
"""

from __future__ import annotations

from rltutor.display._ipython import install, uninstall
from rltutor.display._view import View, dataflow, diff, show, to_html, to_text

__all__ = ["View", "dataflow", "diff", "install", "show", "to_html", "to_text", "uninstall"]
