"""Fuzzed bad input for every public constructor, store method and command-line option.

Every rejection must be an ExperimentsError (from the command line: one ``error: ...``
line on standard error, exit 2 for bad input or 3 for a store or file error), and a
rejected call or command must leave the store exactly as it was.
"""

from __future__ import annotations

import collections
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snapshots import state

import experiments
from experiments import (
    Experiment,
    ExperimentsError,
    Objective,
    Participant,
    Plugins,
    StoreURL,
    connect,
    track,
)
from experiments.cli import cli
from experiments.query import F, parse_where
from experiments.serialization import from_json, to_json
from experiments.stores import Store
from experiments.testing.strategies import records
from invalid import junk, spoiled_arguments, spoiled_data
from reliability_table import Figures

pytestmark = pytest.mark.reliability

BACKENDS = ["memory", "sqlite", "files"]
_FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

Call = Callable[[st.DataObject, Store], Any]


def _programme(store: Store) -> None:
    objective = store.save(Objective(title="Welfare", slug="welfare"))
    experiment = store.save(
        Experiment(title="Art afternoons", slug="art", objectives=[objective], time_box="P6W")
    )
    store.save(experiment.start(at="2026-09-01T09:00:00+02:00"))
    store.save(Participant(role="citizen", slug="parent-1", name="Sara", pseudonymous=True))


#: Text that looks like what each argument takes, and is mostly wrong.
words: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(
        [
            "welfare",
            "art",
            "parent-1",
            "nothing-here",
            "obj_1",
            "",
            " ",
            "-",
            "=",
            ",",
            "a,b",
            "x=y",
            "status = running",
            "title = 'x'",
            "(",
            "planned",
            "running",
            "supports",
            "critical",
            "scale-up",
            "citizen",
            "md",
            "json",
            "csv",
            "html",
            "da",
            "xx",
            "P2W",
            "P-1D",
            "P99999999999Y",
            "2026-09-14",
            "2026-13-45",
            "9999-12-31T23:59:59-05:00",
            "0",
            "-1",
            "3.5",
            "1e400",
            "nan",
            "inf",
            str(2**70),
            "yes",
            "\udcff",
            "a\udcfeb",
            "x" * 300,
        ]
    ),
    st.text(alphabet=st.characters(exclude_characters="\x00"), max_size=16),
)


# --- the Python API ------------------------------------------------------------------


def _url_texts() -> st.SearchStrategy[str]:
    """Store URLs, mostly wrong, never an absolute path (they are opened here)."""
    paths = st.text(alphabet="abc./?=#%&:@ \udcff", max_size=12).filter(
        lambda p: not p.startswith("/")
    )
    schemes = st.sampled_from(["sqlite", "files", "memory", "postgresql", "mongodb", "", "SQLITE"])
    return st.one_of(
        st.builds(lambda s, p: f"{s}:///{p}", schemes, paths),
        st.builds(lambda s, p: f"{s}://{p}", schemes, paths),
        words,
    )


def _construct(kind: type[experiments.Record], arguments: dict[str, Any]) -> None:
    kind(**arguments)


def _batch(data: st.DataObject, store: Store) -> None:
    with store.batch(by=data.draw(junk | st.none())) as batch:
        for _ in range(data.draw(st.integers(1, 3))):
            method = data.draw(st.sampled_from([batch.save, batch.delete, batch.purge]))
            method(data.draw(junk | words | records()))


