"""Build the course as a static site: `python -m tools.build_site` (`make site`) -> `site/`.

Every lesson notebook (``lessons/NN_name.ipynb``) is executed once with nbclient and
rendered with nbconvert's ``HTMLExporter`` through the ``rltutor_site`` template
(``tools/site_template``): JupyterLab's look, no require.js, MathJax, mermaid or widget
manager, so nothing is fetched from a network and a page opens from disk. Widgets show
the still picture (``image/png``) their mimebundle carries; the widget state is dropped.

``site/`` holds ``index.html`` (the lesson table, read from each lesson's first markdown
cell), one page per lesson with previous/next links, the lesson notebooks under
``notebooks/`` and the shared stylesheets under ``static/``. Executed notebooks are kept
in ``build/executed/``; a notebook there whose cells match the lesson and that is newer
than the rltutor package is reused instead of executed again (the reproducibility test
in ``tests/test_lessons.py`` writes its second run there).

Each lesson runs with ``RLTUTOR_GRID_DIR`` set (``build/grids/``): its live panels draw
themselves over a grid of their controls' values, and ``tools/build_site_grid.py`` turns
them into explorables, plain HTML controls that swap the precomputed pictures. A kept run
made without grids, or whose grids are gone, is executed again.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tools.lean_imports import skip_iri_grammars

skip_iri_grammars()  # before nbformat imports jsonschema: see tools/lean_imports.py

import nbformat  # noqa: E402

from tools import build_site_grid as grid  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = Path(__file__).resolve().parent / "site_template"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_TITLE = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)
_LESSON_PREFIX = re.compile(r"^Lesson\s+\d+\s*[—–:-]+\s*")
_LEARN = "**What you will learn**"


@dataclass(frozen=True)
class Lesson:
    """What the index and the pages need to know about one lesson.

    Args:
        stem: the file name without suffix, e.g. ``"01_tensordict_module"``.
        title: the first heading of the lesson, e.g. ``"Lesson 01 — A policy is ..."``.
        teaches: Markdown saying what the lesson teaches (its "What you will learn" list,
            or its first paragraph when it has none).
    """

    stem: str
    title: str
    teaches: str

    @property
    def number(self) -> str:
        return self.stem[:2]

    @property
    def short_title(self) -> str:
        """The title without its "Lesson NN —" prefix."""
        return _LESSON_PREFIX.sub("", self.title)

    @property
    def page(self) -> str:
        return f"{self.stem}.html"


def lesson_notebooks(folder: str | Path) -> list[Path]:
    """The lesson notebooks in ``folder``, in lesson order (``NN_name.ipynb``).

    Args:
        folder: the lessons folder.

    >>> [p.name for p in lesson_notebooks(ROOT / "lessons")][0]
    '01_tensordict_module.ipynb'
    """
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def describe_lesson(*, stem: str, nb: nbformat.NotebookNode) -> Lesson:
    """Read a lesson's title and what it teaches from its first markdown cell.

    Args:
        stem: the lesson's file name without suffix.
        nb: the lesson notebook.

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
    ...     "# Lesson 07 — Composite actions\\n\\nIntro.\\n\\n**What you will learn**\\n\\n"
    ...     "- one thing;\\n- another.\\n\\nMore text.")])
    >>> lesson = describe_lesson(stem="07_composite_actions", nb=nb)
    >>> lesson.short_title, lesson.teaches
    ('Composite actions', '- one thing;\\n- another.')
    """
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    heading = _TITLE.search(first)
    if heading is None:
        raise ValueError(f"{stem}: the first markdown cell has no '# title' line; every lesson "
                         "opens with '# Lesson NN — what it is about'")
    paragraphs = [p.strip() for p in first[heading.end():].split("\n\n") if p.strip()]
    teaches = paragraphs[0] if paragraphs else ""
    for i, paragraph in enumerate(paragraphs):
        if paragraph.startswith(_LEARN):  # the list right under it, blank line or not
            rest = paragraph[len(_LEARN):].strip() or "".join(paragraphs[i + 1:i + 2])
            if rest.startswith(("- ", "* ")):
                teaches = rest
            break
    return Lesson(stem=stem, title=heading.group(1), teaches=teaches)


def page_links(lessons: list[Lesson], index: int) -> dict:
    """The navigation of lesson ``index``'s page: home, previous, next, download.

    Args:
        lessons: every lesson, in order.
        index: the position of the page's lesson in ``lessons``.

    >>> ls = [Lesson(f"0{i}_x", f"Lesson 0{i} — X{i}", "") for i in (1, 2, 3)]
    >>> links = page_links(ls, 0)
    >>> links["prev"], links["next"], links["download"]
    (None, {'href': '02_x.html', 'title': '02 X2'}, 'notebooks/01_x.ipynb')
    """
    def link(other: Lesson) -> dict:
        return {"href": other.page, "title": f"{other.number} {other.short_title}"}

    lesson = lessons[index]
    return {
        "index_href": "index.html",
        "prev": link(lessons[index - 1]) if index > 0 else None,
        "next": link(lessons[index + 1]) if index + 1 < len(lessons) else None,
        "download": f"notebooks/{lesson.stem}.ipynb",
    }


def index_notebook(lessons: list[Lesson]) -> nbformat.NotebookNode:
    """The index page as a notebook of markdown cells, rendered like the lessons.

    Args:
        lessons: every lesson, in order.

    >>> nb = index_notebook([Lesson("01_a", "Lesson 01 — First", "- keys")])
    >>> 'href="01_a.html"' in nb.cells[1].source, "<li>keys</li>" in nb.cells[1].source
    (True, True)
    """
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    rows = []
    for lesson in lessons:
        teaches = markdown2html_mistune(lesson.teaches)
        rows.append(
            f'<tr><td>{lesson.number}</td>'
            f'<td><a href="{lesson.page}">{html.escape(lesson.short_title)}</a></td>'
            f'<td class="rlt-site-teaches">{teaches}</td>'
            f'<td><a href="notebooks/{lesson.stem}.ipynb" download>.ipynb</a></td></tr>'
        )
    intro = (
        "# rltutor — see how TorchRL builds policies\n\n"
        "Every lesson below, executed, with all its outputs: the TensorDict views, the plots "
        "and a still picture of each widget as it was left. To play with the widgets, "
        "download a notebook and open it in JupyterLab with rltutor installed (`make lab` "
        "in a clone of the repository)."
    )
    table = (
        '<table class="rlt-site-lessons">\n<thead><tr><th>#</th><th>lesson</th>'
        "<th>what you will learn</th><th>notebook</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows) + "\n</tbody>\n</table>"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(intro),
                                         nbformat.v4.new_markdown_cell(table)])
    nb.metadata["title"] = "rltutor lessons"
    return nb


def link_pages(source: str, stems: list[str]) -> str:
    """Point a markdown link to another lesson's notebook at that lesson's page.

    Args:
        source: a markdown cell's source.
        stems: the lessons that have a page on the site.

    >>> link_pages("**Next:** [07](07_composite_actions.ipynb)", ["07_composite_actions"])
    '**Next:** [07](07_composite_actions.html)'
    """
    def page(match: re.Match) -> str:
        stem = match.group(2)
        return f"{match.group(1)}{stem}.html" if stem in stems else match.group(0)

    return re.sub(r"""(\]\(|href=["'])(\d\d_\w+)\.ipynb""", page, source)


def cell_sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def widgets_without_still(nb: nbformat.NotebookNode) -> list[int]:
    """Execution counts of cells showing a widget that carries no ``image/png`` still.

    Args:
        nb: an executed notebook.

    >>> out = nbformat.v4.new_output("display_data", {WIDGET_VIEW: {"model_id": "x"}})
    >>> widgets_without_still(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "w", execution_count=4, outputs=[out])]))
    [4]
    """
    missing = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "image/png" not in data:
                missing.append(cell.execution_count)
    return missing


GRID_DIR_ENV = "RLTUTOR_GRID_DIR"  # as rltutor.widgets._panel reads it
GRIDS = ROOT / "build" / "grids"


def _execute(source: Path, target: Path, grids: Path = GRIDS) -> float:
    """Run one lesson in a fresh kernel, as tests/test_lessons.py does; write it to target.

    Its panels write their grids to ``grids`` (the kernel inherits the environment).
    """
    import os

    from nbclient import NotebookClient

    os.environ[GRID_DIR_ENV] = str(grids.resolve())
    start = time.perf_counter()
    nb = nbformat.read(source, as_version=4)
    # log_level: the kernel's start-up warnings (plain-TCP transport) are not lesson output.
    # shutdown_kernel: every output is in once the last cell is done; a graceful shutdown
    # of a lesson with a replay buffer waits 5 s (tools/fork_kernels.py says why).
    NotebookClient(nb, timeout=600, kernel_name="python3", shutdown_kernel="immediate",
                   extra_arguments=["--IPKernelApp.log_level=ERROR"],
                   resources={"metadata": {"path": str(source.parent)}}).execute()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    nbformat.write(nb, partial)
    partial.replace(target)
    return time.perf_counter() - start


def newest_change(folder: Path | None) -> float:
    """The modification time of the newest file under ``folder`` (0.0 when there is none).

    A kept run of a lesson is stale when anything the lesson imports changed after it.
    Bytecode is not a change: Python writes ``__pycache__`` the first time a module is
    imported, which can be after the run (``make unit`` imports every module).

    Args:
        folder: the folder to look through, e.g. the ``rltutor`` package; None gives 0.0.

    >>> newest_change(None)
    0.0
    """
    if folder is None or not folder.exists():
        return 0.0
    return max((p.stat().st_mtime for p in folder.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts), default=0.0)


def kept_run_is_current(*, kept: Path, source: Path, newest_change: float) -> bool:
    """Whether ``kept`` is a run of ``source`` as it is now, made after ``newest_change``.

    Args:
        kept: an executed notebook from an earlier build or test run (may be missing).
        source: the lesson notebook.
        newest_change: the time of the last change to what the lesson imports.
    """
    if not kept.exists() or kept.stat().st_mtime < newest_change:
        return False
    try:
        executed = nbformat.read(kept, as_version=4)
    except Exception:  # noqa: BLE001 - a half-written run is simply run again
        return False
    return cell_sources(executed) == cell_sources(nbformat.read(source, as_version=4))


def executed_notebooks(
    sources: list[Path], build: Path, *, workers: int = 2, library: Path | None = None,
    grids: Path = GRIDS,
) -> dict[Path, str]:
    """Make sure ``build/NN_name.ipynb`` is a current execution of every source.

    An earlier execution is current when its cells are the source's cells and it is newer
    than every file in ``library`` (the package the lessons import). Returns how each was
    obtained ("reused" or "executed in N s").
    """
    how: dict[Path, str] = {}
    todo = []
    newest = newest_change(library)
    for source in sources:
        kept = build / source.name
        if kept_run_is_current(kept=kept, source=source, newest_change=newest) and \
                grid.grids_are_current(nbformat.read(kept, as_version=4), grids=grids):
            how[source] = "reused"
        else:
            todo.append(source)
    failed = []
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(todo) or 1))) as pool:
        futures = {s: pool.submit(_execute, s, build / s.name, grids) for s in todo}
        for source, future in futures.items():
            try:
                how[source] = f"executed in {future.result():.0f} s"
            except Exception as exc:  # noqa: BLE001 - report every failing lesson, then stop
                failed.append(f"{source.name}: {_one_line(exc)}")
    if failed:
        raise RuntimeError("lessons failed to run, so the site was not built:\n  "
                           + "\n  ".join(failed))
    return how


