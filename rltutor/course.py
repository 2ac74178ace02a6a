"""The course files (lessons, solutions, the results they read) and copying them out.

In a checkout the course is the repository itself (``lessons/``, ``benchmarks/``). A wheel
carries the same files under ``rltutor/_course/``, copied there at build time by
``setup.py`` (git holds one copy). :func:`copy_course` writes them into a learner's folder
and never overwrites a file the learner changed: it remembers what it wrote, in
``.rltutor-course.json``, so an untouched lesson can be updated and an edited one is kept.

    >>> sorted({f.parts[0] for f in course_files()})
    ['benchmarks', 'lessons']
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CONFLICT_CHOICES", "CopyReport", "copy_course", "course_files", "course_root"]

# What the course is made of, relative to its root. Lessons 13 and 14 read their seed
# tables from ../benchmarks/*.json, so those travel with the lessons, in the same layout.
PATTERNS = (
    "lessons/[0-9][0-9]_*.py",
    "lessons/[0-9][0-9]_*.ipynb",
    "lessons/solutions/[0-9][0-9]_*.py",
    "benchmarks/*_results.json",
)
MANIFEST = ".rltutor-course.json"
CONFLICT_CHOICES = ("refuse", "alongside", "overwrite")
_PACKAGED = Path(__file__).resolve().parent / "_course"


def course_root() -> Path:
    """The folder holding ``lessons/`` and ``constraints.txt``: the wheel's or the checkout's.

    >>> (course_root() / "lessons").is_dir()
    True
    """
    if (_PACKAGED / "lessons").is_dir():
        return _PACKAGED
    checkout = _PACKAGED.parents[1]
    if (checkout / "lessons").is_dir():
        return checkout
    raise FileNotFoundError(
        f"no course files next to rltutor ({_PACKAGED} is missing): this install was built "
        "without them; reinstall rltutor from a wheel or a checkout of the repository")


def course_files(*, root: Path | None = None) -> list[Path]:
    """Every course file, relative to ``root`` (default :func:`course_root`), sorted.

    Args:
        root: the folder to look in.

    >>> files = course_files()
    >>> Path("lessons/01_tensordict_module.ipynb") in files
    True
    """
    root = course_root() if root is None else root
    found = {p.relative_to(root) for pattern in PATTERNS for p in root.glob(pattern)}
    return sorted(found)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _units(files: list[Path]) -> list[list[Path]]:
    """Files that must move together: a lesson's .py and .ipynb are one notebook to
    jupytext, so keeping one and replacing the other would mix two versions."""
    groups: dict[Path, list[Path]] = {}
    for rel in files:
        key = rel.with_suffix("") if rel.suffix in {".py", ".ipynb"} else rel
        groups.setdefault(key, []).append(rel)
    return list(groups.values())


def _alongside(path: Path, source: Path) -> Path:
    """A free name beside ``path``: ``NN_x.course.ipynb`` (then ``.course-2``...)."""
    for n in range(1, 100):
        tag = "course" if n == 1 else f"course-{n}"
        candidate = path.with_name(f"{path.stem}.{tag}{path.suffix}")
        if not candidate.exists() or _digest(candidate) == _digest(source):
            return candidate
    raise FileExistsError(f"too many copies beside {path}")


@dataclass
class CopyReport:
    """What :func:`copy_course` did, file by file (paths relative to the destination).

    Args:
        dest: the folder the course was copied into.
    """

    dest: Path
    written: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # learner's edits left in place
    beside: list[Path] = field(default_factory=list)  # course copies written next to them
    replaced: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True unless an edited file was kept and nothing was written beside it."""
        return not self.kept or bool(self.beside)

    def to_text(self) -> str:
        """A few lines for the terminal: counts, then what was kept and how to proceed.

        >>> print(CopyReport(Path("c"), written=[Path("lessons/01.py")]).to_text())
        course in c: 1 written, 0 updated, 0 unchanged
        """
        lines = [f"course in {self.dest}: {len(self.written)} written, "
                 f"{len(self.updated)} updated, {len(self.unchanged)} unchanged"]
        if self.replaced:
            lines.append(f"replaced (--overwrite): {', '.join(map(str, self.replaced))}")
        if self.beside:
            lines.append("your edited files are kept; the course's versions are beside them: "
                         + ", ".join(map(str, self.beside)))
        elif self.kept:
            lines.append("kept, because they differ from what rltutor wrote (your edits): "
                         + ", ".join(map(str, self.kept)))
            lines.append("to get the course's versions too, run again with --alongside "
                         "(writes NAME.course.ipynb beside yours), or --overwrite "
                         "(replaces yours; your edits are lost)")
        return "\n".join(lines)


def copy_course(dest: Path | str, *, on_conflict: str = "refuse",
                root: Path | None = None) -> CopyReport:
    """Copy the course into ``dest``, keeping every file the learner changed.

    A file is the learner's when it differs both from the course's version and from what
    an earlier copy wrote there (recorded in ``dest/.rltutor-course.json``).

    Args:
        dest: the folder to write (made if missing); lessons land in ``dest/lessons``.
        on_conflict: what to do with a learner's file: ``"refuse"`` keeps it and reports
            it, ``"alongside"`` keeps it and writes the course's version beside it as
            ``NAME.course.EXT``, ``"overwrite"`` replaces it.
        root: where the course comes from (default :func:`course_root`).

    >>> import tempfile
    >>> dest = Path(tempfile.mkdtemp())
    >>> copy_course(dest).ok, (dest / "lessons/01_tensordict_module.ipynb").exists()
    (True, True)
    >>> import shutil; shutil.rmtree(dest)
    >>> copy_course(dest, on_conflict="ask")
    Traceback (most recent call last):
    ValueError: on_conflict='ask' is not one of refuse, alongside, overwrite
    """
    if on_conflict not in CONFLICT_CHOICES:
        raise ValueError(f"on_conflict={on_conflict!r} is not one of "
                         f"{', '.join(CONFLICT_CHOICES)}")
    root = course_root() if root is None else root
    dest = Path(dest)
    manifest_path = dest / MANIFEST
    written_before = (json.loads(manifest_path.read_text(encoding="utf-8"))
                      if manifest_path.exists() else {})
    report = CopyReport(dest)
    record = dict(written_before)
    for unit in _units(course_files(root=root)):
        states = {}
        for rel in unit:
            target = dest / rel
            if not target.exists():
                states[rel] = "missing"
            elif _digest(target) == _digest(root / rel):
                states[rel] = "same"
            elif written_before.get(str(rel)) == _digest(target):
                states[rel] = "stale"  # rltutor wrote it and nobody touched it since
            else:
                states[rel] = "edited"
        edited = any(s == "edited" for s in states.values())
        for rel in unit:
            source, target = root / rel, dest / rel
            if edited and on_conflict != "overwrite":
                report.kept.append(rel)
                if on_conflict == "alongside":
                    target = _alongside(target, source)
                    shutil.copyfile(source, target)
                    report.beside.append(target.relative_to(dest))
                continue
            if states[rel] == "same":
                report.unchanged.append(rel)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                {"missing": report.written, "stale": report.updated,
                 "edited": report.replaced}[states[rel]].append(rel)
            record[str(rel)] = _digest(target)
    dest.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    return report
