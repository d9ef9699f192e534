"""Progress of long commands: a count and the time left on a terminal, nothing when piped."""

from __future__ import annotations

import contextlib
import io
import os
import pty
import re
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import experiments
from experiments import Experiment, Objective, Plugins
from experiments.checks import run_checks
from experiments.cli.progress import Progress, lines_in
from experiments.reports import build

#: The commands that show progress, each with the total its bar counts to (from the store).
COMMANDS = ("export", "import", "import-csv", "check", "report")

_BAR = re.compile(r"(\d+)/(\d+)")


@pytest.fixture(scope="module")
def programme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of 40 experiments under 4 objectives, its export and a sheet of 25 people."""
    root = tmp_path_factory.mktemp("progress")
    with experiments.connect(
        f"sqlite:///{root / 'programme.db'}", plugins=Plugins(autoload=False), create=True
    ) as store:
        with store.batch() as batch:
            objectives = [batch.save(Objective(title=f"Goal {n}")) for n in range(4)]
            for n in range(40):
                batch.save(Experiment(title=f"Trial {n}", objectives=[objectives[n % 4].id]))
        with (root / "programme.jsonl").open("w", encoding="utf-8") as export:
            export.writelines(experiments.serialization.to_json(r) + "\n" for r in store.export())
    rows = "".join(f"person-{n};citizen\r\n" for n in range(25))
    (root / "panel.csv").write_bytes(b"\xef\xbb\xbfslug;role\r\n" + rows.encode())
    return root


def _arguments(command: str, root: Path) -> list[str]:
    fresh = f"sqlite:///{root / 'fresh.db'}"
    return {
        "export": ["export", "-o", str(root / "out.jsonl")],
        "import": ["--store", fresh, "import", str(root / "programme.jsonl")],
        "import-csv": ["import-csv", "participants", str(root / "panel.csv"), "--dry-run"],
        "check": ["check"],
        "report": ["report", "-o", str(root / "report.md")],
    }[command]


def _expected_total(command: str, root: Path) -> int:
    """How far the command's bar counts: versions, lines, or the steps of the work."""
    with experiments.connect(
        f"sqlite:///{root / 'programme.db'}", plugins=Plugins(autoload=False)
    ) as store:
        checks = 1 + len(store.plugins.checks())  # reading the scope, then each check
        return {
            "export": store.count_versions(),
            "import": store.count_versions(),
            "import-csv": 25 + 25,  # the lines, then the records compared with the store
            "check": checks,
            "report": 1 + checks + 2 + 1,  # roll-up, checks, detail, rendering
        }[command]


def _run(root: Path, args: list[str], *, terminal: bool) -> tuple[int, str, str]:
    """Run `experiments ARGS`: exit code, stdout, and stderr (a pseudo-terminal, or a pipe)."""
    env = {
        **os.environ,
        "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1",
        "EXPERIMENTS_STORE": f"sqlite:///{root / 'programme.db'}",
        "COLUMNS": "100",
    }
    command = [sys.executable, "-m", "experiments", *args]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        return done.returncode, done.stdout, done.stderr
    controller, terminal_end = pty.openpty()
    seen = bytearray()

    def read() -> None:
        with contextlib.suppress(OSError):  # EIO: the child closed its end
            while chunk := os.read(controller, 4096):
                seen.extend(chunk)

    reader = threading.Thread(target=read)
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=terminal_end, env=env, text=True
    ) as process:
        os.close(terminal_end)
        reader.start()
        out, _ = process.communicate()
    reader.join()
    os.close(controller)
    return process.returncode, out, seen.decode("utf-8", "replace")


class TestOnATerminal:
    """On a terminal, each long command counts up to its total on standard error."""

    @pytest.mark.parametrize("command", COMMANDS)
    def test_counts_to_the_total(self, command: str, programme: Path, tmp_path: Path):
        """The last count the bar shows is the whole of the work, e.g. 81/81."""
        root = _copy(programme, tmp_path)
        code, _, shown = _run(root, _arguments(command, root), terminal=True)
        assert code in (0, 1), shown  # check exits 1 when it finds something
        counts = _BAR.findall(shown)
        total = _expected_total(command, root)
        assert counts, shown
        assert counts[-1] == (str(total), str(total)), shown


class TestPiped:
    """Piped or redirected, a command prints no progress at all."""

    @pytest.mark.parametrize("command", COMMANDS)
    def test_no_progress(self, command: str, programme: Path, tmp_path: Path):
        """Standard error holds no bar, no count and no carriage return."""
        root = _copy(programme, tmp_path)
        code, _, errors = _run(root, _arguments(command, root), terminal=False)
        assert code in (0, 1), errors
        assert "\r" not in errors
        assert not _BAR.search(errors), errors
        assert "[" not in errors, errors


