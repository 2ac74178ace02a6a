"""The static course site (tools/build_site.py, `make site`).

Fast tests of the pure parts (lesson descriptions, links, index, widget stills, rendering)
run everywhere. The built site is checked by `make site-test`, which builds `site/` and
runs the `built_site` tests with RLTUTOR_SITE=site: every page opened in headless Chromium
from disk and over http, with every request outside the site aborted.
"""

from __future__ import annotations

import base64
import functools
import http.server
import os
import re
import threading
from pathlib import Path

import nbformat
import pytest

from tools import build_site as site
from tools import build_site_grid as grid

ROOT = Path(__file__).resolve().parents[1]
BUILT = os.environ.get("RLTUTOR_SITE")
MAX_BYTES = 40_000_000  # issue 27: the whole site, explorables included
# A 1x1 PNG, the smallest still a widget output can carry.
PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)).decode()


def _lessons(n: int) -> list[site.Lesson]:
    return [site.Lesson(f"{i:02d}_l{i}", f"Lesson {i:02d} — Topic {i}", f"- idea {i}")
            for i in range(1, n + 1)]


# -- pure parts ----------------------------------------------------------------------------


def test_every_real_lesson_has_a_title_and_says_what_it_teaches() -> None:
    notebooks = site.lesson_notebooks(ROOT / "lessons")
    assert notebooks, "no lessons found"
    for path in notebooks:
        lesson = site.describe_lesson(stem=path.stem, nb=nbformat.read(path, as_version=4))
        assert lesson.title.startswith(f"Lesson {path.stem[:2]}"), lesson.title
        assert lesson.short_title and not lesson.short_title.startswith("Lesson")
        assert len(lesson.teaches) > 20, f"{path.name}: nothing said about what it teaches"
        assert lesson.teaches.startswith("- "), f"{path.name}: no 'What you will learn' list"


def test_the_learn_list_is_found_with_or_without_a_blank_line_under_its_heading() -> None:
    for gap in ("\n", "\n\n"):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
            f"# Lesson 04 — Four\n\nIntro.\n\n**What you will learn**{gap}- a\n  b\n- c\n\nEnd.")])
        assert site.describe_lesson(stem="04_four", nb=nb).teaches == "- a\n  b\n- c"


def test_a_lesson_without_a_learn_list_is_described_by_its_first_paragraph() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "# Lesson 03 — Three\n\nWhat this is about.\n\nMore.")])
    assert site.describe_lesson(stem="03_three", nb=nb).teaches == "What this is about."


def test_a_lesson_without_a_title_is_refused_with_the_expected_form() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("no heading")])
    with pytest.raises(ValueError, match="# Lesson NN"):
        site.describe_lesson(stem="05_x", nb=nb)


def test_links_chain_the_lessons_in_order() -> None:
    lessons = _lessons(3)
    first, middle, last = (site.page_links(lessons, i) for i in range(3))
    assert first["prev"] is None and first["next"]["href"] == "02_l2.html"
    assert middle["prev"]["href"] == "01_l1.html" and middle["next"]["href"] == "03_l3.html"
    assert last["next"] is None and last["prev"]["title"] == "02 Topic 2"
    assert middle["download"] == "notebooks/02_l2.ipynb"
    assert {link["index_href"] for link in (first, middle, last)} == {"index.html"}


def test_links_to_lesson_notebooks_point_at_their_pages() -> None:
    source = ("[next](02_l2.ipynb), <a href='03_l3.ipynb'>3</a>, [gone](09_gone.ipynb), "
              "[docs](https://example.org/04_l4.ipynb)")
    assert site.link_pages(source, ["02_l2", "03_l3", "04_l4"]) == (
        "[next](02_l2.html), <a href='03_l3.html'>3</a>, [gone](09_gone.ipynb), "
        "[docs](https://example.org/04_l4.ipynb)")


def test_index_links_every_lesson_page_and_notebook() -> None:
    table = site.index_notebook(_lessons(4)).cells[1].source
    for i in range(1, 5):
        assert f'href="{i:02d}_l{i}.html"' in table
        assert f'href="notebooks/{i:02d}_l{i}.ipynb"' in table
        assert f"<li>idea {i}</li>" in table