def _one_line(exc: BaseException) -> str:
    """The error a failing cell raised, without its traceback (nbclient's ename/evalue)."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"


def _exporter():
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="rltutor_site",
                            extra_template_basedirs=[str(TEMPLATE_DIR)])
    exporter.register_filter("rlt_alt", grid.alt_text)
    return exporter


def _write_static(exporter, out: Path) -> None:
    env = exporter.environment
    static = out / "static"
    static.mkdir(parents=True, exist_ok=True)
    for source, name in [("static/index.css", "jupyterlab.css"),
                         ("static/theme-light.css", "theme-light.css"),
                         ("static/theme-dark.css", "theme-dark.css")]:
        (static / name).write_text(env.loader.get_source(env, source)[0])
    shutil.copy(TEMPLATE_DIR / "rltutor_site" / "site.css", static / "site.css")
    grid.write_static(out)


def render_page(exporter, nb: nbformat.NotebookNode, *, name: str, site: dict) -> str:
    """One page of the site: the notebook through the rltutor_site template, no widget state."""
    nb = nbformat.from_dict(nb)
    nb.metadata.pop("widgets", None)  # the stills show only when there is no state to prefer
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name},
                                                         "site": site})
    return body


_WORKER_EXPORTER = None


def _render_in_worker(job: tuple) -> str:
    """``render_page`` in a pool process, with that process's own exporter."""
    global _WORKER_EXPORTER
    if _WORKER_EXPORTER is None:
        _WORKER_EXPORTER = _exporter()
    nb, name, site = job
    return render_page(_WORKER_EXPORTER, nb, name=name, site=site)


