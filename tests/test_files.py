"""The JSON directory store: layout, safe names, damage reporting and crash recovery."""

from __future__ import annotations

import contextlib
import difflib
import errno
import hashlib
import itertools
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import experiments.stores
import needs
from experiments import (
    ConflictError,
    Experiment,
    Hypothesis,
    Measurement,
    Objective,
    Participant,
    Plugins,
    Record,
    SchemaError,
    StoreError,
    connect,
)
from experiments.serialization import SCHEMA_VERSION, to_data
from experiments.stores import Damage, Rewrite, Store
from experiments.stores import _atomic as atomic
from experiments.stores._filenames import MAX_NAME, decode_id, encode_id, is_temporary
from experiments.stores._files_record import dumps as dumps_version
from experiments.stores.files import FORMAT_VERSION, FileStore
from experiments.testing.faults import error_of, fail_nth, unprivileged

_EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def open_store(path: Path, **options: object) -> Store:
    return connect(f"files:///{path}", plugins=Plugins(autoload=False), **options)  # type: ignore[arg-type]


def fingerprint(root: Path) -> dict[str, str]:
    """Every entry under ``root`` with a digest of its content (link targets for links)."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if path.is_symlink():
            found[relative] = f"link:{path.readlink()}"
        elif path.is_dir():
            found[relative] = "dir"
        else:
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def version_file(root: Path, record_id: str, revision: int) -> Path:
    """The file that holds a revision: in the history, or current.json while it is current."""
    history = history_file(root, record_id, revision)
    return history if history.exists() else history.with_name("current.json")


def history_file(root: Path, record_id: str, revision: int) -> Path:
    return root / "records" / encode_id(record_id) / f"{revision:08d}.json"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "programme"


@pytest.fixture
def store(root: Path) -> Iterator[Store]:
    with open_store(root, create=True) as opened:
        yield opened


class TestLayout:
    """What the directory looks like: one readable file per version."""

    def test_current_file_and_history(self, store: Store, root: Path) -> None:
        """A save rewrites current.json; the earlier version keeps every byte in the history."""
        first = store.save(Objective(title="Welfare in 100 days", slug="welfare"))
        current = root / "records" / encode_id(first.id) / "current.json"
        before = current.read_bytes()
        assert not history_file(root, first.id, 1).exists()
        second = store.save(first.evolve(title="Welfare in 90 days"))
        assert history_file(root, first.id, 1).read_bytes() == before
        assert sorted(p.name for p in current.parent.iterdir()) == ["00000001.json", "current.json"]
        text = current.read_text(encoding="utf-8")
        assert text.endswith("}\n")
        assert text.startswith(
            f'{{\n  "kind": "objective",\n  "schema": {SCHEMA_VERSION},\n  "id": '
        )
        assert list(json.loads(text)) == list(to_data(second))
        assert json.loads(text) == to_data(second)

    def test_text_stays_readable(self, store: Store, root: Path) -> None:
        """Letters beyond ASCII are written as themselves, not as escapes."""
        saved = store.save(Objective(title="Børn og unge på Nørrebro"))
        assert "Nørrebro" in version_file(root, saved.id, 1).read_text(encoding="utf-8")

    def test_marker_and_gitignore(self, store: Store, root: Path) -> None:
        """A new store holds its format marker and keeps its working files out of git."""
        marker = json.loads((root / "store.json").read_text(encoding="utf-8"))
        assert marker["format"] == "strategy-experiments files store"
        assert marker["version"] == FORMAT_VERSION
        assert "migrations" not in marker  # made new, never migrated
        ignored = (root / ".gitignore").read_text(encoding="utf-8")
        assert "/.lock" in ignored
        assert "/.journal" in ignored

    def test_git_sees_only_data(self, store: Store, root: Path) -> None:
        """In git only the marker, .gitignore, .gitattributes and versions are tracked."""
        saved = store.save(Objective(title="Welfare"))
        store.save(saved.evolve(title="Welfare, revised"))
        subprocess.run([needs.git(), "init", "-q", str(root)], check=True)
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--others", "--exclude-standard"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        record = f"records/{encode_id(saved.id)}"
        assert sorted(listed) == [
            ".gitattributes",
            ".gitignore",
            f"{record}/00000001.json",
            f"{record}/current.json",
            "store.json",
        ]

    def test_purge_leaves_no_directory(self, store: Store, root: Path) -> None:
        """A purge removes the record's directory with every version in it."""
        saved = store.save(Objective(title="Gone soon"))
        store.save(saved.evolve(title="Gone sooner"))
        store.purge(saved)
        assert not (root / "records" / encode_id(saved.id)).exists()
        assert sorted(p.name for p in root.iterdir()) == [
            ".gitattributes",
            ".gitignore",
            ".lock",
            "records",
            "store.json",
        ]


def _git(root: Path, *arguments: str) -> str:
    """Run git in the store's directory, on its own settings alone; its output."""
    environment = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Strategy office",
        "GIT_AUTHOR_EMAIL": "office@example.org",
        "GIT_COMMITTER_NAME": "Strategy office",
        "GIT_COMMITTER_EMAIL": "office@example.org",
    }
    done = subprocess.run(
        [needs.git(), "-C", str(root), *arguments],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
    )
    return done.stdout


def _changed_lines(diff: str) -> list[str]:
    """The lines a diff removes and adds, without its headers."""
    return [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++ ", "--- "))
    ]