def _widget_output(*, still: bool) -> nbformat.NotebookNode:
    data = {site.WIDGET_VIEW: {"model_id": "ab" * 16, "version_major": 2, "version_minor": 0},
            "text/plain": "FigureControls(children=(...))"}
    if still:
        data["image/png"] = PIXEL
    return nbformat.v4.new_output("display_data", data)


def _page(*outputs: nbformat.NotebookNode) -> str:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Lesson 01 — T\n\n$x^2$"),
        nbformat.v4.new_code_cell("w", execution_count=7, outputs=list(outputs)),
    ])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0, "state": {"ab" * 16: {}}}}
    links = site.page_links(_lessons(2), 0)
    return site.render_page(site._exporter(), nb, name="01_l1", site=links)


def test_a_widget_with_a_still_shows_the_still_even_with_widget_state_saved() -> None:
    page = _page(_widget_output(still=True))
    assert f"data:image/png;base64,{PIXEL}" in page
    assert "widget-view+json" not in page and "widget-state+json" not in page
    assert page.count("rlt-site-still-note") == 1  # says the picture moves in the notebook
    plain = _page(nbformat.v4.new_output("display_data", {"image/png": PIXEL}))
    assert "rlt-site-still-note" not in plain and f"base64,{PIXEL}" in plain


def test_a_widget_without_a_still_is_named_not_printed() -> None:
    output = _widget_output(still=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "w", execution_count=7, outputs=[output])])
    assert site.widgets_without_still(nb) == [7]
    page = _page(output)
    assert "rlt-site-no-still" in page and "FigureControls(children" not in page


def test_pages_load_nothing_from_a_network() -> None:
    page = _page(_widget_output(still=True))
    assert _remote_sources(page) == []
    assert "require.js" not in page and "mathjax" not in page.lower()
    assert 'href="02_l2.html"' in page and 'href="notebooks/01_l1.ipynb"' in page


_REMOTE = re.compile(r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*?"
                     r"\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^\"'\s>]*", re.I)


def _remote_sources(page: str) -> list[str]:
    return _REMOTE.findall(page)


def test_a_remote_script_would_be_caught() -> None:
    assert _remote_sources('<script src="https://cdn.example/x.js"></script>')
    assert _remote_sources("<link rel=stylesheet href=//cdn.example/x.css>")
    assert not _remote_sources('<a href="https://pytorch.org/rl">docs</a>')


def test_a_tiny_course_builds_and_a_second_build_reuses_the_execution(tmp_path: Path) -> None:
    lessons, out, build = tmp_path / "lessons", tmp_path / "site", tmp_path / "build"
    lessons.mkdir()
    library = tmp_path / "library"  # stands in for rltutor/: its changes make runs stale
    library.mkdir()
    (library / "module.py").write_text("")
    build_site = functools.partial(site.build_site, out=out, build=build, library=library)
    for i in (1, 2):
        nbformat.write(nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_markdown_cell(f"# Lesson 0{i} — Tiny {i}\n\nAdds numbers."),
            nbformat.v4.new_code_cell(f"print({i} + 1)"),
        ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}}), lessons / f"0{i}_tiny.ipynb")
    report = build_site(lessons_dir=lessons)
    assert report["pages"] == 3 and all(h.startswith("executed") for h in report["how"].values())
    page = (out / "02_tiny.html").read_text()
    assert "Tiny 2" in page and "<pre>3" in page.replace("\n", "")
    assert (out / "notebooks" / "01_tiny.ipynb").exists()
    assert build_site(lessons_dir=lessons)["how"] == {"01_tiny": "reused", "02_tiny": "reused"}
    # an edited lesson is executed again, the unchanged one is not
    edited = nbformat.read(lessons / "02_tiny.ipynb", as_version=4)
    edited.cells[1].source = "print(40 + 2)"
    nbformat.write(edited, lessons / "02_tiny.ipynb")
    how = build_site(lessons_dir=lessons)["how"]
    assert how["01_tiny"] == "reused" and how["02_tiny"].startswith("executed")
    assert "42" in (out / "02_tiny.html").read_text()
    # a change in what the lessons import makes every earlier run stale; so does a torn file
    kept, source = build / "01_tiny.ipynb", lessons / "01_tiny.ipynb"
    now = kept.stat().st_mtime
    assert site.kept_run_is_current(kept=kept, source=source, newest_change=now - 1)
    assert not site.kept_run_is_current(kept=kept, source=source, newest_change=now + 1)
    # bytecode written after the run (a first import) is not a change to the library
    (library / "__pycache__").mkdir(exist_ok=True)
    (library / "__pycache__" / "module.cpython-311.pyc").write_bytes(b"")
    os.utime(library / "__pycache__" / "module.cpython-311.pyc", (now + 1, now + 1))
    assert site.kept_run_is_current(kept=kept, source=source,
                                    newest_change=site.newest_change(library))
    (library / "module.py").write_text("# changed")
    os.utime(library / "module.py", (now + 1, now + 1))
    assert not site.kept_run_is_current(kept=kept, source=source,
                                        newest_change=site.newest_change(library))
    kept.write_text(kept.read_text()[:100])
    assert not site.kept_run_is_current(kept=kept, source=source, newest_change=0)


