"""A local wheelhouse of the pinned versions, rebuilt from the project's own ``.venv``.

The wheel test installs rltutor into a fresh virtual environment with no network. pip's
cache is empty on these machines and the local package mirrors hold other versions, so
the only offline copy of the pinned set is the one ``make`` installed into ``.venv``
(with ``-c constraints.txt``). This tool packs the distributions rltutor and nbmake need
back into wheels from that install: each file its RECORD lists, the metadata as installed,
a new RECORD with hashes; compiled ``.pyc`` files and console scripts are left out (pip
writes those again). torch comes from ``/opt/wheels`` when its exact wheel is there.

    python -m tools.wheelhouse build/wheelhouse   # prints the wheels it wrote
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import re
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import sys_tags
from packaging.utils import parse_wheel_filename

__all__ = ["build_wheelhouse", "closure", "compressed_tag", "repack", "wheel_name"]

_SKIPPED_INFO = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"}


def canonical(name: str) -> str:
    """A distribution name as pip compares them.

    Args:
        name: a distribution name.

    >>> canonical("Jupyter_Core")
    'jupyter-core'
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def compressed_tag(tags: list[str]) -> str:
    """The wheel file name's tag for a WHEEL file's ``Tag:`` lines.

    Args:
        tags: ``python-abi-platform`` triples.

    >>> compressed_tag(["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"])
    'cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64'
    """
    parts = [t.split("-") for t in tags]
    return "-".join(".".join(sorted({p[i] for p in parts})) for i in range(3))


def wheel_name(name: str, version: str, tag: str) -> str:
    """A wheel's file name.

    Args:
        name: the distribution name.
        version: its version.
        tag: its compressed tag.

    >>> wheel_name("jupyter-core", "5.9.1", "py3-none-any")
    'jupyter_core-5.9.1-py3-none-any.whl'
    """
    return f"{re.sub(r'[-_.]+', '_', name)}-{version}-{tag}.whl"


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def repack(dist: metadata.Distribution, out_dir: Path) -> Path:
    """Pack one installed distribution back into a wheel in ``out_dir``.

    Args:
        dist: an installed distribution (with a RECORD).
        out_dir: where the wheel goes.
    """
    site = Path(dist.locate_file("")).resolve()
    prefix = site.parents[2]  # <prefix>/lib/pythonX.Y/site-packages
    info = Path(str(dist._path))  # type: ignore[attr-defined]  # its .dist-info folder
    tags = [line.split(":", 1)[1].strip() for line in (info / "WHEEL").read_text().splitlines()
            if line.startswith("Tag:")]
    name, version = dist.metadata["Name"], dist.version
    data_dir = f"{re.sub(r'[-_.]+', '_', name)}-{version}.data"
    scripts = {ep.name for ep in dist.entry_points if ep.group in {"console_scripts",
                                                                    "gui_scripts"}}
    entries: list[tuple[str, bytes]] = []
    for file in dist.files or []:
        source = (site / file).resolve()
        if source.suffix == ".pyc" or not source.is_file():
            continue
        if source.parent == info and source.name in _SKIPPED_INFO:
            continue
        if site in source.parents:
            entries.append((source.relative_to(site).as_posix(), source.read_bytes()))
        elif source.parent == prefix / "bin":
            if source.name in scripts:
                continue  # pip writes console scripts for the new interpreter
            body = source.read_bytes()
            if body.startswith(b"#!") and b"python" in body.split(b"\n", 1)[0]:
                body = b"#!python\n" + body.split(b"\n", 1)[1]
            entries.append((f"{data_dir}/scripts/{source.name}", body))
        elif prefix in source.parents:
            entries.append((f"{data_dir}/data/{source.relative_to(prefix).as_posix()}",
                            source.read_bytes()))
    record_path = f"{info.name}/RECORD"
    record = [f"{path},{_digest(body)},{len(body)}" for path, body in entries]
    record.append(f"{record_path},,")
    target = out_dir / wheel_name(name, version, compressed_tag(tags))
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as wheel:
        for path, body in entries:
            wheel.writestr(path, body)
        wheel.writestr(record_path, "\n".join(record) + "\n")
    return target


def closure(roots: Iterable[str], *, path: list[str] | None = None
            ) -> list[metadata.Distribution]:
    """The installed distributions that ``roots`` need, following extras and markers.

    Args:
        roots: requirement strings, such as ``"nbmake"``.
        path: where to look (default ``sys.path``).

    >>> [d.metadata["Name"] for d in closure(["packaging"])]
    ['packaging']
    """
    search = sys.path if path is None else path
    found: dict[str, metadata.Distribution] = {}
    for dist in metadata.distributions(path=search):
        found.setdefault(canonical(dist.metadata["Name"]), dist)  # the first on the path wins
    todo = [Requirement(r) for r in roots]
    seen: set[tuple[str, frozenset[str]]] = set()
    picked: dict[str, metadata.Distribution] = {}
    while todo:
        req = todo.pop()
        key = (canonical(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        dist = found.get(key[0])
        if dist is None:
            raise LookupError(f"{req.name} is needed but not installed in {search}")
        picked[key[0]] = dist
        for text in dist.requires or []:
            sub = Requirement(text)
            envs = [{"extra": e} for e in req.extras] or [{"extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in envs):
                todo.append(sub)
    return sorted(picked.values(), key=lambda d: canonical(d.metadata["Name"]))


def build_wheelhouse(out_dir: Path, *, roots: Iterable[str],
                     prebuilt: Iterable[Path] = ()) -> list[Path]:
    """Wheels for ``roots`` and everything they need, in ``out_dir``; a distribution with
    a ready wheel among ``prebuilt`` (same name and version) is not repacked.

    Args:
        out_dir: the wheelhouse folder (made if missing).
        roots: requirement strings.
        prebuilt: wheel files to use as they are.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    supported = set(sys_tags())
    ready = set()
    for wheel in prebuilt:  # only wheels this interpreter can install
        name, version, _, tags = parse_wheel_filename(wheel.name)
        if tags & supported:
            ready.add((canonical(name), version.public))
    written = []
    for dist in closure(roots):
        name = canonical(dist.metadata["Name"])
        if name == "rltutor" or (name, dist.version.split("+")[0]) in ready:
            continue
        written.append(repack(dist, out_dir))
    return written


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "build/wheelhouse")
    for wheel in build_wheelhouse(folder, roots=["rltutor", "nbmake"],
                                  prebuilt=sorted(Path("/opt/wheels").glob("*.whl"))):
        print(wheel)
