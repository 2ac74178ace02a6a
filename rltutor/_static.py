"""The package's stylesheets (``rltutor/static/*.css``), read and squeezed once.

CSS lives only in those files: ``rltutor.css`` for the views (``rltutor.display``),
``panels.css`` for widget panels and the boxes of findings and exercise feedback.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

__all__ = ["css", "style_tag"]


@functools.cache
def css(name: str) -> str:
    """The stylesheet ``rltutor/static/<name>`` with comments and spare whitespace removed.

    Args:
        name: the file name, e.g. ``"rltutor.css"``.

    >>> ".rltutor-box" in css("panels.css")
    True
    """
    text = (resources.files("rltutor") / "static" / name).read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([{};:,>])\s*", r"\1", text).strip()


def style_tag(name: str) -> str:
    """``<style>...</style>`` holding :func:`css` of ``name``, for HTML that travels alone.

    Args:
        name: the file name, e.g. ``"panels.css"``.

    >>> style_tag("panels.css").startswith("<style>")
    True
    """
    return f"<style>{css(name)}</style>"