def test_a_failing_lesson_is_named_with_its_error_line(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Lesson 01 — Broken"),
        nbformat.v4.new_code_cell("raise KeyError('observation')"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}}), lessons / "01_broken.ipynb")
    with pytest.raises(RuntimeError, match=r"01_broken.ipynb: KeyError: 'observation'"):
        site.build_site(lessons_dir=lessons, out=tmp_path / "site", build=tmp_path / "b",
                        library=None)


# -- explorables: a panel's precomputed grid as HTML controls ------------------------------


def _fake_grid(folder: Path, *, settings: int = 6) -> str:
    """A grid as a panel writes it: slope (3 values) x dashed (2), pictures of 1 pixel."""
    controls = [
        {"name": "slope", "kind": "slider", "description": "slope", "values": [0, 0.5, 1],
         "labels": ["0.0", "0.5", "1.0"], "index": 1, "min": 0, "max": 1, "step": 0.1},
        {"name": "dashed", "kind": "checkbox", "description": "dashed",
         "values": [False, True], "labels": ["off", "on"], "index": 0},
    ]
    pngs = [base64.b64decode(PIXEL) + bytes([i]) for i in range(settings)]
    from rltutor.widgets._grid import write_grid

    return write_grid({"controls": controls, "pngs": pngs, "seconds": 0.5,
                       "summaries": [f"<b>total {i}</b>" for i in range(settings)],
                       "alts": [f"Plot of line {i}." for i in range(settings)],
                       "errors": [None] * settings}, folder)


def _gridded_output(info: dict) -> nbformat.NotebookNode:
    output = _widget_output(still=True)
    output.data[grid.GRID_MIME] = info
    output.data["text/plain"] = "Plot of a line."
    return output


def test_a_gridded_panel_becomes_controls_a_label_and_the_picture(tmp_path: Path) -> None:
    grids, out = tmp_path / "grids", tmp_path / "site"
    grid_id = _fake_grid(grids)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "panel", execution_count=3, outputs=[_gridded_output({"id": grid_id, "settings": 6})])])
    report = grid.make_explorable(nb, grids=grids, out=out)
    assert (report["explorable"], report["settings"], report["stills"]) == (1, 6, [])
    assert sorted(p.name for p in (out / "grids" / grid_id).iterdir()) == [
        f"{i:03d}.png" for i in range(6)]
    page = _page(*nb.cells[0].outputs)
    assert "precomputed: 6 settings; run the notebook for any value" in page
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    slope, dashed = soup.select(".rlt-explorable [data-axis]")
    assert (slope["type"], slope["min"], slope["max"], slope["step"], slope["value"]) == (
        "range", "0", "1", "0.1", "0.5")
    assert dashed["type"] == "checkbox" and not dashed.has_attr("checked")
    # the lesson's setting (slope 0.5, not dashed) is setting 2, shown first
    img = soup.select_one("img.rlt-explorable-picture")
    assert img["src"] == f"grids/{grid_id}/002.png"
    assert img["alt"] == "Plot of line 2. Setting: slope 0.5, dashed off."
    assert "<b>total 2</b>" in page and "widget-view+json" not in page
    assert 'src="static/explorable.js"' in page and 'rel="icon"' in page


