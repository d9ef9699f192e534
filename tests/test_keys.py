"""Participant ids that reveal nothing: derived with a key that only the store holds."""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from examples import municipality

import experiments
import workers
from experiments import Learning, Participant, Participation, Plugins
from experiments.errors import NotFoundError, ValidationError
from experiments.model._record import id_for
from experiments.serialization import from_json, to_data, to_json
from experiments.stores import Store
from experiments.stores._keys import KEY, id_for_slug
from old_stores import undo_layout_9
from people import person as stored_person
from pgserver import PostgresServer
from racing import at_once


@pytest.fixture
def random_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stores made in this test get random keys, as everywhere but in the tests."""
    monkeypatch.setattr("experiments.stores._keys.new_key", lambda: secrets.token_hex(32))


def _connect(url: str, **options: Any) -> Store:
    return experiments.connect(url, plugins=Plugins(autoload=False), **options)


class TestKeyedIds:
    """A participant's id cannot be computed from a guessed name outside the store."""

    @pytest.mark.usefixtures("random_keys")
    def test_two_stores_give_unrelated_ids(self, backend_url: str, tmp_path: Path) -> None:
        """The same slug in two stores: two ids, neither the slug's plain digest."""
        other = f"sqlite:///{tmp_path}/other.db"
        with _connect(backend_url, create=True) as one, _connect(other, create=True) as two:
            first = one.save(Participant(role="citizen", slug="anna-hansen"))
            second = two.save(Participant(role="citizen", slug="anna-hansen"))
            assert first.id != second.id
            guessed = id_for("participant", "par", "anna-hansen")
            assert guessed not in (first.id, second.id)
            assert one.get_by_slug(Participant, "anna-hansen").id == first.id

    def test_creating_by_slug_is_one_participant(self, any_store: Store) -> None:
        """Saved twice by slug, however made: one participant, found by that slug."""
        made = any_store.create_if_absent(Participant(role="citizen", slug="ole"))
        again = any_store.create_if_absent(Participant(role="citizen", slug="ole"))
        assert made.id == again.id == any_store.resolve("ole", Participant).id
        assert any_store.count(Participant) == 1

    def test_no_id_from_a_slug_without_a_store(self) -> None:
        """Participant.id_for_slug is refused, and says where to look instead."""
        with pytest.raises(ValidationError, match=r"store\.resolve"):
            Participant.id_for_slug("anna-hansen")

    def test_a_pseudonymous_slug_does_not_resolve(self, any_store: Store) -> None:
        """get_by_slug and resolve find a pseudonymous person by id only."""
        hidden = any_store.save(Participant(role="citizen", slug="jens-k", pseudonymous=True))
        for find in (
            lambda: any_store.get_by_slug(Participant, "jens-k"),
            lambda: any_store.resolve("jens-k", Participant),
        ):
            with pytest.raises(NotFoundError) as raised:
                find()
            assert hidden.id not in str(raised.value)
        assert any_store.resolve(hidden.id, Participant) == hidden

    def test_a_slug_cannot_be_added_later(self, any_store: Store) -> None:
        """A participant saved without a slug cannot take one: their id would not follow."""
        saved = any_store.save(Participant(role="citizen"))
        with pytest.raises(ValidationError, match="slug"):
            any_store.save(saved.evolve(slug="late"))
        assert any_store.get(saved.id).slug is None


class TestSettings:
    """A store's settings: shown, set, refused when unknown or of the wrong form."""

    def test_set_shown_and_removed(self, any_store: Store) -> None:
        """A setting set is shown as stored; None removes it; the key is never shown."""
        assert any_store.configuration() == {"require-consent-for-external": None}
        any_store.configure("require-consent-for-external", "yes")
        assert any_store.configuration() == {"require-consent-for-external": "true"}
        any_store.configure("require-consent-for-external", None)
        assert any_store.configuration() == {"require-consent-for-external": None}

    @pytest.mark.parametrize(
        ("name", "value", "said"),
        [
            ("participant-key", "00", "unknown setting"),
            ("require-consent-for-external", "maybe", "true or false"),
        ],
    )
    def test_refused(self, any_store: Store, name: str, value: str, said: str) -> None:
        """An unknown setting, the key among them, or a value of the wrong form."""
        with pytest.raises(ValidationError, match=said):
            any_store.configure(name, value)