class TestGitDiff:
    """A store kept in git: a change shows as the lines that changed, before and after git add."""

    def test_an_edit_shows_as_the_lines_that_changed(self, store: Store, root: Path) -> None:
        """Editing one field: git diff, and git diff --cached after git add, show those lines."""
        saved = store.save(
            Objective(title="Welfare in 100 days", description="Families first", slug="welfare")
        )
        store.save(Experiment(title="Art for families", objectives=[saved]))
        _git(root, "init", "-q")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "The programme")
        current = Path("records") / encode_id(saved.id) / "current.json"
        before = (root / current).read_text(encoding="utf-8").splitlines()

        edited = store.save(saved.evolve(title="Welfare in 90 days"))

        after = (root / current).read_text(encoding="utf-8").splitlines()
        expected = [
            line
            for line in difflib.unified_diff(before, after, lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        changed_keys = {line[1:].strip().partition(":")[0] for line in expected}
        assert changed_keys == {'"revision"', '"title"', '"updated_at"'}
        assert len(expected) == 6
        assert _git(root, "diff", "--name-only").split() == [str(current)]
        assert _changed_lines(_git(root, "diff")) == expected

        _git(root, "add", "-A")
        staged = _git(root, "diff", "--cached")
        assert _changed_lines(staged) == expected
        history = str(current.with_name("00000001.json"))
        assert _git(root, "diff", "--cached", "--name-status").splitlines() == [
            f"A\t{history}",
            f"M\t{current}",
        ]
        assert f"Binary files /dev/null and b/{history} differ" in staged
        _git(root, "commit", "-q", "-m", "Ninety days")
        assert _git(root, "status", "--porcelain") == ""
        assert store.get(saved.id) == edited
        assert [v.revision for v in store.history(saved.id)] == [1, 2]

    def test_an_older_version_imported_joins_the_history(self, store: Store, root: Path) -> None:
        """Importing revision 1 after revision 2 leaves revision 2 in current.json."""
        first = store.save(Objective(title="First"))
        second = store.save(first.evolve(title="Second"))
        versions = list(store.history(first.id))
        with open_store(root.with_name("other"), create=True) as other:
            other.import_records([versions[1]])
            other.import_records(versions)
            assert other.history(first.id) == versions
            assert other.get(first.id) == second
            assert other.verify() == []
        moved = root.with_name("other") / "records" / encode_id(first.id)
        assert sorted(p.name for p in moved.iterdir()) == ["00000001.json", "current.json"]
        assert json.loads((moved / "current.json").read_bytes())["title"] == "Second"

    @settings(_EXAMPLES, max_examples=15)
    @given(
        steps=st.lists(
            st.tuples(st.integers(0, 2), st.integers(1, 3), st.booleans()), min_size=1, max_size=8
        ),
        order=st.randoms(use_true_random=False),
    )
    def test_every_directory_holds_its_last_version_in_current_json(
        self, tmp_path: Path, steps: list[tuple[int, int, bool]], order: Any
    ) -> None:
        """Saves, batches and imports in any order: current.json is the last, the rest history."""
        root = tmp_path / f"layout-{os.urandom(6).hex()}"
        with open_store(root, create=True) as store:
            records: list[Record] = [
                store.save(Objective(title=f"Objective {n}")) for n in range(3)
            ]
            for which, times, batched in steps:
                if batched:  # one new version of several records, and a new record
                    changed = [r.evolve(title=f"{r.title}+") for r in records[:times]]  # type: ignore[attr-defined]
                    saved = store.save_all([*changed, Objective(title=f"New {len(records)}")])
                    records[:times] = saved[:times]
                    records.append(saved[-1])
                    continue
                for _ in range(times):
                    records[which] = store.save(records[which].evolve(title="+"))
            versions = list(store.export())
            order.shuffle(versions)
        with open_store(root.with_name(f"{root.name}-imported"), create=True) as other:
            for start in range(0, len(versions), 4):  # in batches, out of order
                other.import_records(versions[start : start + 4])
            assert other.verify() == []
        for directory in (root, root.with_name(f"{root.name}-imported")):
            for record in (directory / "records").iterdir():
                last = json.loads((record / "current.json").read_bytes())["revision"]
                names = sorted(p.name for p in record.iterdir())
                assert names == [f"{r:08d}.json" for r in range(1, last)] + ["current.json"]

    def test_history_is_the_versions_before(self, store: Store, root: Path) -> None:
        """Each history file is, byte for byte, what current.json held before the next save."""
        saved = store.save(Objective(title="Version 1"))
        current = root / "records" / encode_id(saved.id) / "current.json"
        held = [current.read_bytes()]
        for number in range(2, 5):
            saved = store.save(saved.evolve(title=f"Version {number}"))
            held.append(current.read_bytes())
        for revision, content in enumerate(held[:-1], start=1):
            assert history_file(root, saved.id, revision).read_bytes() == content
        assert [v.title for v in store.history(saved.id)] == [  # type: ignore[attr-defined]
            f"Version {n}" for n in range(1, 5)
        ]


class TestOpening:
    """Creating and opening: never an empty store at a mistyped path."""

    def test_reading_a_missing_store_creates_nothing(self, root: Path) -> None:
        """A read of a store that does not exist fails and suggests `experiments init`."""
        with open_store(root) as store, pytest.raises(StoreError, match="experiments init"):
            store.find("obj_1")
        assert not root.exists()

    def test_first_write_creates_it(self, root: Path) -> None:
        """With create=None the first write makes the directory a store."""
        with open_store(root) as store:
            assert not store.exists()
            store.save(Objective(title="First"))
            assert store.exists()
        assert (root / "store.json").is_file()

    def test_create_false_never_creates(self, root: Path) -> None:
        """create=False refuses a missing store at once."""
        with pytest.raises(StoreError, match="no store"):
            open_store(root, create=False)
        assert not root.exists()

    def test_missing_parent_is_explained(self, tmp_path: Path) -> None:
        """A store is never created inside a directory that does not exist."""
        with pytest.raises(StoreError, match="does not exist"):
            open_store(tmp_path / "no" / "such" / "place", create=True)

    def test_foreign_directory_is_refused(self, root: Path) -> None:
        """A directory holding other files and no marker is not taken over."""
        root.mkdir()
        (root / "notes.txt").write_text("mine", encoding="utf-8")
        with pytest.raises(StoreError, match="not a strategy-experiments store"):
            open_store(root, create=True)
        with pytest.raises(StoreError, match=r"notes\.txt"):
            open_store(root)
        assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]

    def test_a_file_is_not_a_store(self, root: Path) -> None:
        """A path that is a file is refused with a clear message."""
        root.write_text("x", encoding="utf-8")
        with pytest.raises(StoreError, match="is a file, not a directory"):
            open_store(root, create=True)

    def test_empty_directory_becomes_a_store(self, root: Path) -> None:
        """An existing empty directory is made a store."""
        root.mkdir()
        with open_store(root, create=True) as store:
            store.save(Objective(title="Here"))
            assert store.count() == 1

    def test_store_removed_while_open(self, store: Store, root: Path) -> None:
        """A store deleted under an open handle is reported missing, not made again."""
        saved = store.save(Objective(title="Soon gone"))
        shutil.rmtree(root)
        with pytest.raises(StoreError, match="no store"):
            store.find(saved.id)
        with pytest.raises(StoreError, match="no store"):
            store.save(Objective(title="Into the void"))
        assert not root.exists()

    def test_newer_format_is_refused(self, store: Store, root: Path) -> None:
        """A store written in a newer layout is refused with SchemaError naming the marker."""
        marker = root / "store.json"
        body = json.loads(marker.read_text(encoding="utf-8"))
        marker.write_text(json.dumps({**body, "version": FORMAT_VERSION + 1}), encoding="utf-8")
        with pytest.raises(SchemaError, match=r"store\.json.*newer.*upgrade"):
            open_store(root)

    def test_damaged_marker_names_the_file(self, store: Store, root: Path) -> None:
        """A marker that is not ours is a StoreError naming it."""
        (root / "store.json").write_bytes(b"\xff\xfe not json")
        with pytest.raises(StoreError, match=r"store\.json"):
            open_store(root)

    def test_options_are_refused(self, root: Path) -> None:
        """The backend takes only ?timeout=, and says so."""
        with pytest.raises(StoreError, match="takes timeout"):
            connect(f"files:///{root}?fsync=off", plugins=Plugins(autoload=False))
        for bad in ("-1", "soon", "inf", "nan"):
            with pytest.raises(StoreError, match="timeout must be a number of seconds"):
                connect(f"files:///{root}?timeout={bad}", plugins=Plugins(autoload=False))

    def test_no_directory_named(self) -> None:
        """files:// without a path is explained."""
        with pytest.raises(StoreError, match="names no directory"):
            connect("files://", plugins=Plugins(autoload=False))

    def test_needs_posix_file_locks(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without POSIX file locks (Windows) the scheme fails with a StoreError saying so."""
        parts = [m for m in sys.modules if m.startswith("experiments.stores._files_")]
        for module in ["experiments.stores.files", "experiments.stores._atomic", *parts]:
            monkeypatch.delitem(sys.modules, module, raising=False)
            monkeypatch.delattr(experiments.stores, module.rpartition(".")[2], raising=False)
        monkeypatch.setitem(sys.modules, "fcntl", None)
        with pytest.raises(StoreError, match="POSIX"):
            open_store(root)

    def test_another_users_store_is_read_and_refuses_writes_saying_why(self) -> None:
        """As another user: reads work, a write names the directory it may not write in."""
        with tempfile.TemporaryDirectory() as scratch:
            Path(scratch).chmod(0o755)
            root = Path(scratch) / "theirs"
            with open_store(root, create=True) as theirs:
                saved = theirs.save(Objective(title="Theirs"))

            def use() -> tuple[int, str | None]:
                with open_store(root) as store:
                    return store.count(), error_of(store.save, Objective(title="Mine"))

            count, message = unprivileged(use)
            assert count == 1
            assert message is not None
            assert f"may not write in {str(root)!r}" in message
            assert "nothing was written" in message
            with open_store(root) as store:
                assert [r.id for r in store.query()] == [saved.id]

    def test_a_store_behind_a_closed_directory_is_a_store_error(self, root: Path) -> None:
        """A directory this user may not enter on the way: a StoreError, not PermissionError."""
        with open_store(root, create=True) as store:
            store.save(Objective(title="Hidden"))
        root.parent.chmod(0o700)
        message = unprivileged(error_of, lambda: open_store(root).count())
        assert message is not None
        assert "cannot be reached (Permission denied)" in message

    def test_registered_under_files(self) -> None:
        """The backend is built in, under the scheme files."""
        assert "files" in Plugins(autoload=False).backends()


class TestNames:
    """Ids become directory names that cannot escape or collide."""

    @_EXAMPLES
    @given(record_id=st.text(max_size=140))
    def test_any_text_is_one_safe_component(self, record_id: str) -> None:
        """Whatever an id holds, its name is one plain, lowercase, short path component."""
        name = encode_id(record_id)
        assert name not in ("", ".", "..")
        assert not name.startswith(".")
        assert not name.endswith(".")
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-.%^~")
        assert len(name.encode()) <= MAX_NAME + 41
        assert name.split(".", 1)[0] not in ("con", "nul", "aux", "prn")
        if "~" not in name:
            assert decode_id(name) == record_id

    @_EXAMPLES
    @given(first=st.text(max_size=140), second=st.text(max_size=140))
    def test_no_two_ids_share_a_name(self, first: str, second: str) -> None:
        """Distinct ids get distinct names, even where case and accents are folded."""
        if first != second:
            assert encode_id(first).casefold() != encode_id(second).casefold()

    def test_examples(self) -> None:
        """The usual ids read as themselves; the rest is escaped visibly."""
        assert encode_id("exp_0190ab3f") == "exp_0190ab3f"
        assert encode_id("..") == "%2e%2e"
        assert encode_id("../etc/passwd") == "%2e.%2fetc%2fpasswd"
        assert encode_id("Welfare") == "^welfare"
        assert encode_id("a\\b\x00") == "a%5cb%00"
        assert encode_id("con") == "%63on"
        assert decode_id("%61") is None  # not the canonical name of "a"
        assert is_temporary(".00000001.json.0123456789abcdef.tmp")

    def test_ids_differing_in_case_are_two_records(self, store: Store) -> None:
        """'Welfare' and 'welfare' are kept apart, even on case-insensitive file systems."""
        upper = store.save(Objective(id="Welfare", title="Upper"))
        lower = store.save(Objective(id="welfare", title="Lower"))
        assert store.get(upper.id).title == "Upper"  # type: ignore[attr-defined]
        assert store.get(lower.id).title == "Lower"  # type: ignore[attr-defined]

    def test_longest_ids_fit(self, store: Store) -> None:
        """An id of 128 capital letters still gets a name the file system accepts."""
        long_id = "A" * 128
        saved = store.save(Objective(id=long_id, title="Long"))
        saved = store.save(saved.evolve(title="Longer"))
        assert store.get(long_id).title == "Longer"  # type: ignore[attr-defined]
        assert [r.id for r in store.query(Objective)] == [long_id]
        assert store.verify() == []

    @_EXAMPLES
    @given(probe=st.text(min_size=1, max_size=60))
    def test_reading_odd_ids_touches_nothing(self, tmp_path: Path, probe: str) -> None:
        """find() of any text finds nothing outside the store and changes nothing."""
        root = (
            tmp_path
            / f"probe-{hashlib.sha256(probe.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
        )
        with open_store(root, create=True) as store:
            (root.parent / "outside.json").write_text("{}", encoding="utf-8")
            before = fingerprint(root)
            assert store.find(probe) is None
            assert store.find(f"../{probe}") is None
            with pytest.raises(LookupError):
                store.history(probe)
            assert fingerprint(root) == before


def _plant(kind: str, path: Path, outside: Path) -> None:
    """Damage ``path`` (the current version of a record) in one of the ways files break."""
    content = path.read_bytes()
    if kind == "garbage":
        path.write_bytes(b"<<<<<<< HEAD\n#!%@ this is no record ~~~\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "invalid-utf8":
        path.write_bytes(content.replace(b'"title": "', b'"title": "\xff\xfe', 1))
    elif kind == "half-written":
        path.write_bytes(content[: len(content) // 2])
    elif kind == "newer-schema":
        current = f'"schema": {SCHEMA_VERSION}'.encode()
        path.write_bytes(content.replace(current, b'"schema": 99', 1))
    elif kind == "symlink-outside":
        target = outside / f"{path.parent.name}.json"
        target.write_bytes(content)  # readable, were the link followed
        path.unlink()
        path.symlink_to(target)
    else:  # pragma: no cover - the test names every kind
        raise AssertionError(kind)


DAMAGE = ["garbage", "empty", "invalid-utf8", "half-written", "newer-schema", "symlink-outside"]
MESSAGES = {
    "garbage": "not valid JSON",
    "empty": "is empty",
    "invalid-utf8": "not UTF-8",
    "half-written": "not valid JSON",
    "newer-schema": "schema version 99",
    "symlink-outside": "symbolic link",
}


class TestDamage:
    """Damaged files are named, never followed, never hide healthy records."""

    def _healthy(self, store: Store) -> dict[str, str]:
        objective = store.save(Objective(title="Welfare in 100 days"))
        experiment = store.save(Experiment(title="Art for families", objectives=[objective]))
        hypothesis = store.save(Hypothesis(experiment=experiment, statement="They come back"))
        return {"objective": objective.id, "experiment": experiment.id, "hyp": hypothesis.id}

    def test_each_kind_of_damage_is_named_and_listed(
        self, store: Store, root: Path, tmp_path: Path
    ) -> None:
        """Every planted damage gives a StoreError naming its file; verify lists exactly those."""
        healthy = self._healthy(store)
        outside = tmp_path / "outside"
        outside.mkdir()
        victims: dict[str, tuple[str, Path]] = {}
        for kind in DAMAGE:
            first = store.save(Objective(title=f"Victim {kind}"))
            second = store.save(first.evolve(title=f"Victim {kind}, revised"))
            path = version_file(root, second.id, 2)
            _plant(kind, path, outside)
            victims[kind] = (second.id, path)
        # A record directory that is a link to a directory outside, holding a valid version.
        linked = store.save(Objective(title="Linked away"))
        linked_dir = root / "records" / encode_id(linked.id)
        shutil.copytree(linked_dir, outside / "linked")
        shutil.rmtree(linked_dir)
        linked_dir.symlink_to(outside / "linked")
        # A temporary file left by a write that was killed, next to a healthy version.
        stray = version_file(root, healthy["objective"], 1).with_name(
            ".00000002.json.0123456789abcdef.tmp"
        )
        stray.write_bytes(b'{"kind": "obj')
        # A reference broken by hand: the experiment's directory deleted from the checkout.
        orphan_experiment = store.save(Experiment(title="Deleted by a bad merge"))
        orphan = store.save(Hypothesis(experiment=orphan_experiment, statement="Orphaned"))
        shutil.rmtree(root / "records" / encode_id(orphan_experiment.id))

        before = fingerprint(root)
        outside_before = fingerprint(outside)
        for kind, (record_id, path) in victims.items():
            for read in (store.get, store.history):
                with pytest.raises(StoreError) as caught:
                    read(record_id)
                message = str(caught.value)
                assert str(path) in message, kind
                assert MESSAGES[kind] in message, kind
                assert caught.value.__cause__ is None
                assert caught.value.__suppress_context__
        with pytest.raises(StoreError, match="symbolic link"):
            store.get(linked.id)
        for record_id in healthy.values():
            assert store.get(record_id).revision == 1
        assert store.get(orphan.id).revision == 1

        damage = store.verify()
        expected = {str(path) for _, path in victims.values()}
        expected |= {str(linked_dir), str(stray), f"record {orphan.id!r}"}
        assert sorted(d.location for d in damage) == sorted(expected)
        by_location = {d.location: d for d in damage}
        for kind, (record_id, path) in victims.items():
            assert MESSAGES[kind] in by_location[str(path)].problem
            assert by_location[str(path)].id == record_id
        assert "temporary file" in by_location[str(stray)].problem
        assert orphan_experiment.id in by_location[f"record {orphan.id!r}"].problem
        assert fingerprint(root) == before
        assert fingerprint(outside) == outside_before

    def test_queries_name_the_damaged_file(self, store: Store, root: Path, tmp_path: Path) -> None:
        """A query that meets a damaged record fails naming it rather than skipping it."""
        saved = store.save(Objective(title="Will break"))
        path = version_file(root, saved.id, 1)
        _plant("half-written", path, tmp_path)
        with pytest.raises(StoreError, match=str(path)):
            list(store.query(Objective))

    def test_misplaced_file_is_damage(self, store: Store, root: Path) -> None:
        """A version copied into another record's directory is reported, not read as it."""
        one = store.save(Objective(title="One"))
        two = store.save(Objective(title="Two"))
        misplaced = version_file(root, two.id, 2)
        shutil.copy(version_file(root, one.id, 1), misplaced)
        with pytest.raises(StoreError, match="does not belong"):
            store.get(two.id)
        assert [d.location for d in store.verify()] == [str(misplaced)]

    def test_unknown_files_in_a_record_are_listed(self, store: Store, root: Path) -> None:
        """A file that is no version (say a merge leftover) is listed and otherwise ignored."""
        saved = store.save(Objective(title="Merged"))
        leftover = version_file(root, saved.id, 1).with_name("00000001.json.orig")
        leftover.write_text("{}", encoding="utf-8")
        assert store.get(saved.id).revision == 1
        assert [d.location for d in store.verify()] == [str(leftover)]

    @_EXAMPLES
    @given(garbage=st.binary(max_size=300))
    def test_any_bytes_are_a_named_store_error(self, tmp_path: Path, garbage: bytes) -> None:
        """Whatever bytes replace a version file, reading it is a StoreError naming it."""
        root = tmp_path / f"fuzz-{hashlib.sha256(garbage).hexdigest()[:12]}"
        with open_store(root, create=True) as store:
            saved = store.save(Objective(title="Fuzzed"))
            path = version_file(root, saved.id, 1)
            path.write_bytes(garbage)
            with pytest.raises(StoreError, match=str(path)):
                store.get(saved.id)
            assert [d.location for d in store.verify()] == [str(path)]

    @_EXAMPLES
    @given(data=st.data())
    def test_every_cut_is_a_named_store_error(self, tmp_path: Path, data: st.DataObject) -> None:
        """A version file cut short anywhere (a half-written file) is a StoreError naming it."""
        root = tmp_path / f"cut-{os.urandom(6).hex()}"
        with open_store(root, create=True) as store:
            saved = store.save(Objective(title="A title with ÆØÅ and 🙂 to cut in the middle of"))
            path = version_file(root, saved.id, 1)
            content = path.read_bytes()
            cut = data.draw(st.integers(0, len(content) - 2))
            path.write_bytes(content[:cut])
            with pytest.raises(StoreError, match=str(path)):
                store.get(saved.id)


class TestRecovery:
    """Interrupted batches are undone or finished; failed writes leave no trace."""

    def _journal(
        self, root: Path, state: str, create: list[list[object]], purge: list[str]
    ) -> None:
        body = {"journal": 1, "state": state, "create": create, "purge": purge}
        (root / ".journal").write_text(json.dumps(body), encoding="utf-8")

    def _interrupted_batch(self, store: Store, root: Path) -> tuple[Objective, Measurement]:
        """Files as a batch leaves them when killed between two of its versions."""
        kept = store.save(Objective(title="Kept"))
        changed = kept.evolve(title="Changed by the lost batch", revision=2)
        new = Measurement(metric="visits", value=3, revision=1)
        create = []
        kept_current = version_file(root, kept.id, 1)
        shutil.copy(kept_current, history_file(root, kept.id, 1))  # a save keeps it first
        for record in (changed, new):
            content = (json.dumps(to_data(record), indent=2, ensure_ascii=False) + "\n").encode()
            path = root / "records" / encode_id(record.id) / "current.json"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(content)
            create.append([record.id, record.revision, hashlib.sha256(content).hexdigest()])
        self._journal(root, "pending", create, [])
        return kept, new

    def test_pending_batch_is_invisible_then_rolled_back(self, store: Store, root: Path) -> None:
        """Readers ignore a pending batch; the next open removes exactly its versions."""
        kept, new = self._interrupted_batch(store, root)
        assert store.get(kept.id).title == "Kept"  # type: ignore[attr-defined]
        assert store.find(new.id) is None
        assert [r.id for r in store.query()] == [kept.id]
        assert [d.location for d in store.verify()] == [str(root / ".journal")]
        with open_store(root) as again:
            assert again.get(kept.id).revision == 1
            assert again.verify() == []
        assert not (root / ".journal").exists()
        assert not (root / "records" / encode_id(new.id)).exists()
        assert sorted(p.name for p in version_file(root, kept.id, 1).parent.iterdir()) == [
            "current.json"
        ]
        assert json.loads(version_file(root, kept.id, 1).read_text())["title"] == "Kept"

    def test_rollback_spares_files_it_did_not_write(self, store: Store, root: Path) -> None:
        """A version whose content differs from the journal's digest is not removed."""
        kept = store.save(Objective(title="Kept"))
        other = store.save(kept.evolve(title="Written by someone else"))
        self._journal(root, "pending", [[kept.id, 2, "0" * 64]], [])
        with open_store(root) as again:
            assert again.get(kept.id).title == other.title  # type: ignore[attr-defined]

    def test_committed_purge_is_finished(self, store: Store, root: Path) -> None:
        """A purge interrupted after its commit point is finished on the next write."""
        gone = store.save(Objective(title="To be purged"))
        store.save(gone.evolve(title="To be purged, v2"))
        stays = store.save(Objective(title="Stays"))
        version_file(root, gone.id, 1).unlink()  # killed half-way through the removal
        self._journal(root, "committed", [], [gone.id])
        assert store.find(gone.id, include_deleted=True) is None
        assert [r.id for r in store.query()] == [stays.id]
        store.save(Objective(title="Another write"))
        assert not (root / "records" / encode_id(gone.id)).exists()
        assert not (root / ".journal").exists()

    def _staged_erasure(self, store: Store, root: Path, state: str) -> tuple[str, bytes]:
        """Files as an erasure leaves them when killed after staging its new version."""
        person = store.save(Participant(role="citizen", name="Kim Erased"))
        new = (json.dumps(to_data(person.evolve(name=None)), indent=2) + "\n").encode()
        staged = version_file(root, person.id, 1).with_name(".00000001.json.rewrite")
        staged.write_bytes(new)
        body = {
            "journal": 2,
            "state": state,
            "create": [],
            "purge": [],
            "rewrite": [[person.id, 1, hashlib.sha256(new).hexdigest()]],
        }
        (root / ".journal").write_text(json.dumps(body), encoding="utf-8")
        return person.id, new

    def test_pending_erasure_is_undone(self, store: Store, root: Path) -> None:
        """An erasure killed before its commit point leaves the old version, staging gone."""
        person, _ = self._staged_erasure(store, root, "pending")
        assert store.get(person).name == "Kim Erased"  # type: ignore[attr-defined]
        with open_store(root) as again:
            assert again.get(person).name == "Kim Erased"  # type: ignore[attr-defined]
            assert again.verify() == []
        assert list(version_file(root, person, 1).parent.iterdir()) == [
            version_file(root, person, 1)
        ]

    def test_committed_erasure_is_finished(self, store: Store, root: Path) -> None:
        """An erasure killed after its commit point reads as done, and is finished on open."""
        person, new = self._staged_erasure(store, root, "committed")
        assert store.get(person).name is None  # type: ignore[attr-defined]  # read at once
        assert store.history(person)[0].name is None  # type: ignore[attr-defined]
        assert [to_data(r)["name"] for r in store.export() if r.id == person] == [None]
        assert [d.location for d in store.verify()] == [str(root / ".journal")]
        with open_store(root) as again:
            assert again.get(person).name is None  # type: ignore[attr-defined]
            assert again.verify() == []
        assert version_file(root, person, 1).read_bytes() == new
        assert b"Kim" not in b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())

    def test_committed_erasure_replaces_current_json_and_the_history(
        self, store: Store, root: Path
    ) -> None:
        """Each staged version goes over the file holding its revision; a history file
        repeating current.json (a save cut off) goes, so no old copy is left."""
        first = store.save(Participant(role="citizen", name="Kim Erased"))
        second = store.save(first.evolve(department="Culture"))
        directory = root / "records" / encode_id(first.id)
        shutil.copy(directory / "current.json", history_file(root, first.id, 2))  # a repeat
        body: dict[str, Any] = {"journal": 2, "state": "committed", "create": [], "purge": []}
        body["rewrite"] = []
        news = {}
        for version in (first, second):
            news[version.revision] = new = dumps_version(to_data(version.evolve(name=None)))
            (directory / f".{version.revision:08d}.json.rewrite").write_bytes(new)
            body["rewrite"].append([first.id, version.revision, hashlib.sha256(new).hexdigest()])
        (root / ".journal").write_text(json.dumps(body), encoding="utf-8")
        assert [v.name for v in store.history(first.id)] == [None, None]  # type: ignore[attr-defined]
        with open_store(root) as again:
            assert again.verify() == []
            assert again.get(first.id) == second.evolve(name=None)
        assert sorted(p.name for p in directory.iterdir()) == ["00000001.json", "current.json"]
        assert (directory / "current.json").read_bytes() == news[2]
        assert history_file(root, first.id, 1).read_bytes() == news[1]
        assert b"Kim" not in b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())

    def test_an_erasure_failing_half_way_leaves_every_byte(self, store: Store, root: Path) -> None:
        """A batch of rewrites with one stale rewrite writes no byte of any."""
        person = store.save(Participant(role="citizen", name="Kim Kept"))
        other = store.save(Objective(title="Kim Kept's idea"))
        before = fingerprint(root)
        stale = Rewrite(other.id, 7, ((other, to_data(other)),))
        fine = Rewrite(person.id, 1, ((person, to_data(person.evolve(name=None))),))
        with pytest.raises(ConflictError):
            store._commit([fine, stale])
        assert fingerprint(root) == before

    def test_a_save_cut_off_after_keeping_the_version_before(
        self, store: Store, root: Path
    ) -> None:
        """A history file repeating current.json (a save killed half-way) is read once."""
        first = store.save(Objective(title="First"))
        shutil.copy(version_file(root, first.id, 1), history_file(root, first.id, 1))
        assert [v.revision for v in store.history(first.id)] == [1]
        assert store.get(first.id) == first
        assert store.verify() == []
        second = store.save(first.evolve(title="Second"))
        assert [v.title for v in store.history(first.id)] == ["First", "Second"]  # type: ignore[attr-defined]
        assert store.get(first.id) == second

    def test_a_history_file_unlike_current_json_is_damage(self, store: Store, root: Path) -> None:
        """A history file of the current revision holding something else is listed, and a
        save on top of it refused without writing anything."""
        first = store.save(Objective(title="First"))
        other = json.loads(version_file(root, first.id, 1).read_bytes())
        other["title"] = "Changed by hand"
        history_file(root, first.id, 1).write_text(json.dumps(other), encoding="utf-8")
        assert [d.location for d in store.verify()] == [str(history_file(root, first.id, 1))]
        before = fingerprint(root)
        with pytest.raises(StoreError, match="not the same data"):
            store.save(first.evolve(title="Second"))
        assert fingerprint(root) == before

    def test_unreadable_journal_is_named(self, store: Store, root: Path) -> None:
        """A journal this version cannot read stops reads with an error naming it."""
        (root / ".journal").write_text("{", encoding="utf-8")
        with pytest.raises(StoreError, match=r"\.journal"):
            store.find("obj_1")

    def test_stray_temporary_files_are_swept_by_the_next_write(
        self, store: Store, root: Path
    ) -> None:
        """A temporary file a killed save left is listed, and removed by the next write there."""
        saved = store.save(Objective(title="Saved"))
        stray = version_file(root, saved.id, 2).with_name(".00000002.json.00000000deadbeef.tmp")
        stray.write_bytes(b"{")
        assert [d.location for d in store.verify()] == [str(stray)]
        store.save(saved.evolve(title="Saved again"))
        assert not stray.exists()
        assert store.verify() == []

    def test_failed_batch_leaves_every_byte(self, store: Store, root: Path) -> None:
        """A batch that conflicts half-way writes nothing at all."""
        existing = store.save(Objective(title="Existing"))
        store.save(existing.evolve(title="Changed elsewhere"))
        before = fingerprint(root)
        batch = store.batch()
        for number in range(5):
            batch.save(Measurement(metric="visits", value=number))
        batch.save(existing.evolve(title="Stale"))
        with pytest.raises(ConflictError):
            batch.commit()
        assert fingerprint(root) == before

    @pytest.mark.parametrize("fail_at", [1, 3])
    def test_failure_while_writing_undoes_the_batch(
        self, store: Store, root: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int
    ) -> None:
        """A disk error in the middle of a batch is a StoreError and leaves the store as it was."""
        store.save(Objective(title="Before"))
        before = fingerprint(root)
        real = atomic.create_exclusive
        calls = {"n": 0}

        def failing(name: str, data: bytes, dir_fd: int) -> None:
            calls["n"] += 1
            if calls["n"] == fail_at:
                raise OSError(28, "No space left on device")
            real(name, data, dir_fd)

        monkeypatch.setattr(atomic, "create_exclusive", failing)
        with pytest.raises(StoreError, match="No space left"):
            store.save_all(Measurement(metric="visits", value=n) for n in range(4))
        calls["n"] = fail_at - 1
        with pytest.raises(StoreError, match="No space left"):
            store.save(Objective(title="Single"))
        assert fingerprint(root) == before

    def test_large_batch_stays_within_the_open_file_limit(self, store: Store) -> None:
        """A batch of hundreds of new records never holds a descriptor per record."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        descriptors = Path("/proc/self/fd")
        in_use = sum(1 for _ in descriptors.iterdir()) if descriptors.is_dir() else 64
        resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 48, hard))
        try:
            store.save_all(Measurement(metric="visits", value=n) for n in range(300))
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        assert store.count(Measurement) == 300

    def test_verify_changes_nothing(self, store: Store, root: Path) -> None:
        """verify() on a healthy store finds nothing and changes no byte."""
        objective = store.save(Objective(title="Welfare"))
        store.save(Experiment(title="Night bus", objectives=[objective]))
        before = fingerprint(root)
        assert store.verify() == []
        assert fingerprint(root) == before


class TestFailedFlushes:
    """A disk error after a version is in place: taken back, or reported as uncertain."""

    def test_a_failed_flush_takes_the_version_back(self, store: Store, root: Path) -> None:
        """Each failing flush of a save leaves the store as it was; the retry is no conflict."""
        first = store.save(Objective(title="First"))
        for nth in itertools.count(1):
            before = fingerprint(root)
            error = ""
            with fail_nth("fsync", nth) as fault:
                try:
                    saved = store.save(first.evolve(title=f"Attempt {nth}"))
                except StoreError as exc:
                    error = str(exc)
            if fault.struck:
                assert "nothing was written" in error, f"fsync {nth}: {error}"
            else:
                assert saved.revision == 2
                break
            assert fingerprint(root) == before, f"fsync {nth}"
            assert store.get(first.id).revision == 1
        assert nth > 2  # the flushes after the version was linked were among those failed

    def test_a_failed_flush_of_a_batch_takes_it_back(self, store: Store, root: Path) -> None:
        """Each failing flush or removal in a batch: done whole, or the store as it was."""
        first = store.save(Objective(title="First"))
        for call in ("fsync", "unlink"):
            for nth in itertools.count(1):
                before = fingerprint(root)
                error = ""
                with fail_nth(call, nth) as fault:
                    try:
                        store.save_all(
                            [first.evolve(title=f"{call} {nth}"), Objective(title="New")]
                        )
                    except StoreError as exc:
                        error = str(exc)
                if error:
                    assert "nothing was written" in error or "is undone" in error, error
                    assert fingerprint(root) == before, f"{call} {nth}"
                    continue
                first = store.get(first.id)  # type: ignore[assignment]
                assert first.title == f"{call} {nth}"
                if not fault.struck:
                    break
            assert nth > 3

    def test_a_batch_refused_by_a_full_disk_is_taken_back_without_writing(
        self, store: Store, root: Path
    ) -> None:
        """Every write failing from the 3rd on (a full disk): the batch undone, nothing written."""
        store.save(Objective(title="Before"))
        before = fingerprint(root)
        with fail_nth("write", 3, errno.ENOSPC, times=1000), pytest.raises(StoreError) as raised:
            store.save_all(Objective(title=f"Batch {n}") for n in range(5))
        assert "nothing was written" in str(raised.value)
        assert fingerprint(root) == before
        assert store.verify() == []

    def test_a_version_that_cannot_be_taken_back_is_reported_as_uncertain(
        self, store: Store, root: Path
    ) -> None:
        """Flush and removal both failing: the error says it may be stored and what to look up."""
        first = store.save(Objective(title="First"))
        # The 4th flush is of the record directory once current.json is renamed into place;
        # the 2nd removal is of that current.json, taking the save back.
        with fail_nth("fsync", 4), fail_nth("unlink", 2), pytest.raises(StoreError) as raised:
            store.save(first.evolve(title="Second"))
        message = str(raised.value)
        assert "nothing was written" not in message
        assert "may or may not have been stored" in message
        assert repr(first.id) in message
        assert "history" in message
        assert store.get(first.id).revision == 2  # it was, in fact, stored

    def test_a_committed_purge_whose_removal_fails_stands(
        self, store: Store, root: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Removing a purged record's files fails after the commit: purged, and finished later."""
        gone = store.save(Objective(title="To be purged"))
        stays = store.save(Objective(title="Stays"))
        with fail_nth("unlink", 1, times=100), caplog.at_level(logging.WARNING):
            report = store.purge(gone)
        assert report.purged == (gone.id,)
        assert "is committed" in caplog.text
        assert store.find(gone.id, include_deleted=True) is None
        assert [r.id for r in store.query()] == [stays.id]
        store.save(Objective(title="Another write"))
        assert not (root / "records" / encode_id(gone.id)).exists()
        assert not (root / ".journal").exists()