def test_a_panel_without_a_grid_keeps_its_still_and_says_why(tmp_path: Path) -> None:
    reason = "it has no controls: it shows what code feeds it"
    outputs = [_gridded_output({"settings": 0, "reason": reason}),
               _gridded_output({"id": "0123456789abcdef", "settings": 4})]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("v", outputs=outputs)])
    report = grid.make_explorable(nb, grids=tmp_path, out=tmp_path / "site")
    assert report["explorable"] == 0
    assert report["stills"] == [reason, "its precomputed pictures are missing"]
    page = _page(*nb.cells[0].outputs)
    assert page.count("rlt-site-still-note") == 2 and reason in page
    assert 'alt="Plot of a line."' in page


def test_alt_text_is_a_description_never_a_repr() -> None:
    assert grid.alt_text({"text/plain": "Plot of reward against step."}) != ""
    for bare in ("<Figure size 640x480 with 1 Axes>", "<IPython.core.display.Image object>",
                 ""):
        assert grid.alt_text({"text/plain": bare}) == ""
    widget = {site.WIDGET_VIEW: {}, "text/plain": "VBox(children=(HTML(value='')))"}
    assert grid.alt_text(widget) == ""
    described = _page(nbformat.v4.new_output("display_data", {
        "image/png": PIXEL, "text/plain": "Plot of the return."}))
    bare = _page(nbformat.v4.new_output("display_data", {
        "image/png": PIXEL, "text/plain": "<Figure size 640x480 with 1 Axes>"}))
    assert 'alt="Plot of the return."' in described
    assert _images_without_alt(described) == [] and len(_images_without_alt(bare)) == 1


_IMG = re.compile(r"<img\b[^>]*>", re.I)
# what nbconvert writes into an <img> that has no alt text: not a description either
NO_ALT = "No description has been provided for this image"


def _images_without_alt(page: str) -> list[str]:
    return [tag[:80] for tag in _IMG.findall(page)
            if not re.search(r"""\balt\s*=\s*["'][^"']*\S""", tag) or NO_ALT in tag]


def test_a_kept_run_made_without_grids_is_not_current(tmp_path: Path) -> None:
    cell = nbformat.v4.new_code_cell("rltutor.explorer(env, policy)", outputs=[
        _widget_output(still=True)])
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert not grid.grids_are_current(nb, grids=tmp_path)
    cell.outputs = [_gridded_output({"id": _fake_grid(tmp_path), "settings": 6})]
    assert grid.grids_are_current(nb, grids=tmp_path)
    cell.outputs = [_gridded_output({"id": "gone", "settings": 6})]
    assert not grid.grids_are_current(nb, grids=tmp_path)


def test_a_lesson_panel_is_precomputed_when_the_site_runs_it(tmp_path: Path) -> None:
    lessons, out, grids = tmp_path / "lessons", tmp_path / "site", tmp_path / "grids"
    lessons.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Lesson 01 — A slope\n\nDraws a line."),
        nbformat.v4.new_code_cell(
            "import ipywidgets as widgets, rltutor\n"
            "from matplotlib.figure import Figure\n"
            "def line(slope):\n"
            "    fig = Figure(figsize=(2, 1.5))\n"
            "    fig.add_subplot(ylabel='height').plot([0, 1], [0, slope])\n"
            "    return fig\n"
            "rltutor.interact_figure(line, slope=widgets.IntSlider(1, 0, 4))"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}}), lessons / "01_slope.ipynb")
    report = site.build_site(lessons_dir=lessons, out=out, build=tmp_path / "build",
                             library=None, grids=grids)
    assert report["grids"]["01_slope"]["explorable"] == 1
    assert report["grids"]["01_slope"]["settings"] == 5
    page = (out / "01_slope.html").read_text()
    assert "precomputed: 5 settings" in page and "rlt-site-still-note" not in page
    assert len(list(out.glob("grids/*/00?.png"))) == 5
    assert _images_without_alt(page) == []


# -- the built site (make site-test) -------------------------------------------------------