API: dict[str, Call] = {
    "record constructors": lambda d, s: _construct(*d.draw(spoiled_arguments())),
    "reading stored data": lambda d, s: experiments.serialization.from_data(d.draw(spoiled_data())),
    "reading JSON": lambda d, s: from_json(d.draw(st.text(max_size=40) | st.binary(max_size=40))),
    "Record.evolve": lambda d, s: s.get_by_slug(Objective, "welfare").evolve(
        **{
            d.draw(st.sampled_from(["title", "weight", "parent", "slug", "tags", "x"])): d.draw(
                junk
            )
        }
    ),
    "StoreURL.parse": lambda d, s: StoreURL.parse(d.draw(_url_texts() | junk)),
    "connect()": lambda d, s: connect(
        d.draw(_url_texts()),
        plugins=Plugins(autoload=False),
        create=d.draw(st.sampled_from([None, False])),
        actor=d.draw(junk),
    ).close(),
    "parse_where": lambda d, s: parse_where(d.draw(words | junk)),
    "F conditions": lambda d, s: list(s.query(Objective, F(d.draw(words)) == d.draw(junk))),
    "track()": lambda d, s: track(
        d.draw(words | junk), store=s, title=d.draw(junk), time_box=d.draw(junk)
    ).__exit__(None, None, None),
    "run.measure()": lambda d, s: track("art", store=s).measure(
        d.draw(words | junk), d.draw(junk), at=d.draw(junk), unit=d.draw(junk)
    ),
    "run.learn()": lambda d, s: track("art", store=s).learn(
        d.draw(words | junk), verdict=d.draw(junk), evidence=d.draw(junk), at=d.draw(junk)
    ),
    "store.get/find/history": lambda d, s: d.draw(
        st.sampled_from([s.get, s.find, s.history, s.delete, s.restore, s.purge])
    )(d.draw(words | junk)),
    "store.get_by_slug": lambda d, s: s.get_by_slug(d.draw(junk | words), d.draw(junk | words)),
    "store.query": lambda d, s: list(
        s.query(
            d.draw(junk | st.sampled_from([Objective, "objective", experiments.Record])),
            d.draw(words | junk),
            order_by=d.draw(words | junk),
            limit=d.draw(junk),
            offset=d.draw(junk),
            **{d.draw(words): d.draw(junk)},
        )
    ),
    "store.count/aggregate": lambda d, s: (
        list(s.aggregate(Objective, group_by=d.draw(words | junk), measures=d.draw(junk)))
        if d.draw(st.booleans())
        else s.count(d.draw(junk | words), d.draw(words | junk))
    ),
    "store.save": lambda d, s: d.draw(st.sampled_from([s.save, s.create_if_absent]))(
        d.draw(junk | records())
    ),
    "store.save_all/import": lambda d, s: d.draw(st.sampled_from([s.save_all, s.import_records]))(
        d.draw(st.lists(junk | records(), max_size=3))
    ),
    "store.batch": _batch,
}


