"""A pytest plugin (and an import for the site build): nbformat without 1.4 s of grammars.

nbformat validates notebooks with jsonschema, and jsonschema, when it is imported, tries
the optional package ``rfc3987_syntax`` for its "iri" string formats. That package builds
38 lark grammars at import: about 1.4 s of CPU in every process that imports nbformat
(each pytest process, nbmake, the site build), against 0.15 s without it. Neither
nbformat's schema nor any check here uses an "iri" format, and jsonschema checks formats
only when given a format checker, which nbformat does not give it.

``make lessons``, ``make unit``, ``make quick`` and ``make site-test`` load this module
first (``-p tools.lean_imports``: pytest imports ``-p`` plugins before the plugins it
finds installed, such as nbmake, which imports nbformat); ``tools/build_site.py`` imports
it before nbformat. Kernels never import jsonschema, so lessons run as they would anyway.
"""

from __future__ import annotations

import sys

__all__ = ["skip_iri_grammars"]


def skip_iri_grammars(*, modules: dict | None = None) -> bool:
    """Record ``rfc3987_syntax`` as absent unless it is already imported; True if now absent.

    jsonschema imports it under ``suppress(ImportError)``, so it then goes on without the
    "iri" formats, as it does where the package is not installed.

    Args:
        modules: the module table to record it in; ``sys.modules`` if None.

    >>> table = {}
    >>> skip_iri_grammars(modules=table), table
    (True, {'rfc3987_syntax': None})
    >>> skip_iri_grammars(modules={"rfc3987_syntax": sys})  # imported already: left alone
    False
    """
    modules = sys.modules if modules is None else modules
    if modules.get("rfc3987_syntax") is None:
        modules["rfc3987_syntax"] = None  # an import of it now raises ImportError
        return True
    return False


skip_iri_grammars()