@pytest.fixture(scope="module")
def built() -> Path:
    if not BUILT:
        pytest.skip("the built site is checked by `make site-test` (RLTUTOR_SITE=site)")
    path = Path(BUILT)
    if not (path / "index.html").exists():
        pytest.fail(f"RLTUTOR_SITE={BUILT} has no index.html: build it with `make site`")
    return path


def _pages(built: Path) -> list[Path]:
    return sorted(built.glob("*.html"))


def test_built_site_has_a_page_for_every_lesson(built: Path) -> None:
    lessons = [p.stem for p in site.lesson_notebooks(ROOT / "lessons")]
    assert sorted(p.stem for p in _pages(built)) == sorted([*lessons, "index"])
    for stem in lessons:
        assert (built / "notebooks" / f"{stem}.ipynb").exists()


def test_built_site_is_small_and_loads_nothing_remote(built: Path) -> None:
    size = sum(p.stat().st_size for p in built.rglob("*") if p.is_file())
    assert size < MAX_BYTES, f"site is {size / 1e6:.1f} MB, budget {MAX_BYTES / 1e6:.0f} MB"
    remote = {p.name: _remote_sources(p.read_text()) for p in _pages(built)}
    assert {name: found for name, found in remote.items() if found} == {}


_HREF = re.compile(r"<a\b[^>]*\bhref=\"([^\"#]+)", re.I)


def test_built_site_links_resolve(built: Path) -> None:
    broken = []
    for page in _pages(built):
        for href in _HREF.findall(page.read_text()):
            if re.match(r"[a-z]+:", href):  # https://..., mailto:: links out, not pages
                continue
            if not (built / href).is_file():
                broken.append(f"{page.name} -> {href}")
    assert broken == []


# what a page must show, read in the browser after load
_INSPECT = r"""() => {
    const imgs = [...document.images];
    return {
        title: document.title,
        h1: document.querySelector('h1') ? document.querySelector('h1').textContent : '',
        text: document.body.innerText,
        imgs: imgs.length,
        broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 60)),
        noAlt: imgs.filter(i => !(i.getAttribute('alt') || '').trim() ||
                                i.alt.startsWith('No description has been provided'))
                   .map(i => i.src.slice(0, 60)),
        icon: !!document.querySelector('link[rel="icon"]'),
        explorables: document.querySelectorAll('.rlt-explorable').length,
        noStill: [...document.querySelectorAll('.rlt-site-no-still')].map(el => {
            const cell = el.closest('.jp-Cell');
            const prompt = cell && cell.querySelector('.jp-InputPrompt');
            return prompt ? prompt.textContent.replace(/\s+/g, " ").trim() : "?";
        }),
        widgetScripts: document.querySelectorAll('script[type*="jupyter.widget"]').length,
        light: document.body.getAttribute('data-jp-theme-light'),
        background: getComputedStyle(document.body).backgroundColor,
    };
}"""
_PLACEHOLDERS = re.compile(r"Loading widget|Error displaying widget|\b[0-9a-f]{32}\b|model_id")


def _page_problems(name: str, seen: dict, log: list[str]) -> list[str]:
    problems = [f"{name}: {entry}" for entry in log]
    problems += [f"{name}: image not loaded: {src}" for src in seen["broken"]]
    problems += [f"{name}: image without alt text: {src}" for src in seen["noAlt"]]
    if not seen["icon"]:
        problems.append(f"{name}: no favicon link")
    if placeholder := _PLACEHOLDERS.search(seen["text"]):
        problems.append(f"{name}: widget placeholder on the page: {placeholder.group(0)!r}")
    if seen["widgetScripts"]:
        problems.append(f"{name}: {seen['widgetScripts']} widget views left to a widget manager")
    problems += [f"{name}: widget with no still picture in cell {p}" for p in seen["noStill"]]
    if name != "index.html":
        number = name[:2]
        if not (seen["title"].startswith(f"Lesson {number}") and
                seen["h1"].startswith(f"Lesson {number}")):
            problems.append(f"{name}: title {seen['title']!r} / heading {seen['h1']!r}")
        if seen["imgs"] - len(seen["broken"]) < 1:
            problems.append(f"{name}: no picture")
    return problems


