"""Erasure that keeps the counts, on every backend, down to the bytes the store keeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

import experiments
from experiments import Learning, Note, Participant, Plugins, reports
from experiments.checks import run_checks
from experiments.cli import cli
from experiments.errors import ConflictError, NotFoundError, StoreError
from experiments.plugins import hookimpl
from experiments.rollup import rollup
from experiments.serialization import to_data, to_json
from experiments.stores import Capability, Rewrite, Store, _erasure
from experiments.stores.url import StoreURL
from people import person as stored_person
from report_programmes import build_report, municipality
from test_privacy import _run

#: The critical, external, pseudonymous citizen who asks to be erased.
NAME: Final = "Jens K."
SLUG: Final = "parent-3"
#: How every quote of the name reads afterwards.
INSTEAD: Final = "erased citizen"
#: Text about them that only quotes them (and must lose the name only).
NOTE: Final = f"{NAME} asked for sessions in the evening"


def _record(store: Store) -> str:
    """The example programme, with free text quoting the person; their id."""
    municipality.record_programme(store)
    person = stored_person(store, SLUG)
    art = store.get_by_slug("experiment", "art-for-families")
    store.save(Note(experiment=art, text=NOTE, details=f"Call {NAME} after six"))
    learning = next(store.query(Learning, experiment=art.id))
    store.save(learning.evolve(insight=f"{learning.insight} ({NAME} brought two neighbours)"))
    return person.id


def _figures(store: Store) -> dict[str, Any]:
    """Roll-ups, what the checks find, and every report in every format."""
    objective = "welfare-in-100-days"
    report = build_report(store)
    rendered = {}
    for name in reports.formats(plugins=store.plugins):
        page = reports.render(report, name, "en", plugins=store.plugins)
        rendered[name] = page.decode("utf-8") if isinstance(page, bytes) else page
    return {
        "rollup": repr(rollup(store, objective, at=municipality.AS_OF)),
        "strategy": repr(rollup(store, None, at=municipality.AS_OF)),
        "checks": [str(f) for f in run_checks(store, at=municipality.AS_OF).findings],
        **rendered,
    }


def _raw(url: str, store: Store, server: Any) -> bytes:
    """Every byte the store keeps: the SQLite file and log, the directory, the tables."""
    parsed = StoreURL.parse(url)
    if parsed.scheme == "sqlite":
        path = Path(parsed.file_path)
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    if parsed.scheme == "files":
        root = Path(parsed.file_path)
        return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())
    if parsed.scheme == "postgresql":
        return _postgres_files(store, server)
    return b"".join(to_json(r).encode() for r in store.export())  # memory: what it holds


def _postgres_files(store: Store, server: Any) -> bytes:
    """The files of every table, index and TOAST table of the store's schema."""
    schema = store.schema  # type: ignore[attr-defined]
    server.query("CHECKPOINT")  # what is in shared memory reaches the files
    rows = server.query(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
        "UNION SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.reltoastrelid <> 0",
        (schema, schema),
    )
    found = b""
    for (relative,) in rows:
        if relative is None:
            continue
        base = Path(server.data) / str(relative)
        for segment in base.parent.glob(base.name + "*"):
            found += segment.read_bytes()
    return found


@pytest.fixture
def erasing(
    backend_url: str, plugins: Plugins, request: pytest.FixtureRequest
) -> Iterator[tuple[str, Store, Any]]:
    server = request.getfixturevalue("postgres_server") if "postgresql" in backend_url else None
    with experiments.connect(backend_url, plugins=plugins, create=True) as store:
        yield backend_url, store, server