def _copy(programme: Path, tmp_path: Path) -> Path:
    for name in ("programme.db", "programme.jsonl", "panel.csv"):
        (tmp_path / name).write_bytes((programme / name).read_bytes())
    return tmp_path


class TestProgressBar:
    """The bar itself: a total that grows as parts of the work join, and the time left."""

    @pytest.fixture
    def terminal(self):
        """A pseudo-terminal to draw on, and what was drawn on it, as text."""
        controller, terminal_end = pty.openpty()
        stream = open(terminal_end, "w", encoding="utf-8", closefd=True)  # noqa: SIM115, PTH123
        drawn = bytearray()

        def shown() -> str:
            """Everything drawn so far: up to a mark written now (a pty passes data on
            asynchronously, so what was written is read once the mark has come through)."""
            mark = "\x00end\x00"
            stream.write(mark)
            stream.flush()
            while not drawn.endswith(mark.encode()):
                ready, _, _ = select.select([controller], [], [], 10)
                assert ready, f"the terminal did not pass on what was drawn: {drawn!r}"
                drawn.extend(os.read(controller, 65536))
            del drawn[-len(mark) :]
            return drawn.decode("utf-8", "replace")

        yield stream, shown
        stream.close()
        os.close(controller)

    def test_parts_add_to_one_total(self, terminal):
        """Work counted in by parts (3, then 2, then 1 step) ends at 6/6."""
        stream, shown = terminal
        with Progress("working", stream) as progress:
            progress.expect(1)
            for n in progress.over(range(3), 3):
                if n == 0:
                    assert list(progress.over(["a", "b"], lambda: 2)) == ["a", "b"]
            progress.step()
        assert _BAR.findall(shown())[-1] == ("6", "6")

    def test_a_part_after_the_others_are_done(self, terminal):
        """A part that joins once the bar was full counts on from there, not at 100%."""
        stream, shown = terminal
        with Progress("importing", stream) as progress:
            list(progress.over(range(2), 2))
            for n in progress.over(range(2), 2):
                if n == 0:
                    assert re.search(r"3/4\s+75%", shown()) is None
            assert re.search(r"3/4\s+75%", shown())

    def test_time_left_once_a_second_has_passed(self, terminal):
        """After a second of work the bar shows the time left, as hh:mm:ss."""
        stream, shown = terminal
        with Progress("working", stream) as progress:
            for n in progress.over(range(3), 3):
                if n == 1:
                    assert re.search(r"\d\d:\d\d:\d\d", shown()) is None
                    time.sleep(1.05)  # click estimates the time left after a second
        assert re.search(r"2/3\s+\d+%\s+\d\d:\d\d:\d\d", shown())

    def test_unknown_length_counts_without_a_total(self, terminal):
        """Lines from a pipe: the count goes up with no total."""
        stream, shown = terminal
        with Progress("importing", stream) as progress:
            list(progress.over(range(4), None))
        drawn = shown()
        assert re.search(r"importing .* 4\b", drawn)
        assert not _BAR.search(drawn)

    def test_nothing_when_not_a_terminal(self):
        """Redirected, the bar is never drawn and a counted length is never asked for."""
        redirected = io.StringIO()

        def never() -> int:
            raise AssertionError("counted although nothing is shown")

        with Progress("exporting", redirected) as progress:
            assert list(progress.over(range(3), never)) == [0, 1, 2]
            progress.expect(1)
            progress.step()
        assert redirected.getvalue() == ""


class TestLinesIn:
    """The total of an import is the lines of its file, when it is a file."""

    def test_a_file(self, tmp_path: Path):
        """A regular file: its lines, counted in bytes."""
        (tmp_path / "x.jsonl").write_text("{}\n{}\n{}\n", encoding="utf-8")
        with (tmp_path / "x.jsonl").open(encoding="utf-8") as source:
            assert lines_in(source) == 3
            assert source.readline() == "{}\n"  # the reading position is left alone

    def test_a_pipe(self):
        """A pipe cannot be counted ahead: None."""
        reading, writing = os.pipe()
        with open(reading, encoding="utf-8") as source:  # noqa: PTH123 - a descriptor
            assert lines_in(source) is None
        os.close(writing)


class TestLibraryHooks:
    """run_checks() and reports.build() pass every step through a progress function."""

    def test_steps_seen(self, programme: Path):
        """The checks see the scope and every check; a report adds roll-up and detail."""
        seen: list[tuple[int, list[object]]] = []

        def progress(work, total):
            steps = list(work)
            seen.append((total, steps))
            return steps

        with experiments.connect(
            f"sqlite:///{programme / 'programme.db'}", plugins=Plugins(autoload=False)
        ) as store:
            checked = run_checks(store, progress=progress)
            assert seen == [(1 + len(checked.checks), [None, *checked.checks])]
            seen.clear()
            build(store, progress=progress)
            assert [total for total, _ in seen] == [3, 1 + len(checked.checks)]
            assert seen[0][1] == ["roll-up", "checks", "detail"]