@pytest.fixture(scope="module")
def browser(built: Path, chromium):
    return chromium


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium, one for the module (Playwright's sync API allows one at a time)."""
    from test_browser import CHROMIUM, CHROMIUM_FLAGS, _require_browser

    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def http_root(built: Path):
    """`python -m http.server -d site`, in a thread, on a free port."""
    handler = functools.partial(_QuietHandler, directory=str(built))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _visit_all(browser, built: Path, base: str, scheme: str) -> tuple[list[str], dict]:
    log: list[str] = []
    context, page = _site_context(browser, base, scheme, log)
    problems, seen_by_page = [], {}
    try:
        for path in _pages(built):
            log.clear()
            page.goto(base + path.name, wait_until="load")
            page.evaluate("() => Promise.all([...document.images].map(i => i.decode()"
                          ".catch(() => null)))")
            # every explorable preloads its pictures: wait for them (a failure is logged)
            page.wait_for_function("() => [...document.querySelectorAll('.rlt-explorable')]"
                                   ".every(e => e.dataset.ready)", timeout=60_000)
            seen = page.evaluate(_INSPECT)
            seen_by_page[path.name] = seen
            problems += _page_problems(path.name, seen, list(log))
    finally:
        context.close()
    return problems, seen_by_page


@pytest.fixture(scope="module")
def light_visit(browser, built: Path) -> tuple[list[str], dict]:
    """Every page from disk in light mode, visited once for the two tests that read it."""
    return _visit_all(browser, built, built.resolve().as_uri() + "/", "light")


@pytest.mark.browser
@pytest.mark.parametrize("origin", ["file", "http"])
def test_built_site_every_page_in_chromium(
    browser, built: Path, http_root: str, light_visit, origin: str
) -> None:
    problems, seen = (light_visit if origin == "file" else
                      _visit_all(browser, built, http_root, "light"))
    assert problems == [], "\n".join(problems)
    assert len(seen) == len(_pages(built))


@pytest.mark.browser
def test_built_site_follows_the_system_theme(browser, built: Path, light_visit) -> None:
    base = built.resolve().as_uri() + "/"
    _, light = light_visit
    problems, dark = _visit_all(browser, built, base, "dark")
    assert problems == [], "\n".join(problems)
    for name in light:
        assert (light[name]["light"], dark[name]["light"]) == ("true", "false"), name
        assert _luminance(light[name]["background"]) > 0.8 > 0.2 > _luminance(
            dark[name]["background"]), (name, light[name]["background"], dark[name]["background"])


def _luminance(css_color: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css_color)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


# -- explorables in Chromium: Tab to a control, arrow keys, the precomputed picture --------

# Focus lands just before the explorable's first movable control; a Tab then reaches it.
_FOCUS_BEFORE = r"""(n) => {
    const root = document.querySelectorAll('.rlt-explorable')[n];
    const fields = [...root.querySelectorAll('[data-axis]')].filter(f => !f.disabled);
    const field = fields[0];
    const anchor = document.createElement('span');
    anchor.tabIndex = 0; anchor.id = 'rlt-test-anchor';
    field.closest('label').before(anchor);
    anchor.focus();
    const data = JSON.parse(root.querySelector('script.rlt-explorable-data').textContent);
    const axis = data.controls[+field.dataset.axis];
    let index = +field.value;  // a menu's option or a slider over choices
    if (field.type === 'checkbox') index = field.checked ? 1 : 0;
    else if (axis.kind === 'slider' || axis.kind === 'number')
        index = axis.values.indexOf(+field.value);
    return {axis: +field.dataset.axis, setting: +root.dataset.setting, count: fields.length,
            checkbox: field.type === 'checkbox', atEnd: index === axis.values.length - 1};
}"""
_STATE = r"""(n) => {
    const root = document.querySelectorAll('.rlt-explorable')[n];
    const data = JSON.parse(root.querySelector('script.rlt-explorable-data').textContent);
    const img = root.querySelector('img.rlt-explorable-picture');
    const active = document.activeElement;
    return {setting: +root.dataset.setting, src: img.getAttribute('src'),
            expected: data.files[+root.dataset.setting], alt: img.alt,
            loaded: img.complete && img.naturalWidth > 0, swapMs: root.dataset.swapMs,
            focused: active && active.dataset ? active.dataset.axis : null,
            summary: root.querySelector('.rlt-explorable-summary').innerHTML,
            expectedSummary: Object.assign(document.createElement('div'),
                {innerHTML: data.summaries[+root.dataset.setting]}).innerHTML};
}"""


def move_by_keyboard(page, n: int = 0) -> dict:
    """Tab to explorable ``n``'s first control, press the arrow key; what the page shows.

    The page preloads an explorable's pictures when it has loaded; the swap is timed once
    they are in (the budget is the swap, not a first download).
    """
    page.wait_for_function("() => [...document.querySelectorAll('.rlt-explorable')]"
                           ".every(e => e.dataset.ready)", timeout=60_000)
    before = page.evaluate(_FOCUS_BEFORE, n)
    page.keyboard.press("Tab")
    focused = page.evaluate(_STATE, n)["focused"]
    # an arrow key moves a slider or a menu (back, from its last value); space, a checkbox
    page.keyboard.press("Space" if before["checkbox"] else
                        "ArrowLeft" if before["atEnd"] else "ArrowRight")
    page.wait_for_function(
        "(n) => document.querySelectorAll('.rlt-explorable')[n].dataset.swapMs", arg=n,
        timeout=5000)
    after = page.evaluate(_STATE, n)
    return {"before": before, "focused": focused, **after}


def _keyboard_problems(name: str, moved: dict) -> list[str]:
    problems = []
    if moved["focused"] != str(moved["before"]["axis"]):
        problems.append(f"{name}: Tab did not reach the control (focus on {moved['focused']})")
    if moved["setting"] == moved["before"]["setting"]:
        problems.append(f"{name}: the arrow key changed no setting")
    if moved["src"] != moved["expected"] or not moved["loaded"]:
        problems.append(f"{name}: picture {moved['src']} shown, {moved['expected']} expected")
    if moved["summary"] != moved["expectedSummary"]:
        problems.append(f"{name}: the summary is not the setting's")
    if not moved["alt"].strip():
        problems.append(f"{name}: the new picture has no alt text")
    return problems


def _site_context(browser, base: str, scheme: str, log: list[str]):
    context = browser.new_context(color_scheme=scheme)

    def route(r) -> None:
        if r.request.url.startswith((base, "data:")):
            r.continue_()
        else:
            log.append(f"request outside the site aborted: {r.request.url[:100]}")
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: log.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: log.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: log.append(f"failed to load {r.url[:100]}"))
    page.on("response", lambda r: log.append(f"HTTP {r.status} for {r.url[:100]}")
            if r.status >= 400 else None)
    return context, page