class TestEraseKeepsTheCounts:
    """Erasing a critical, external participant changes no figure and leaves no byte."""

    def test_figures_identical_and_no_byte_left(self, erasing) -> None:
        """Roll-ups, checks and every report are the same; the raw store holds no name."""
        url, store, server = erasing
        person = _record(store)
        before = _figures(store)
        if store.url.scheme != "memory":
            assert NAME.encode() in _raw(url, store, server)  # the check below can fail
        report = store.erase(person, vacuum=True)
        after = _figures(store)
        for name, figure in before.items():
            expected = figure.replace(NAME, INSTEAD) if isinstance(figure, str) else figure
            if name == "checks":
                expected = [f.replace(NAME, INSTEAD) for f in figure]
            assert after[name] == expected, name
        raw = _raw(url, store, server)
        assert NAME.encode() not in raw
        assert b"Jens" not in raw
        assert f'"{SLUG}"'.encode() not in raw
        assert report.participant == person
        assert set(report.removed) == {"name", "slug"}
        assert "department" in report.kept
        assert len(report.quoted_in) == 2  # the note and the learning
        assert report.freed

    def test_the_remainder_is_counted_and_names_nobody(self, any_store) -> None:
        """Every version keeps role, external, department; participations stay as they were."""
        store = any_store
        person = _record(store)
        participations = sorted(
            to_json(p) for p in store.query("participation", participant=person)
        )
        store.erase(person)
        versions = store.history(person)
        assert all(isinstance(v, Participant) for v in versions)
        for version in versions:
            assert (version.name, version.slug, version.tags) == (None, None, frozenset())
            assert (version.role.value, version.external, version.pseudonymous) == (
                "citizen",
                True,
                True,
            )
            assert version.metadata == {"erased": True}
        after = sorted(to_json(p) for p in store.query("participation", participant=person))
        assert after == participations
        note = next(n for n in store.query(Note) if n.text.endswith("in the evening"))
        assert note.text == f"{INSTEAD} asked for sessions in the evening"
        assert note.details == f"Call {INSTEAD} after six"
        assert store.verify() == []
        with pytest.raises(NotFoundError):
            store.resolve(SLUG, Participant)

    def test_every_version_is_rewritten(self, any_store) -> None:
        """A name changed over time is gone from every version, and so is its slug."""
        store = any_store
        first = store.save(Participant(role="user", name="Ada Quist", slug="ada-quist"))
        store.save(first.evolve(name="Ada Q. Lind", department="Library"))
        store.save(
            Note(experiment=store.save(experiments.Experiment(title="Ada Quist's idea")), text="x")
        )
        store.erase(first.id)
        held = "".join(to_json(r) for r in store.export())
        assert "Ada" not in held
        assert "ada-quist" not in held
        assert "erased user's idea" in held
        assert [v.department for v in store.history(first.id)] == [None, "Library"]


class _Listener:
    def __init__(self) -> None:
        self.rewritten: list[tuple[str, str]] = []

    @hookimpl
    def object_rewritten(self, kind: str, id: str) -> None:  # noqa: A002 - the hook's name
        self.rewritten.append((kind, id))


class TestEraseEvents:
    """Plugins hear of every record an erasure rewrote, after it committed."""

    def test_object_rewritten_for_each(self, plugins: Plugins) -> None:
        """The participant and each record quoting them: one event each."""
        listener = _Listener()
        plugins.register(listener, "listener")
        with experiments.connect("memory://", plugins=plugins) as store:
            person = _record(store)
            store.erase(person)
        kinds = sorted(kind for kind, _ in listener.rewritten)
        assert kinds == ["learning", "note", "participant"]
        assert ("participant", person) in listener.rewritten


class TestEraseRefuses:
    """Erasure that cannot be done says so and changes nothing."""

    def test_a_record_that_is_no_participant(self, plugins) -> None:
        """Only a participant can be erased; a slug of a pseudonymous one is not found."""
        with experiments.connect("memory://", plugins=plugins) as store:
            experiment = store.save(experiments.Experiment(title="Art", slug="art"))
            with pytest.raises(Exception, match="participant"):
                store.erase(experiment.id)
            with pytest.raises(NotFoundError):
                store.erase("par_" + "0" * 32)

    def test_a_backend_that_cannot_rewrite_history(self, plugins) -> None:
        """A backend without the erasure capability refuses, and nothing is written."""
        with experiments.connect("memory://", plugins=plugins) as store:
            person = store.save(Participant(role="citizen", name="Bo"))
            store.capabilities = store.capabilities - {Capability.ERASURE}
            with pytest.raises(StoreError, match="cannot rewrite history"):
                store.erase(person)
            assert store.get(person.id).name == "Bo"


def _late_kim(store: Store) -> tuple[Participant, experiments.Experiment]:
    """A person to erase, and an experiment that notes about them are written on."""
    person = store.save(Participant(role="citizen", name="Kim Late"))
    return person, store.save(experiments.Experiment(title="Walks"))