def render_pages(jobs: list[tuple], *, workers: int) -> list[str]:
    """``render_page`` for each ``(nb, name, site)``, on ``workers`` processes at once.

    nbconvert takes about a second a page here (templates, and bleach cleaning each
    markdown cell's HTML); the pages do not depend on each other.

    Args:
        jobs: one ``(notebook, page name, site links)`` per page, in order.
        workers: processes; 1 renders in this process.

    >>> render_pages([], workers=2)
    []
    """
    if workers <= 1 or len(jobs) <= 1:
        return [_render_in_worker(job) for job in jobs]
    import concurrent.futures
    import multiprocessing

    with concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_render_in_worker, jobs))


def build_site(
    *, lessons_dir: Path, out: Path, build: Path, workers: int = 2,
    library: Path | None = ROOT / "rltutor", grids: Path = GRIDS,
) -> dict:
    """Execute (or reuse) every lesson and write the whole site to ``out``.

    Args:
        lessons_dir: where the lesson notebooks are.
        out: the site folder; replaced as a whole.
        build: where executed notebooks are kept (and looked for, to reuse).
        workers: lessons executed at the same time, and pages rendered at the same time.
        library: a folder whose changes make earlier executions stale (None: only the
            lessons' own cells decide).
        grids: where the lessons' panels write their grids (``RLTUTOR_GRID_DIR``).

    Returns a report: pages written, how each lesson was executed, widgets with no still,
    the explorables per lesson (``grids``: count, settings, render seconds, stills and
    why), total size in bytes.
    """
    sources = lesson_notebooks(lessons_dir)
    if not sources:
        raise FileNotFoundError(f"no lesson notebooks (NN_name.ipynb) in {lessons_dir}")
    how = executed_notebooks(sources, build, workers=workers, library=library, grids=grids)
    lessons = [describe_lesson(stem=s.stem, nb=nbformat.read(s, as_version=4)) for s in sources]
    if out.exists():
        shutil.rmtree(out)
    (out / "notebooks").mkdir(parents=True)
    exporter = _exporter()
    _write_static(exporter, out)
    no_still, grids_report, jobs = {}, {}, []
    for i, (source, lesson) in enumerate(zip(sources, lessons)):
        nb = nbformat.read(build / source.name, as_version=4)
        grids_report[lesson.stem] = grid.make_explorable(nb, grids=grids, out=out)
        nb.metadata["title"] = lesson.title
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = link_pages(cell.source, [x.stem for x in lessons])
        if missing := widgets_without_still(nb):
            no_still[lesson.stem] = missing
        jobs.append((nb, lesson.stem, page_links(lessons, i)))
        shutil.copy(source, out / "notebooks" / source.name)
    home = {"index_href": "index.html", "prev": None, "next": None, "download": None}
    jobs.append((index_notebook(lessons), "index", home))
    pages = [*(out / lesson.page for lesson in lessons), out / "index.html"]
    for path, page in zip(pages, render_pages(jobs, workers=workers), strict=True):
        path.write_text(page)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {"pages": len(lessons) + 1, "how": {s.stem: how[s] for s in sources},
            "no_still": no_still, "grids": grids_report, "bytes": size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_site",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--lessons", type=Path, default=ROOT / "lessons")
    parser.add_argument("--out", type=Path, default=ROOT / "site")
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "executed")
    parser.add_argument("--grids", type=Path, default=GRIDS,
                        help="where the lessons' panels write their precomputed grids")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        report = build_site(lessons_dir=args.lessons, out=args.out, build=args.build,
                            workers=args.workers, grids=args.grids)
    except (RuntimeError, FileNotFoundError, ValueError) as exc:
        print(f"make site: {exc}", file=sys.stderr)
        return 1
    for stem, how in report["how"].items():
        g = report["grids"][stem]
        made = (f"; {g['explorable']} explorable ({g['settings']} settings, drawn in "
                f"{g['seconds']:.1f} s, {g['cpu_seconds']:.1f} s CPU)" if g["explorable"] else "")
        stills = "".join(f"; a still: {why}" for why in g["stills"])
        print(f"  {stem}: {how}{made}{stills}")
    settings = sum(g["settings"] for g in report["grids"].values())
    seconds = sum(g["seconds"] for g in report["grids"].values())
    cpu = sum(g["cpu_seconds"] for g in report["grids"].values())
    print(f"  explorables: {settings} settings, drawn in {seconds:.0f} s ({cpu:.0f} s CPU) "
          "in the lesson runs")
    for stem, cells in report["no_still"].items():
        print(f"  warning: {stem}: widget with no image/png still in cell(s) "
              f"{', '.join(f'[{c}]' for c in cells)}", file=sys.stderr)
    print(f"site: {report['pages']} pages, {report['bytes'] / 1e6:.1f} MB in {args.out} "
          f"({time.perf_counter() - start:.0f} s); open {args.out / 'index.html'} or run "
          f"`python -m http.server -d {args.out}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