def _line_panel_site(folder: Path) -> Path:
    """A one-page site around a real panel's grid (slope x style x seed)."""
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    import rltutor
    from rltutor.widgets import _panel
    from rltutor.widgets._grid import write_grid

    def line(slope: int, style: str, seed: int) -> Figure:
        fig = Figure(figsize=(3, 2))
        ax = fig.add_subplot(ylabel="height", xlabel="x")
        ax.plot([0, 1], [seed, slope], ls=style)
        ax.set_ylim(-1, 65)
        return fig

    panel = rltutor.interact_figure(
        line, slope=widgets.IntSlider(16, 2, 64, 2, description="slope"),
        style=widgets.Dropdown(options=["-", "--", ":"]),
        seed=widgets.BoundedIntText(value=0, min=0, max=9))
    # the CPU budget cuts a grid whose first draw was slow (a loaded machine): this test
    # is about the page, so its grid is the full 72 settings whatever the load
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_panel, "GRID_CPU_BUDGET", 1e9)
        line_grid = panel.grid(max_settings=72)
    assert len(line_grid["pngs"]) == 72
    grid_id = write_grid(line_grid, folder / "grids")
    output = _widget_output(still=True)
    output.data[grid.GRID_MIME] = {"id": grid_id, "settings": 72}
    output.data["text/plain"] = panel.description()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Lesson 01 — T"),
        nbformat.v4.new_code_cell("panel", execution_count=1, outputs=[output])])
    out = folder / "site"
    grid.make_explorable(nb, grids=folder / "grids", out=out)
    exporter = site._exporter()
    site._write_static(exporter, out)
    (out / "01_l1.html").write_text(site.render_page(exporter, nb, name="01_l1",
                                                     site=site.page_links(_lessons(1), 0)))
    return out


