"""An I/O fault at every step of every write: done whole, or a typed error and nothing done.

The sweep fails the Nth call of one kind (open, write, fsync, rename, link, unlink,
mkdir) for N = 1, 2, ... until the operation needs fewer calls than N.  After each
failure the store must read exactly as before (or, where the error says it cannot tell,
exactly as before or as after), verify() must find nothing but stray temporary files,
the same must hold for a store opened afresh, and the operation done again without
the fault must succeed.  Calls made by C libraries (SQLite) are not reached this way:
file size limits and full file systems test those (``test_hostile_disks.py``).
"""

from __future__ import annotations

import errno
import functools
import itertools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from snapshots import State, state

from experiments import (
    Experiment,
    ExperimentsError,
    Learning,
    Measurement,
    Objective,
    Participant,
    Participation,
    Plugins,
    StoreError,
    connect,
)
from experiments._output import write_output
from experiments.stores import Store
from experiments.testing.faults import CALLS, fail_nth
from reliability_table import Figures

pytestmark = pytest.mark.reliability

Operation = Callable[[Store], Any]
AT = "2026-09-14T12:00:00Z"


def _programme(store: Store) -> None:
    """The records each operation starts from, with fixed ids so runs compare."""
    store.save(Objective(id="obj_a", title="Welfare"))
    store.save(Experiment(id="exp_e", title="Art afternoons", objectives=["obj_a"]))
    person = store.save(Participant(slug="erase-me", role="citizen", name="Erase Me"))
    store.save(Participation(experiment="exp_e", participant=person.id))
    store.save(
        Learning(id="lrn_l", experiment="exp_e", observation="Came back", participants=[person])
    )


@functools.cache
def _imported() -> tuple[Any, ...]:
    """An export of another store, made once: the sweep faults the import, not the export."""
    with connect("memory://", plugins=Plugins(autoload=False)) as source:
        first = source.save(Objective(id="obj_i", title="Imported"))
        source.save(first.evolve(title="Imported, v2"))
        source.save(Measurement(id="msr_i", metric="visits", value=3, measured_at=AT))
        return tuple(source.export())


OPERATIONS: dict[str, Operation] = {
    "save a new record": lambda s: s.save(Objective(id="obj_new", title="New")),
    "save a new version": lambda s: s.save(s.get("obj_a").evolve(title="Changed")),
    "save a batch": lambda s: s.save_all(
        [Measurement(id=f"msr_{n}", metric="visits", value=n, measured_at=AT) for n in range(4)]
        + [s.get("obj_a").evolve(title="Changed in a batch")]
    ),
    "soft delete": lambda s: s.delete("obj_a"),
    "purge with its cascade": lambda s: s.purge(s.resolve("erase-me", Participant)),
    "erase keeping the counts": lambda s: s.erase("erase-me"),
    "import versions": lambda s: s.import_records(_imported()),
}


def _open(root: Path) -> Store:
    return connect(f"files:///{root}", plugins=Plugins(autoload=False))


def _damage(store: Store) -> list[str]:
    return [str(d) for d in store.verify() if "temporary file" not in d.problem]


class TestFilesStoreSweep:
    """Every operation of the JSON directory store against every failing call."""

    @pytest.mark.parametrize("operation", list(OPERATIONS))
    def test_every_fault_is_all_or_nothing(
        self, operation: str, scratch: Path, reliability: Figures
    ) -> None:
        """Fail each call of each kind in turn: whole, or typed error and the store as before."""
        template = scratch / "template"
        with connect(f"files:///{template}", plugins=Plugins(autoload=False), create=True) as s:
            _programme(s)
            before = state(s)
        expected = self._expected(template, scratch / "reference", operation)
        tried = passed = uncertain = errors = 0
        problems: list[str] = []
        for call in CALLS:
            for nth in itertools.count(1):
                root = scratch / f"{call}-{nth}"
                shutil.copytree(template, root)
                struck, problem, kind = self._one(root, operation, call, nth, before, expected)
                if not struck:
                    break
                tried += 1
                errors += kind != "done"
                uncertain += kind == "uncertain"
                if problem is None:
                    passed += 1
                else:
                    problems.append(f"{call} #{nth}: {problem}")
                shutil.rmtree(root)
        reliability.record(
            f"I/O fault sweep: {operation}",
            "files",
            tried=tried,
            failed=len(problems),
            figures=f"{errors} typed errors, store as before; {uncertain} said it may be stored",
        )
        assert problems == [], "\n".join(problems)

    @staticmethod
    def _expected(template: Path, reference: Path, operation: str) -> State:
        shutil.copytree(template, reference)
        with _open(reference) as store:
            OPERATIONS[operation](store)
            return state(store)

    @staticmethod
    def _one(
        root: Path, operation: str, call: str, nth: int, before: State, after: State
    ) -> tuple[bool, str | None, str]:
        """Run the operation with the fault; (struck, what was wrong, how it ended)."""
        kind = "done"
        with _open(root) as store:
            with fail_nth(call, nth, errno.EIO) as fault:
                try:
                    OPERATIONS[operation](store)
                except StoreError as exc:
                    kind = "uncertain" if "may or may not" in str(exc) else "error"
                except ExperimentsError as exc:
                    return True, f"{type(exc).__name__}: {exc}", "error"
                except Exception as exc:  # noqa: BLE001 - exactly what the sweep looks for
                    return True, f"untyped {type(exc).__name__}: {exc}", "error"
            if not fault.struck:
                return False, None, kind
            allowed = {"done": [after], "error": [before], "uncertain": [before, after]}[kind]
            seen = state(store)
            if seen not in allowed:
                return True, f"{kind}, but the store reads otherwise", kind
            if damage := _damage(store):
                return True, f"{kind}, and verify() finds {damage}", kind
        with _open(root) as again:
            if state(again) != seen:
                return True, f"{kind}, but it reads otherwise when opened again", kind
            if seen == before:
                try:
                    OPERATIONS[operation](again)
                except ExperimentsError as exc:
                    return True, f"{kind}, and doing it again fails: {exc}", kind
                if state(again) != after:
                    return True, f"{kind}, and doing it again does something else", kind
        return True, None, kind


class TestOutputFileSweep:
    """Exports and reports written over an old file: the new one whole, or the old one."""

    def test_every_fault_leaves_the_old_file_or_the_new(
        self, tmp_path: Path, reliability: Figures
    ) -> None:
        """Fail each call of each kind in turn while replacing a file."""
        target = tmp_path / "programme.jsonl"
        old, new = b"old\n" * 1000, b"new\n" * 5000
        tried = passed = 0
        problems: list[str] = []
        for call in CALLS:
            for nth in itertools.count(1):
                target.write_bytes(old)
                with fail_nth(call, nth, errno.EIO) as fault:
                    try:
                        write_output(target, new)
                    except OSError:
                        outcome = "error"
                    else:
                        outcome = "done"
                if not fault.struck:
                    break
                tried += 1
                content = target.read_bytes()
                litter = sorted(p.name for p in tmp_path.iterdir() if p != target)
                if content not in ((new,) if outcome == "done" else (old, new)) or litter:
                    problems.append(f"{call} #{nth}: {outcome}, {len(content)} bytes, {litter}")
                else:
                    passed += 1
        reliability.record(
            "I/O fault sweep: replace an output file",
            "output file",
            tried=tried,
            failed=len(problems),
            figures="each fault: the old file or the new one, whole; no temporary file left",
        )
        assert problems == []