class TestLock:
    """The store's lock is waited for up to ?timeout=, then named in a StoreError."""

    @contextlib.contextmanager
    def _held(self, lock: Path) -> Iterator[subprocess.Popen[str]]:
        """Another process holding the lock exclusively until the block ends (or it is killed)."""
        code = (
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "time.sleep(120)\n"
        )
        with subprocess.Popen(
            [sys.executable, "-c", code, str(lock)], stdout=subprocess.PIPE, text=True
        ) as holder:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "locked"
            try:
                yield holder
            finally:
                holder.kill()

    def test_a_held_lock_times_out_naming_its_holder(self, store: Store, root: Path) -> None:
        """Reads and writes give up after the timeout, naming the process that holds the lock."""
        saved = store.save(Objective(title="Saved"))
        with (
            self._held(root / ".lock") as holder,
            open_store(Path(f"{root}?timeout=0.2")) as waiting,
        ):
            for attempt in (
                lambda: waiting.find(saved.id),
                lambda: waiting.save(Objective(title="Blocked")),
            ):
                started = time.monotonic()
                with pytest.raises(StoreError) as raised:
                    attempt()
                assert time.monotonic() - started < 10
                message = str(raised.value)
                assert f"process {holder.pid}" in message
                assert "stayed taken for more than 0.2s" in message
                assert "?timeout=" in message
        assert store.get(saved.id) == saved
        assert store.count() == 1

    def test_a_lock_let_go_in_time_is_taken(self, store: Store, root: Path) -> None:
        """A writer waits for a lock released within the timeout, and writes."""
        with self._held(root / ".lock") as holder:
            threading.Timer(0.3, holder.kill).start()
            saved = store.save(Objective(title="After the wait"))
        assert store.get(saved.id) == saved

    def test_a_child_of_fork_does_not_keep_a_lock_a_thread_held(
        self, store: Store, root: Path
    ) -> None:
        """Fork while another thread holds the lock: once that thread lets go, it is free."""
        store.save(Objective(title="Saved"))
        taken, release = threading.Event(), threading.Event()

        def hold() -> None:
            with atomic.lock(root / ".lock", exclusive=True, timeout=5):
                taken.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        taken.wait(10)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child lives on, touching nothing
            time.sleep(5)
            os._exit(0)
        try:
            release.set()
            holder.join()
            probe = (
                "import fcntl, os, sys\n"
                "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
                "try:\n"
                "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
                "except BlockingIOError:\n"
                "    print('held')\n"
                "else:\n"
                "    print('free')\n"
            )
            done = subprocess.run(
                [sys.executable, "-c", probe, str(root / ".lock")],
                capture_output=True,
                text=True,
                check=True,
            )
            assert done.stdout.strip() == "free"
        finally:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    def test_holders_are_read_from_the_lock_table(self, root: Path) -> None:
        """A /proc/locks line on the file's device and inode names the process; waiters do not."""
        root.mkdir()
        lock = root / ".lock"
        lock.touch()
        fd = os.open(lock, os.O_RDONLY)
        try:
            status = os.fstat(fd)
            where = f"{os.major(status.st_dev):02x}:{os.minor(status.st_dev):02x}:{status.st_ino}"
            table = (
                f"1: FLOCK  ADVISORY  WRITE {os.getppid()} {where} 0 EOF\n"
                f"1: -> FLOCK  ADVISORY  READ 999999 {where} 0 EOF\n"
                f"2: POSIX  ADVISORY  READ 4242 00:00:{status.st_ino + 1} 0 EOF\n"
                "garbage line\n"
            )
            found = atomic.holders(fd, table)
        finally:
            os.close(fd)
        assert len(found) == 1
        assert found[0].startswith(f"process {os.getppid()} (")


def test_damage_is_printable() -> None:
    """A Damage prints as location and problem, as the CLI will show it."""
    assert str(Damage("/x/records/a/00000001.json", "is empty")) == (
        "/x/records/a/00000001.json: is empty"
    )


def test_store_class_is_exported_for_isinstance_checks(store: Store) -> None:
    """connect("files:///...") gives a FileStore."""
    assert isinstance(store, FileStore)
    assert FileStore.scheme == "files"
