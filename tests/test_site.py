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

ROOT = Path(__file__).resolve().parents[1]
BUILT = os.environ.get("RLTUTOR_SITE")
MAX_BYTES = 20_000_000
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
def browser(built: Path):
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
    context = browser.new_context(color_scheme=scheme)
    log: list[str] = []

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
    problems, seen_by_page = [], {}
    try:
        for path in _pages(built):
            log.clear()
            page.goto(base + path.name, wait_until="load")
            page.evaluate("() => Promise.all([...document.images].map(i => i.decode()"
                          ".catch(() => null)))")
            seen = page.evaluate(_INSPECT)
            seen_by_page[path.name] = seen
            problems += _page_problems(path.name, seen, list(log))
    finally:
        context.close()
    return problems, seen_by_page


@pytest.mark.browser
@pytest.mark.parametrize("origin", ["file", "http"])
def test_built_site_every_page_in_chromium(
    browser, built: Path, http_root: str, origin: str
) -> None:
    base = built.resolve().as_uri() + "/" if origin == "file" else http_root
    problems, seen = _visit_all(browser, built, base, "light")
    assert problems == [], "\n".join(problems)
    assert len(seen) == len(_pages(built))


@pytest.mark.browser
def test_built_site_follows_the_system_theme(browser, built: Path) -> None:
    base = built.resolve().as_uri() + "/"
    _, light = _visit_all(browser, built, base, "light")
    problems, dark = _visit_all(browser, built, base, "dark")
    assert problems == [], "\n".join(problems)
    for name in light:
        assert (light[name]["light"], dark[name]["light"]) == ("true", "false"), name
        assert _luminance(light[name]["background"]) > 0.8 > 0.2 > _luminance(
            dark[name]["background"]), (name, light[name]["background"], dark[name]["background"])


def _luminance(css_color: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css_color)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
