"""The file itself: cut lines from crashes, damaged lines, compaction by purge."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import experiments_jsonl
import pytest

from experiments import Objective, Plugins, SchemaError, StoreError, connect
from experiments.serialization import SCHEMA_VERSION, to_data, upgrade
from experiments.stores import Store
from experiments.testing.faults import error_of, unprivileged

#: A store the first version of this plugin wrote, with strategy-experiments 0.1.0.
VERSION_1 = Path(__file__).parent / "version-1.jsonl"


def open_store(path: Path, *, create: bool | None = None) -> Store:
    plugins = Plugins(autoload=False, plugins=[experiments_jsonl])
    return connect(f"jsonl:///{path}", plugins=plugins, create=create)


def test_a_line_cut_by_a_crash_is_ignored_then_removed(tmp_path: Path) -> None:
    """A last line without its newline is not read, and the next write cuts it off."""
    path = tmp_path / "store.jsonl"
    with open_store(path, create=True) as store:
        kept = store.save(Objective(title="Kept"))
    whole = path.read_bytes()
    path.write_bytes(whole + b'[["version",{"kind":"objective","id":"obj_cut"')
    with open_store(path) as store:
        assert [r.id for r in store.query()] == [kept.id]
        store.save(Objective(title="After the crash"))
        assert store.count() == 2
    assert b"obj_cut" not in path.read_bytes()


def test_a_damaged_line_is_named(tmp_path: Path) -> None:
    """A complete line that is not JSON is a StoreError naming the file and line."""
    path = tmp_path / "store.jsonl"
    with open_store(path, create=True) as store:
        store.save(Objective(title="Fine"))
    path.write_bytes(path.read_bytes() + b"garbage\n")
    with open_store(path) as store, pytest.raises(StoreError, match=r"store\.jsonl, line 3"):
        store.count()


def test_newer_format_is_refused(tmp_path: Path) -> None:
    """A file of a newer format version is refused with SchemaError."""
    path = tmp_path / "store.jsonl"
    path.write_text('{"format": "experiments-jsonl", "version": 3}\n', encoding="utf-8")
    with open_store(path) as store, pytest.raises(SchemaError, match="version 3"):
        store.count()


def test_a_file_of_version_1_is_rewritten_once(tmp_path: Path) -> None:
    """A file the first version wrote (times as UTC text, zones in brackets) is rewritten
    in today's form when first read, and left alone after that."""
    path = tmp_path / "store.jsonl"
    shutil.copyfile(VERSION_1, path)
    old = [data for line in VERSION_1.read_text().splitlines()[1:] for _, data in json.loads(line)]
    assert {data["schema"] for data in old} == {2}
    with open_store(path) as store:
        assert [to_data(r) for r in store.export()] == [
            upgrade(d) for d in sorted(old, key=lambda d: (d["id"], d["revision"]))
        ]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == {"format": "experiments-jsonl", "version": 2}
    written = [data for line in lines[1:] for _, data in json.loads(line)]
    assert {data["schema"] for data in written} == {SCHEMA_VERSION}
    art = next(d for d in written if d.get("slug") == "art-for-families" and d["revision"] == 2)
    assert (art["started_at"], art["started_at_zone"]) == (
        "2026-08-17T10:15:30.250000+02:00",
        "Europe/Oslo",
    )
    before = path.read_bytes()
    with open_store(path) as store:
        store.count()
    assert path.read_bytes() == before


def test_purge_compacts_the_file(tmp_path: Path) -> None:
    """A purge rewrites the file: one line per record, the purged one gone."""
    path = tmp_path / "store.jsonl"
    with open_store(path, create=True) as store:
        first = store.save(Objective(title="First"))
        store.save(first.evolve(title="First, v2"))
        gone = store.save(Objective(title="Gone"))
        store.purge(gone)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2  # the header and the one record left
    assert gone.id not in path.read_text(encoding="utf-8")


def test_reading_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    """Reads of a file that does not exist fail instead of creating it."""
    path = tmp_path / "typo.jsonl"
    with open_store(path) as store, pytest.raises(StoreError, match="no store"):
        store.count()
    assert not path.exists()


def test_another_users_store_is_read_and_a_write_is_a_store_error() -> None:
    """As another user: read without the lock; a write or an unreadable file is a StoreError."""
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch).chmod(0o755)
        path = Path(scratch) / "theirs.jsonl"
        with open_store(path, create=True) as store:
            saved = store.save(Objective(title="Theirs"))
        (Path(scratch) / "theirs.jsonl.lock").unlink()  # so a reader cannot take the lock

        def use() -> tuple[int, str | None]:
            with open_store(path) as store:
                return store.count(), error_of(store.save, Objective(title="Mine"))

        count, message = unprivileged(use)
        assert count == 1
        assert message is not None
        assert "theirs.jsonl" in message
        assert "Permission denied" in message
        path.chmod(0o600)
        message = unprivileged(error_of, lambda: open_store(path).count())
        assert message is not None
        assert "Permission denied" in message
        with open_store(path) as store:
            assert [r.id for r in store.query()] == [saved.id]
