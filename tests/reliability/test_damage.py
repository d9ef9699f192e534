"""Damaged stores: every read, verify() and write gives data or a typed error, and reading
changes nothing.

Each case damages a healthy store in one way (cut short, bytes overwritten, files
replaced, foreign or newer files), then opens it, reads everything, verifies it and
writes to it.  Any exception that is not an ExperimentsError fails the case, and so
does a read or verify() that changes a byte of the damaged store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from experiments import ExperimentsError, Measurement, Objective, Plugins, connect
from experiments.stores.sqlite import APPLICATION_ID, MIGRATIONS
from reliability_table import Figures

pytestmark = pytest.mark.reliability

Damage = Callable[[Path], None]


def _fingerprint(root: Path) -> dict[str, str]:
    """Every file under ``root`` (or ``root`` itself) with a digest of its bytes."""
    paths = [root] if root.is_file() else sorted(root.rglob("*"))
    found: dict[str, str] = {}
    for path in paths:
        if path.is_symlink():
            found[str(path)] = f"link:{path.readlink()}"
        elif path.is_file():
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _healthy(url: str) -> None:
    with connect(url, plugins=Plugins(autoload=False), create=True) as store:
        first = store.save(Objective(title="Welfare", description="x" * 300))
        store.save(first.evolve(title="Welfare in 100 days"))
        store.save_all(
            Measurement(metric="visits", value=n, measured_at="2026-09-14T12:00:00Z")
            for n in range(30)
        )


def _use(url: str, watched: Path) -> tuple[set[str], str | None]:
    """Open, read, verify, then write: what happened ('refused', 'listed'), and any problem."""
    before = _fingerprint(watched)
    seen: set[str] = set()
    try:
        with connect(url, plugins=Plugins(autoload=False)) as store:
            for read in (
                store.count,
                lambda: list(store.query(Objective)),
                lambda: list(store.export()),
                lambda: list(store.aggregate(Measurement, group_by="metric")),
            ):
                try:
                    read()
                except ExperimentsError:
                    seen.add("refused")
            if store.verify():
                seen.add("listed")
            if _fingerprint(watched) != before:
                return seen, "reading or verify() changed the damaged store"
            with contextlib.suppress(ExperimentsError):
                store.save(Objective(title="Written after the damage"))
    except ExperimentsError:
        seen.add("refused")
        if _fingerprint(watched) != before:
            return seen, "a refused open changed the damaged store"
    except Exception as exc:  # noqa: BLE001 - exactly what the test looks for
        return seen, f"untyped {type(exc).__name__}: {exc}"
    return seen, None


def _cut(fraction: float) -> Damage:
    def damage(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])

    return damage


def _scribble(seed: int, count: int = 16) -> Damage:
    def damage(path: Path) -> None:
        chooser = random.Random(seed)  # noqa: S311 - picks test damage, not secrets
        data = bytearray(path.read_bytes())
        for _ in range(count):
            data[chooser.randrange(len(data))] = chooser.randrange(256)
        path.write_bytes(bytes(data))

    return damage


def _replace_with(content: bytes) -> Damage:
    def damage(path: Path) -> None:
        path.write_bytes(content)

    return damage


def _foreign_database(path: Path) -> None:
    path.unlink()
    with contextlib.closing(sqlite3.connect(path)) as raw:
        raw.execute("CREATE TABLE things (name TEXT)")
        raw.commit()


def _newer_schema(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as raw:
        raw.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
        raw.commit()


def _stranger_id(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as raw:
        raw.execute(f"PRAGMA application_id={APPLICATION_ID + 1}")
        raw.commit()


def _bad_row(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as raw:
        raw.execute(
            "UPDATE versions SET data = '{' WHERE rowid IN (SELECT rowid FROM versions LIMIT 3)"
        )
        raw.commit()


SQLITE_DAMAGE: dict[str, Damage] = {
    "empty file": _replace_with(b""),
    "garbage": _replace_with(bytes(random.Random(1).randrange(256) for _ in range(8192))),  # noqa: S311
    "zeros": _replace_with(b"\0" * 8192),
    "header only": lambda p: p.write_bytes(p.read_bytes()[:100]),
    "another program's database": _foreign_database,
    "a newer schema": _newer_schema,
    "another application id": _stranger_id,
    "rows that are not JSON": _bad_row,
    **{f"cut at {f:.0%}": _cut(f) for f in (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95)},
    **{f"scribbled (seed {seed})": _scribble(seed) for seed in range(30)},
}


def _version_files(root: Path) -> list[Path]:
    return sorted(root.glob("records/*/*.json"))


def _each_version(damage: Damage, pick: int) -> Damage:
    def apply(root: Path) -> None:
        files = _version_files(root)
        damage(files[pick % len(files)])

    return apply


def _symlink(root: Path) -> None:
    victim = _version_files(root)[0]
    victim.unlink()
    victim.symlink_to("/etc/hostname")


def _directory_for_a_file(root: Path) -> None:
    victim = _version_files(root)[1]
    victim.unlink()
    victim.mkdir()


def _journal(content: bytes) -> Damage:
    def apply(root: Path) -> None:
        (root / ".journal").write_bytes(content)

    return apply


FILES_DAMAGE: dict[str, Damage] = {
    "empty version file": _each_version(_replace_with(b""), 0),
    "version file not UTF-8": _each_version(_replace_with(b"\xff\xfe{}"), 1),
    "version file not JSON": _each_version(_replace_with(b"{ nope"), 2),
    "version file a JSON list": _each_version(_replace_with(b"[1, 2]\n"), 3),
    "version file deeply nested": _each_version(_replace_with(b"[" * 100000), 4),
    "version of another record": lambda r: _version_files(r)[0].write_bytes(
        _version_files(r)[5].read_bytes()
    ),
    "version of a newer schema": _each_version(
        lambda p: p.write_text(
            json.dumps({**json.loads(p.read_text(encoding="utf-8")), "schema": 99}),
            encoding="utf-8",
        ),
        6,
    ),
    "symbolic link for a version": _symlink,
    "directory for a version": _directory_for_a_file,
    "marker removed": lambda r: (r / "store.json").unlink(),
    "marker garbage": lambda r: (r / "store.json").write_bytes(b"\x00garbage"),
    "journal garbage": _journal(b"{ not a journal"),
    "journal of an unknown state": _journal(
        b'{"journal": 1, "state": "half", "create": [], "purge": []}'
    ),
    "journal naming impossible ids": _journal(
        b'{"journal": 1, "state": "pending", "create": [["../x", 1, "00"]], "purge": []}'
    ),
    "records is a file": lambda r: (shutil.rmtree(r / "records"), (r / "records").write_text("x")),
    **{f"cut version ({n})": _each_version(_cut(0.5), n) for n in range(8)},
    **{f"scribbled version (seed {s})": _each_version(_scribble(s, 8), s) for s in range(30)},
}


class TestDamagedStores:
    """Damage of every kind we can think of, and some at random."""

    def test_sqlite(self, scratch: Path, reliability: Figures) -> None:
        """A damaged SQLite file: data or a StoreError/SchemaError, and reading changes nothing."""
        self._run(
            SQLITE_DAMAGE,
            lambda d: f"sqlite:///{d}/store.db",
            lambda d: d / "store.db",
            scratch,
            "sqlite",
            reliability,
        )

    def test_files(self, scratch: Path, reliability: Figures) -> None:
        """A damaged JSON directory: data or a StoreError, named, and reading changes nothing."""
        self._run(
            FILES_DAMAGE,
            lambda d: f"files:///{d}/store",
            lambda d: d / "store",
            scratch,
            "files",
            reliability,
        )

    @staticmethod
    def _run(
        cases: dict[str, Damage],
        url_of: Callable[[Path], str],
        target_of: Callable[[Path], Path],
        tmp_path: Path,
        backend: str,
        reliability: Figures,
    ) -> None:
        template = tmp_path / "template"
        template.mkdir()
        _healthy(url_of(template))
        refused = listed = unharmed = 0
        problems: list[str] = []
        for number, (name, damage) in enumerate(cases.items()):
            where = tmp_path / f"case-{number}"
            shutil.copytree(template, where)
            for companion in where.glob("*.db-*"):
                companion.unlink()
            damage(target_of(where))
            seen, problem = _use(url_of(where), target_of(where))
            refused += "refused" in seen
            listed += "listed" in seen
            unharmed += not seen
            if problem is not None:
                problems.append(f"{name}: {problem}")
            shutil.rmtree(where)
        reliability.record(
            "damaged stores",
            backend,
            tried=len(cases),
            failed=len(problems),
            figures=(
                f"{refused} met with typed errors, {listed} listed by verify(), {unharmed} "
                "read whole; no read changed a byte"
            ),
        )
        assert problems == [], "\n".join(problems)