class TestImport:
    """An export is imported with its ids; only ids a guessed slug gives are re-keyed."""

    @pytest.mark.usefixtures("random_keys")
    def test_an_export_keeps_its_ids(self, any_store: Store) -> None:
        """Another store's keyed ids stay, and are found by slug; importing again adds nothing."""
        with _connect("memory://") as source:
            municipality.record_programme(source)
            exported = list(source.export())
            worker = source.get_by_slug(Participant, "family-worker").id
        first = any_store.import_records(exported)
        assert any_store.get_by_slug(Participant, "family-worker").id == worker
        again = any_store.create_if_absent(Participant(role="employee", slug="family-worker"))
        assert again.id == worker
        assert [to_data(r) for r in any_store.export()] == [to_data(r) for r in exported]
        second = any_store.import_records(exported)
        assert (second.added, second.unchanged) == (0, first.added + first.unchanged)

    def test_ids_from_plain_slugs_are_rekeyed(self, any_store: Store) -> None:
        """An export made before keys: slug-derived ids get this store's; references follow."""
        with _connect("memory://") as source:
            municipality.record_programme(source)
            back = _legacy(source)
            texts = [to_json(r) for r in source.export()]
        for new, old in back.items():
            texts = [text.replace(new, old) for text in texts]
        any_store.import_records(from_json(text) for text in texts)
        worker = any_store.get_by_slug(Participant, "family-worker")
        assert worker.id not in back.values()
        assert worker.id == id_for_slug(any_store._setting(KEY), "family-worker")
        learnings = list(any_store.query(Learning))
        assert any(worker.id in learning.participants for learning in learnings)
        every = "\n".join(to_json(r) for r in any_store.export())
        assert [old for old in back.values() if old in every] == []
        taking_part = list(any_store.query(Participation, participant=worker.id))
        assert taking_part
        for p in taking_part:
            assert p.id == Participation(experiment=p.experiment, participant=worker.id).id


# --- the migration that re-keys a store laid out before it had a key --------------------


def _legacy(store: Store) -> dict[str, str]:
    """Each participant's id (and derived participation's) as stores made it before keys."""
    back: dict[str, str] = {}
    for person in store.query(Participant, include_deleted=True):
        if person.slug:
            back[person.id] = id_for("participant", "par", person.slug)
    for taking_part in store.query(Participation, include_deleted=True):
        if taking_part.participant in back and taking_part.slug is None:
            legacy = f"{taking_part.experiment}/{back[taking_part.participant]}"
            back[taking_part.id] = id_for("participation", "ppn", legacy)
    return back


def _figures(store: Store) -> dict[str, Any]:
    """What the re-keying must keep: counts, stances, versions, who is named where."""
    return {
        "counts": {
            kind: store.count(kind) for kind in ("participant", "participation", "learning")
        },
        "versions": store.count_versions(),
        "stances": sorted((p.experiment, p.stance.value) for p in store.query(Participation)),
        "voices": sorted(len(learning.participants) for learning in store.query(Learning)),
        "slugs": sorted(str(p.slug) for p in store.query(Participant)),
    }


def _sqlite_layout_7(path: Path, back: dict[str, str]) -> None:
    with contextlib.closing(sqlite3.connect(path)) as raw, raw:
        for table in ("records", "versions", "elements"):
            columns = [row[1] for row in raw.execute(f"PRAGMA table_info({table})")]
            for new, old in back.items():
                text = 'CASE WHEN typeof("{c}") = \'text\' THEN replace("{c}", ?, ?) ELSE "{c}" END'
                sets = ", ".join(f'"{c}" = ' + text.format(c=c) for c in columns)
                raw.execute(f"UPDATE {table} SET {sets}", [new, old] * len(columns))  # noqa: S608
        raw.execute("DROP TABLE settings")
        undo_layout_9(raw)
        raw.execute("PRAGMA user_version = 7")