@pytest.fixture(params=BACKENDS)
def fuzzed_store(
    request: pytest.FixtureRequest, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    """A store of each backend holding a small programme; the working directory a scratch one."""
    monkeypatch.chdir(scratch)
    url = {
        "memory": "memory://",
        "sqlite": f"sqlite:///{scratch}/fuzz.db",
        "files": f"files:///{scratch}/fuzz",
    }[request.param]
    with connect(url, plugins=Plugins(autoload=False), create=True) as store:
        _programme(store)
        yield store


class TestPythonAPI:
    """Junk into every public constructor and store method."""

    def test_rejections_are_typed_and_change_nothing(
        self, fuzzed_store: Store, reliability: Figures
    ) -> None:
        """250 calls with junk: each works or raises an ExperimentsError, changing nothing."""
        tried: collections.Counter[str] = collections.Counter()
        refused: collections.Counter[str] = collections.Counter()

        @_FUZZ
        @given(st.data())
        def check(data: st.DataObject) -> None:
            name = data.draw(st.sampled_from(sorted(API)))
            before = state(fuzzed_store)
            tried[name] += 1
            try:
                API[name](data, fuzzed_store)
            except ExperimentsError:
                refused[name] += 1
                assert state(fuzzed_store) == before, f"{name} refused, but changed the store"

        check()
        backend = fuzzed_store.url.scheme
        reliability.record(
            "fuzzed Python API",
            backend,
            tried=sum(tried.values()),
            figures=(
                f"{len(tried)} entry points; {sum(refused.values())} refused with an "
                "ExperimentsError, the store unchanged; 0 untyped"
            ),
        )


# --- the command line ----------------------------------------------------------------


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[Any]:
    if isinstance(command, click.Group):
        for name in command.list_commands(click.Context(command)):
            inner = command.get_command(click.Context(command), name)
            assert inner is not None
            yield from _commands(inner, (*path, name))
    else:
        yield path, command


COMMANDS = dict(_commands(cli))
_PATHS = st.sampled_from(["out.md", "out/", "-", "missing/x.csv", "report.pdf", "x.json", ""])
_SOURCES = st.sampled_from(["-", "missing.jsonl", "garbage.jsonl", "export.jsonl"])
_STORES = st.sampled_from(
    [
        "nope",
        "sqlite:///other.db",
        "files:///other",
        "memory://",
        "sqlite:///x.db?bad=1",
        "sqlite:///x.db?timeout=-1",
        "mongodb://x",
        "files:///plan#2",
        "sqlite://",
        "",
    ]
)


@st.composite
def command_lines(draw: st.DrawFn) -> tuple[list[str], str | None]:
    """An ``experiments`` command line built from the command tree, with junk in it."""
    path, command = draw(st.sampled_from(sorted(COMMANDS.items(), key=lambda kv: kv[0])))
    tokens: list[str] = []
    for param in command.params:
        if isinstance(param, click.Argument):
            if draw(st.integers(0, 9)):  # now and then an argument is left out
                tokens.append(draw(_SOURCES if param.name == "source" else words))
            continue
        if not isinstance(param, click.Option) or not draw(st.booleans()):
            continue
        name = draw(st.sampled_from(param.opts))
        if param.is_flag:
            tokens.append(name)
        elif name == "--store":
            tokens += [name, draw(_STORES)]
        elif isinstance(param.type, click.Path):
            tokens += [name, draw(_PATHS)]
        else:
            for _ in range(draw(st.integers(1, 2)) if param.multiple else 1):
                tokens += [name, draw(words)]
    if draw(st.integers(0, 4)) == 0:
        tokens.insert(
            draw(st.integers(0, len(tokens))),
            draw(st.sampled_from(["--bogus", "-z", "--json=1", "--", "extra", "-h"])),
        )
    stdin = draw(st.sampled_from([None, "", "{}\n", "not json\n", '{"kind": "objective"}\n']))
    return [*path, *tokens], stdin


class TestCommandLine:
    """Junk on the command line of every command."""

    @pytest.mark.parametrize("backend", ["sqlite", "files"])
    def test_every_failure_is_one_line_and_changes_nothing(
        self,
        backend: str,
        scratch: Path,
        monkeypatch: pytest.MonkeyPatch,
        reliability: Figures,
    ) -> None:
        """Each command line: exit 0, 1 (findings), or 2/3 with one error line and no change."""
        monkeypatch.chdir(scratch)
        template = scratch / "template"
        template.mkdir()
        name = "store.db" if backend == "sqlite" else "store"
        with connect(
            f"{backend}:///{template / name}", plugins=Plugins(autoload=False), create=True
        ) as store:
            _programme(store)
            (scratch / "export.jsonl").write_text(
                "".join(to_json(r) + "\n" for r in store.export()), encoding="utf-8"
            )
        (scratch / "garbage.jsonl").write_bytes(b"\xff\xfe garbage\n")
        codes: collections.Counter[int] = collections.Counter()
        runner = CliRunner()

        @_FUZZ
        @given(command_lines())
        def check(line: tuple[list[str], str | None]) -> None:
            argv, stdin = line
            case = scratch / "case"
            if case.exists():
                shutil.rmtree(case)
            shutil.copytree(template, case)
            url = f"{backend}:///{case / name}"
            with connect(url, plugins=Plugins(autoload=False)) as store:
                before = state(store)
            result = runner.invoke(
                cli,
                argv,
                input=stdin,
                env={"EXPERIMENTS_STORE": url, "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1"},
            )
            shown = f"experiments {' '.join(argv)!r}: exit {result.exit_code}\n{result.stderr}"
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                f"{shown}\n{result.exception!r}"
            )
            assert result.exit_code in (0, 1, 2, 3), shown
            codes[result.exit_code] += 1
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            assert "Traceback" not in result.stderr, shown
            if result.exit_code in (2, 3) and lines:
                assert len(lines) == 1, shown
                assert lines[0].startswith("error: "), shown
            if result.exit_code == 2 or (result.exit_code == 3 and lines):
                with connect(url, plugins=Plugins(autoload=False)) as store:
                    assert state(store) == before, f"{shown}\nthe store changed"
            if result.exit_code == 3 and not lines:
                assert argv[:1] == ["verify"] or "verify" in argv, shown

        check()
        total = sum(codes.values())
        reliability.record(
            "fuzzed command line",
            backend,
            tried=total,
            figures=(
                f"{len(COMMANDS)} commands; exit 0: {codes[0]}, 1: {codes[1]}, 2: {codes[2]}, "
                f"3: {codes[3]}; every failure one line, the store unchanged"
            ),
        )