class TestRewriteIsAllOrNothing:
    """The change erasure commits: all its rewrites, or none, on every backend."""

    def test_one_stale_rewrite_stops_them_all(self, any_store) -> None:
        """A rewrite over a revision no longer current is a conflict; nothing changes."""
        store = any_store
        person = store.save(Participant(role="citizen", name="Kim Kept"))
        idea = store.save(experiments.Objective(title="Kim Kept's idea"))
        before = [to_json(r) for r in store.export()]
        fine = Rewrite(person.id, 1, ((person, to_data(person.evolve(name=None))),))
        stale = Rewrite(idea.id, 7, ((idea, to_data(idea)),))
        with pytest.raises(ConflictError):
            store._commit([fine, stale])
        assert [to_json(r) for r in store.export()] == before

    def test_erasure_plans_again_when_someone_wrote_meanwhile(
        self, any_store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A record changed between planning and committing is rewritten as it is now."""
        store = any_store
        person, walks = _late_kim(store)
        note = store.save(Note(experiment=walks, text="Kim Late came"))
        planned = _erasure._plan
        calls = []

        def racing(store_: Store, who: Participant) -> Any:
            result = planned(store_, who)
            if not calls:  # a writer gets in between, once: the race is certain
                store.save(store.get(note.id).evolve(details="Kim Late came again"))
            calls.append(who.id)
            return result

        monkeypatch.setattr(_erasure, "_plan", racing)
        store.erase(person)
        assert len(calls) == 2
        latest = store.get(note.id)
        assert (latest.text, latest.details) == ("erased citizen came", "erased citizen came again")
        assert "Kim" not in "".join(to_json(r) for r in store.export())


class TestEraseSweeps:
    """A record that came to quote the person while the erasure ran is rewritten too."""

    def test_a_note_written_between_the_scan_and_the_commit(
        self, any_store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The note a writer adds after the scan is found and rewritten after the commit."""
        store = any_store
        person, walks = _late_kim(store)
        scan = _erasure._versions_by_id
        added: list[str] = []

        def scanning(store_: Store) -> Iterator[list[Any]]:
            yield from scan(store_)
            if not added:  # the writer gets in right after the first scan: certain
                added.append(store.save(Note(experiment=walks, text="Kim Late came")).id)

        monkeypatch.setattr(_erasure, "_versions_by_id", scanning)
        report = store.erase(person)
        assert added[0] in report.quoted_in
        assert report.warnings == ()
        assert "Kim" not in "".join(to_json(r) for r in store.export())


class TestEraseCommand:
    """`experiments erase` asks, erases, and says what was removed and kept."""

    def test_text_and_json(self, tmp_path: Path, plugins: Plugins) -> None:
        """The text names what was removed and kept; --json has the same as fields."""
        url = f"sqlite:///{tmp_path}/programme.db"
        with experiments.connect(url, plugins=plugins, create=True) as store:
            person = _record(store)
        refused = _run(url, "erase", person)
        assert refused.exit_code == 2
        assert "--yes" in refused.stderr
        done = _run(url, "--json", "erase", person, "--yes")
        assert done.exit_code == 0, done.output
        told = __import__("json").loads(done.stdout)
        assert told["removed"] == ["name", "slug"]
        assert "role" in told["kept"]
        assert len(told["quoted_in"]) == 2
        assert "secure_delete" in told["freed"]
        text = _run(url, "erase", person, "--yes").stdout
        assert f"erased participant {person}" in text
        assert NAME not in text
        assert "erase" in cli.commands


class TestEraseRewritesDerivedData:
    """What an SQL store derives from a version (list elements, hot columns) is rewritten."""

    def test_sqlite_elements_and_columns(self, tmp_path: Path, plugins: Plugins) -> None:
        """The erased person's tags leave the elements table, their name the columns."""
        import sqlite3  # noqa: PLC0415 - this test alone reads the file

        url = f"sqlite:///{tmp_path}/programme.db"
        with experiments.connect(url, plugins=plugins, create=True) as store:
            person = store.get(_record(store))
            store.save(person.evolve(tags={"jens-from-the-library"}))
            art = store.get_by_slug("experiment", "art-for-families")
            art = store.save(art.evolve(description=f"Asked for by {NAME}"))
            report = store.erase(person.id)
        assert report.versions >= 2
        assert art.id in report.quoted_in
        with sqlite3.connect(tmp_path / "programme.db") as connection:
            elements = connection.execute("SELECT field, value, id FROM elements").fetchall()
            bounds = connection.execute(
                "SELECT time_box_start, time_box_end FROM records WHERE id = ?", (art.id,)
            ).fetchone()
            erased_art = connection.execute(
                "SELECT description, time_box_start, time_box_end FROM experiments WHERE id = ?",
                (art.id,),
            ).fetchone()
            names = connection.execute(
                "SELECT name, slug FROM participants WHERE id = ?", (person.id,)
            ).fetchone()
        assert not [row for row in elements if "jens" in str(row[1]).casefold()]
        assert [row for row in elements if row[2] == person.id] == []
        assert bounds is not None
        assert bounds[0] is not None  # the time box's bounds, written again with the row
        assert erased_art[0] == f"Asked for by {INSTEAD}"
        assert erased_art[1:] == bounds
        assert names == (None, None)