def _files_format_2(root: Path, back: dict[str, str]) -> None:
    for path in sorted((root / "records").rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        for new, old in back.items():
            text = text.replace(new, old)
        path.write_text(text, encoding="utf-8")
    for new, old in back.items():
        with contextlib.suppress(FileNotFoundError):
            (root / "records" / new).rename(root / "records" / old)
    marker = json.loads((root / "store.json").read_text(encoding="utf-8"))
    marker["version"] = 2
    del marker["settings"]
    (root / "store.json").write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def _postgres_layout_7(url: str, back: dict[str, str]) -> None:
    schema = dict(part.split("=") for part in url.split("?")[1].split("&"))["schema"]
    conninfo = url.split("?", maxsplit=1)[0].replace("postgresql://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=False) as raw:
        for new, old in back.items():
            raw.execute(
                f'UPDATE "{schema}".records SET id = replace(id, %s, %s), '  # noqa: S608
                "data = replace(data, %s, %s), doc = replace(doc::text, %s, %s)::jsonb",
                (new, old) * 3,
            )
            raw.execute(
                f'UPDATE "{schema}".versions SET id = replace(id, %s, %s), '  # noqa: S608
                "data = replace(data, %s, %s)",
                (new, old) * 2,
            )
        raw.execute(f'DROP TABLE "{schema}".settings')
        raw.execute(f'DELETE FROM "{schema}".experiments_migrations WHERE version = 8')  # noqa: S608


def _raw_text(url: str, tmp_path: Path) -> str:
    """Everything the store holds, as text, to look for an old id in."""
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(tmp_path / "old.db")) as raw:
            return "\n".join(raw.iterdump())
    if url.startswith("files"):
        root = tmp_path / "old"
        names = "\n".join(str(p.relative_to(root)) for p in root.rglob("*"))
        texts = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.json"))
        return names + texts
    return ""


@pytest.fixture(params=["sqlite", "files", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, Callable[[dict[str, str]], None]]]:
    """A store URL, and how to turn it into the layout before stores had keys."""
    if request.param == "sqlite":
        yield (
            f"sqlite:///{tmp_path}/old.db",
            lambda back: _sqlite_layout_7(tmp_path / "old.db", back),
        )
    elif request.param == "files":
        yield f"files:///{tmp_path}/old", lambda back: _files_format_2(tmp_path / "old", back)
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.url()
        yield url, lambda back: _postgres_layout_7(url, back)


class TestMigration:
    """A store laid out before it had a key is re-keyed once, however many open it."""

    @pytest.mark.slow
    @pytest.mark.usefixtures("random_keys")
    def test_eight_processes_rekey_it_once(
        self, old_store: tuple[str, Callable[[dict[str, str]], None]], tmp_path: Path
    ) -> None:
        """One key; new ids everywhere, old ones nowhere; history, counts and stances kept."""
        url, make_old = old_store
        with _connect(url, create=True) as store:
            municipality.record_programme(store)
            before = _figures(store)
            back = _legacy(store)
            histories = {old: len(store.history(new)) for new, old in back.items()}
        make_old(back)
        results = at_once(workers.open_old_store_titled, *[(url, f"opened {n}") for n in range(8)])
        assert len({r["id"] for r in results}) == 8
        before["versions"] += 8  # the objectives they saved
        with _connect(url) as store:
            key = store._setting(KEY)
            assert key is not None
            assert _figures(store) == before
            for person in store.query(Participant):
                if person.slug:
                    assert person.id == id_for_slug(key, person.slug)
                    old_id = id_for("participant", "par", person.slug)
                    assert len(store.history(person.id)) == histories[old_id]
            hidden = stored_person(store, "parent-3")
            assert store.resolve(hidden.id, Participant) == hidden
        raw = _raw_text(url, tmp_path)
        assert [old for old in back.values() if old in raw] == []