@pytest.fixture(scope="module")
def line_site(tmp_path_factory) -> Path:
    return _line_panel_site(tmp_path_factory.mktemp("explorable"))


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_explorable_moves_by_keyboard_and_snaps_in_chromium(line_site, chromium,
                                                               scheme) -> None:
    from test_browser import ARTIFACTS

    out = line_site
    base = out.resolve().as_uri() + "/"
    log: list[str] = []
    try:
        context, page = _site_context(chromium, base, scheme, log)
        page.goto(base + "01_l1.html", wait_until="load")
        assert page.evaluate(_INSPECT)["noAlt"] == []
        moved = move_by_keyboard(page)
        assert _keyboard_problems("01_l1.html", moved) == []
        # slope 16 -> 24: settings run slope-major over 3 styles x 3 seeds
        assert moved["setting"] - moved["before"]["setting"] == 9
        swaps = [float(moved["swapMs"])]
        for key in ["ArrowRight", "ArrowLeft", "ArrowLeft", "ArrowRight"]:
            page.evaluate("() => delete document.querySelector('.rlt-explorable')"
                          ".dataset.swapMs")
            page.keyboard.press(key)
            page.wait_for_function(
                "() => document.querySelector('.rlt-explorable').dataset.swapMs")
            swaps.append(float(page.evaluate(_STATE, 0)["swapMs"]))
        # one frame on a loaded machine: the median move (a busy CPU can stall one)
        assert sorted(swaps)[2] < 50, f"swap times (ms): {swaps}"
        page.keyboard.press("Tab")  # the style menu: an arrow picks the next style
        page.keyboard.press("ArrowDown")
        assert page.evaluate(_STATE, 0)["setting"] == moved["setting"] + 3
        # a value between grid points (18, between 16 and 24) snaps to the nearest
        page.evaluate("""() => { const f = document.querySelector('[data-axis="0"]');
            f.value = 18; f.dispatchEvent(new Event('input')); }""")
        snapped = page.evaluate(_STATE, 0)
        assert page.eval_on_selector('[data-axis="0"]', "f => f.value") == "16"
        assert snapped["src"] == snapped["expected"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"site-explorable-{scheme}.png"),
                        full_page=True)
    finally:
        context.close()
    assert log == []


def _pages_with_explorables(built: Path) -> list[Path]:
    return [p for p in _pages(built) if 'class="rlt-explorable"' in p.read_text()]


def test_built_site_every_lesson_with_a_pure_widget_is_explorable(built: Path) -> None:
    panels = re.compile(r"\b(?:explorer|interact_figure)\(")
    lessons = [s.stem for s in site.lesson_notebooks(ROOT / "lessons")
               if any(c.cell_type == "code" and panels.search(c.source)
                      for c in nbformat.read(s, as_version=4).cells)]
    explorable = {p.stem for p in _pages_with_explorables(built)}
    assert [stem for stem in lessons if stem not in explorable] == []


@pytest.mark.browser
@pytest.mark.parametrize(("origin", "scheme"), [("file", "light"), ("file", "dark"),
                                                ("http", "light")])
def test_built_site_explorables_move_by_keyboard(browser, built: Path, http_root: str,
                                                 origin: str, scheme: str) -> None:
    base = built.resolve().as_uri() + "/" if origin == "file" else http_root
    log: list[str] = []
    context, page = _site_context(browser, base, scheme, log)
    problems, swaps = [], []
    try:
        for path in _pages_with_explorables(built):
            log.clear()
            page.goto(base + path.name, wait_until="load")
            moved = move_by_keyboard(page)
            swaps.append(float(moved["swapMs"]))
            problems += _keyboard_problems(path.name, moved) + [
                f"{path.name}: {entry}" for entry in log]
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
    assert swaps and sorted(swaps)[len(swaps) // 2] < 50, f"swap times (ms): {swaps}"
