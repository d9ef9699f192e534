"""Privacy: pseudonymous names reach no output, no query is an oracle, exports can redact."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import pytest
from click.testing import CliRunner

import experiments
from experiments import Participant, Plugins, reports
from experiments.cli import cli
from experiments.errors import (
    ConflictError,
    ExperimentsError,
    StoreError,
    StoreURLError,
    ValidationError,
)
from experiments.plugins import hookimpl
from experiments.query import Count, F, Max
from experiments.serialization import from_json, to_json
from experiments.stores import Store
from experiments.stores.changes import Damage
from experiments.stores.memory import MemoryStore
from experiments.stores.url import StoreURL
from people import person as stored_person
from report_programmes import build_report, municipality

#: The names of the example's pseudonymous participants: they must appear nowhere.
HIDDEN: Final = ("Sara M.", "Jens K.", "Fatima A.")
#: The slugs the example gives them (which a slug made from a name would be, too).
HIDDEN_SLUGS: Final = ("parent-1", "parent-3", "resident-2")


def _leaks(text: str) -> list[str]:
    return [secret for secret in HIDDEN if secret in text]


@pytest.fixture
def programme(tmp_path: Path, plugins: Plugins) -> Iterator[tuple[str, Store]]:
    """The example's programme in a SQLite store, open."""
    url = f"sqlite:///{tmp_path}/programme.db"
    with experiments.connect(url, plugins=plugins, create=True) as store:
        municipality.record_programme(store)
        yield url, store


class TestParticipantRepr:
    """``repr`` and ``str`` of a pseudonymous participant mask its personal fields."""

    def test_pseudonymous_name_and_slug_are_masked(self) -> None:
        """Neither the name nor the slug is in repr() or str(); the id and role are."""
        person = Participant(role="citizen", name="Sara M.", slug="sara-m", pseudonymous=True)
        for shown in (repr(person), str(person), repr([person]), f"{person}"):
            assert "Sara M." not in shown
            assert "sara-m" not in shown
            assert person.id in shown
            assert "name=<pseudonymous>" in shown

    def test_a_named_participant_shows_its_name(self) -> None:
        """A participant who is not pseudonymous is shown as attrs would show it."""
        person = Participant(role="citizen", name="Bo Berg", slug="bo")
        assert "name='Bo Berg'" in repr(person)
        assert "slug='bo'" in repr(person)

    def test_an_unfit_personal_value_is_not_repeated_in_the_error(self) -> None:
        """A bad name or slug is refused without the value (nor a slug made from it)."""
        with pytest.raises(ValidationError) as caught:
            Participant(role="citizen", slug="Sara M", pseudonymous=True)
        assert "Sara" not in str(caught.value)
        assert "sara" not in str(caught.value)
        assert "not shown here" in str(caught.value)


class TestNoOracle:
    """A query on a personal field cannot tell whether a pseudonymous name is there."""

    @pytest.fixture
    def store(self, plugins: Plugins) -> Iterator[Store]:
        with experiments.connect("memory://", plugins=plugins) as store:
            store.save(Participant(role="citizen", name="Sara M.", pseudonymous=True))
            store.save(Participant(role="citizen", name="Bo Berg", slug="bo"))
            yield store

    @pytest.mark.parametrize(
        "ask",
        [
            lambda s: list(s.query(Participant, name="Sara M.")),
            lambda s: list(s.query(Participant, "name = 'Sara M.' or pseudonymous = false")),
            lambda s: list(s.query(Participant, ~(F.slug == "sara-m"))),
            lambda s: list(s.query(Participant, order_by="name")),
            lambda s: list(s.query(Participant, order_by="-slug", role="citizen")),
            lambda s: s.count(Participant, name="Sara M."),
            lambda s: list(s.aggregate(Participant, group_by="name")),
            lambda s: list(s.aggregate(Participant, measures={"last": Max("name")})),
            lambda s: list(s.select_data(None, slug="sara-m")),
        ],
        ids=[
            "filter",
            "or",
            "not",
            "order",
            "order-filtered",
            "count",
            "group",
            "measure",
            "every-kind",
        ],
    )
    def test_refused_where_a_pseudonymous_participant_could_match(self, store, ask) -> None:
        """Filtering, ordering, grouping or measuring on name or slug is refused, clearly."""
        with pytest.raises(ValidationError, match="pseudonymous") as caught:
            ask(store)
        assert "Sara" not in str(caught.value)

    def test_allowed_among_participants_who_are_not_pseudonymous(self, store) -> None:
        """With pseudonymous = false in the filter, names can be searched and sorted."""
        found = store.query(Participant, name="Bo Berg", pseudonymous=False, order_by="name")
        assert [p.name for p in found] == ["Bo Berg"]
        assert store.count(Participant, "name = 'Sara M.' and pseudonymous = false") == 0
        rows = store.aggregate(
            Participant, group_by="name", measures={"n": Count()}, pseudonymous=False
        )
        assert list(rows) == [{"name": "Bo Berg", "n": 1}]

    def test_other_fields_and_kinds_are_free(self, store) -> None:
        """Role, department and other kinds' slugs filter as before."""
        assert store.count(Participant, role="citizen") == 2
        assert list(store.query("objective", slug="nothing")) == []

    def test_the_command_line_refuses_it_in_its_own_words(self, programme, tmp_path) -> None:
        """`list participants --filter name=...` exits 2 and says how to search instead."""
        url, _ = programme
        done = _run(url, "list", "participants", "--filter", "name=Jens K.")
        assert done.exit_code == 2, done.output
        assert "pseudonymous = false" in done.stderr
        done = _run(url, "list", "participants", "--order", "name")
        assert done.exit_code == 2, done.output


class TestRedactedExport:
    """``export(redact=True)`` and ``experiments export --redact`` leave names out."""

    def test_no_participant_name_or_slug_in_any_version(self, programme) -> None:
        """Participants lose name and slug; a quoted name becomes what stands for it."""
        _, store = programme
        full = list(store.export())
        redacted = list(store.export(redact=True))
        assert len(full) == len(redacted)
        names = {r.name for r in full if isinstance(r, Participant) and r.name}
        karin = store.get_by_slug(Participant, "ssp-worker")
        quoted = 0
        for before, after in zip(full, redacted, strict=True):
            assert (before.id, before.revision) == (after.id, after.revision)
            assert not [n for n in names if n in to_json(after)], to_json(after)
            if isinstance(after, Participant):
                assert (after.name, after.slug) == (None, None)
                assert after.role == before.role  # type: ignore[attr-defined]
            elif "Karin Vestergaard" in getattr(before, "facilitators", ()):
                assert karin.anonymous_name in after.facilitators  # type: ignore[attr-defined]
                quoted += 1
            elif not [n for n in names if n in to_json(before)]:
                assert after == before
        assert quoted > 0

    def test_the_command_writes_it_and_it_imports(self, programme, tmp_path, plugins) -> None:
        """The redacted export names nobody, and imports into a store that counts them."""
        url, store = programme
        done = _run(url, "export", "--redact")
        assert done.exit_code == 0, done.output
        assert "Lise Dahl" not in done.stdout
        assert _leaks(done.stdout) == []
        assert "Lise Dahl" in _run(url, "export").stdout  # a backup keeps them
        records = [from_json(line) for line in done.stdout.splitlines()]
        with experiments.connect(f"sqlite:///{tmp_path}/copy.db", plugins=plugins) as copy:
            copy.import_records(records)
            assert copy.count(Participant) == store.count(Participant)


def _run(url: str, *args: str, stdin: str | None = None) -> Any:
    runner = CliRunner()
    env = {"EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1", "EXPERIMENTS_STORE": url, "COLUMNS": "120"}
    return runner.invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)


class TestNoNameLeaks:
    """A pseudonymous name appears in no repr, log record, command output, report or error."""

    def _commands(self, store: Store) -> list[tuple[str, ...]]:
        """Every command, run on or around a pseudonymous participant."""
        person = stored_person(store, "parent-3").id
        art, cafe = "art-for-families", "homework-cafe"
        hypothesis = next(store.query("hypothesis", experiment=store.resolve(art).id)).id
        commands: list[tuple[str, ...]] = [
            ("show", person),
            ("show", art),
            ("history", person),
            ("list", "participants"),
            ("list", "participations"),
            ("list", "learnings"),
            ("list", "participants", "--filter", "pseudonymous=false", "--order", "name"),
            ("edit", person, "--set", "department=Family Services"),
            ("link", cafe, "--participant", person, "--stance", "critical"),
            ("unlink", cafe, "--participant", person),
            (
                "learn",
                art,
                "A parent came twice",
                "--hypothesis",
                hypothesis,
                "--verdict",
                "supports",
                "--evidence",
                "weak",
                "--participant",
                person,
            ),
            ("measure", "families-in-culture", "33", "--experiment", art, "--participant", person),
            ("add", "participant", "citizen", "--pseudonymous", "--name", "Fatima A."),
            ("add", "objective", "Safer streets"),
            ("add", "experiment", "Street lights", "--slug", "lights"),
            ("add", "hypothesis", "lights", "People feel safer"),
            ("add", "prototype", "lights", "Map"),
            (
                "add",
                "key-result",
                "welfare-in-100-days",
                "lamps",
                "--baseline",
                "0",
                "--target",
                "5",
            ),
            ("add", "sprint", "Lights sprint", "--member", person),
            ("add", "excuse", "Night workers", "no-time", "--experiment", "lights"),
            ("start", "lights"),
            ("conclude", "lights"),
            ("decide", "lights", "stop", "--rationale", "Too dark"),
            ("add", "experiment", "Benches", "--slug", "benches"),
            ("abandon", "benches", "--reason", "No money"),
            ("check",),
            ("verify",),
            ("settings", "require-consent-for-external", "true"),
            ("plugins",),
            ("delete", person),
            ("restore", person),
            ("export", "--redact"),
            ("consent", person, "--purpose", "art-for-families", "--how", "signed form"),
            ("consent", person, "--withdraw"),
            ("access", store.get_by_slug(Participant, "family-worker").id),
            ("erase", "--due", "--yes"),
        ]
        commands += [("report", "--format", f) for f in ("md", "json", "csv", "csv-comma", "html")]
        return commands + self._practice_commands(store, person)

    def _practice_commands(self, store: Store, person: str) -> list[tuple[str, ...]]:
        """The commands of the practice and the maturity analysis, and the CSV imports."""
        where = Path(store.url.file_path).parent
        panel = where / "panel.csv"  # a pseudonymous person, named in the sheet
        panel.write_text("slug;role;name;pseudonymous\r\nresident-9;citizen;Fatima A.;true\r\n")
        answers = where / "answers.csv"
        answers.write_text(f"department;participant;L1\r\nFamily Services;{person};4\r\n")
        return [
            ("agree", "co-creation", "--definition", "en=Making it with citizens"),
            ("done", "agree-citizen"),
            ("follow-up", "art-for-families", "1", "--owner", "Bo", "--due", "2026-12-15"),
            ("glossary",),
            ("import-csv", "participants", str(panel)),
            ("import-responses", "citizen-orientation-spring-2026", str(answers)),
            ("maturity",),
            ("next-steps",),
            ("sprints",),
            ("templates",),
        ]

    def test_every_command_text_and_json(self, programme, caplog) -> None:
        """Each command's text and --json output, and every log record, hold no hidden name."""
        url, store = programme
        commands = self._commands(store)
        person = commands[0][1]
        # `access`, like a full `export`, holds the person's own name: it is for them.
        covered = {c[0] for c in commands} | {"init", "import", "completion", "purge", "access"}
        assert covered >= set(cli.commands), sorted(set(cli.commands) - covered)
        store.close()
        with caplog.at_level(logging.DEBUG):
            assert _run(url, "init").exit_code == 0
            for args in commands:
                for shown in ((), ("--json",)):  # the second may be refused: no leak either
                    done = _run(url, *shown, *args)
                    allowed = (0, 1, 2, 3) if shown else (0, 1)
                    assert done.exit_code in allowed, (args, done.output)
                    assert _leaks(done.output) == [], (args, done.output)
            backup = _run(url, "export").stdout
            for shown in ((), ("--json",)):
                done = _run(url, *shown, "import", "-", stdin=backup)
                assert done.exit_code == 0, done.output
                assert _leaks(done.output) == []
            done = _run(url, "--json", "purge", person, "--yes")
            assert done.exit_code == 0, done.output
            assert _leaks(done.output) == []
        logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
        assert _leaks(logged) == []

    def test_reports_in_every_format(self, programme) -> None:
        """Every registered report format, in every language, names no hidden participant."""
        _, store = programme
        report = build_report(store)
        for name in reports.formats(plugins=store.plugins):
            for lang in ("en", "da"):
                page = reports.render(report, name, lang, plugins=store.plugins)
                text = page.decode("utf-8", "replace") if isinstance(page, bytes) else page
                assert _leaks(text) == [], (name, lang)
        assert _leaks(repr(report)) == []

    def test_reprs_and_a_failing_saves_traceback(self, programme, caplog) -> None:
        """Stored participants' reprs, and the traceback of a refused save, hold no name."""
        _, store = programme
        with caplog.at_level(logging.DEBUG):
            everyone = list(store.query(Participant))
            assert _leaks(repr(everyone)) == []
            stale = next(p for p in everyone if p.slug == "parent-3")
            store.save(stale.evolve(department="Family Services"))
            with pytest.raises(ConflictError) as caught:
                store.save(stale.evolve(department="Culture"))
            text = "".join(traceback.format_exception(caught.value))
            assert _leaks(text) == [], text
            with pytest.raises(ValidationError) as refused:
                stale.evolve(name=HIDDEN[1] + "\x00")  # the source line holds no name
            text = "".join(traceback.format_exception(refused.value))
            assert _leaks(text) == [], text
        logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
        assert _leaks(logged) == []

    def test_json_output_keys_stay_for_scripts(self, programme) -> None:
        """A masked participant keeps every key in --json output, with null name and slug."""
        url, store = programme
        person = stored_person(store, "parent-3").id
        store.close()
        shown = json.loads(_run(url, "--json", "show", person).stdout)
        assert (shown["name"], shown["slug"], shown["pseudonymous"]) == (None, None, True)


#: A password no message may hold.
CANARY: Final = "Canary-Pw-4711"


class _LeakyBackends:
    """Plugin backends whose own messages quote the URL they were given, password and all."""

    @hookimpl
    def register_backends(self, register: Any) -> None:
        def crashing(url: StoreURL, **_: Any) -> Store:
            message = f"cannot reach {url.raw}"
            raise RuntimeError(message)

        def refusing(url: StoreURL, **_: Any) -> Store:
            message = f"{url.raw} refused the login"
            raise StoreError(message)

        def damaged(url: StoreURL, *, plugins: Plugins, **_: Any) -> Store:
            return _DamagedStore(url, plugins=plugins)

        register("crashing", crashing)
        register("refusing", refusing)
        register("damaged", damaged)


class _DamagedStore(MemoryStore):
    def _verify_storage(self) -> Iterator[Damage | Mapping[str, Any]]:
        yield Damage(self.url.raw, f"the server at {self.url.raw} sent garbage")


class TestURLSecrets:
    """Credentials in a store URL are never printed, or refused where they make no sense."""

    @pytest.mark.parametrize(
        "url",
        [
            f"sqlite://alice:{CANARY}@/tmp/programme.db",
            f"files://alice:{CANARY}@/tmp/programme",
            f"memory://alice:{CANARY}@scratch",
            "sqlite://alice@/tmp/programme.db",
        ],
    )
    def test_refused_where_the_backend_has_no_use_for_them(self, url, plugins) -> None:
        """SQLite, files and memory stores refuse a user part, naming no password."""
        with pytest.raises(StoreURLError, match="takes no user name or password") as caught:
            experiments.connect(url, plugins=plugins)
        assert CANARY not in str(caught.value)

    def test_the_command_line_refuses_them_without_printing_them(self) -> None:
        """The refusal on the command line is one line, exit 2, and shows no password."""
        done = _run(f"sqlite://alice:{CANARY}@/tmp/programme.db", "list", "experiments")
        assert done.exit_code == 2, done.output
        assert "takes no user name or password" in done.stderr
        assert CANARY not in done.output

    @pytest.mark.parametrize("scheme", ["crashing", "refusing"])
    def test_a_plugins_message_quoting_the_url_is_masked(self, scheme) -> None:
        """A plugin's failure that quotes the URL reaches the caller masked, unchained."""
        plugins = Plugins(autoload=False)
        plugins.register(_LeakyBackends(), "leaky")
        with pytest.raises(ExperimentsError) as caught:
            experiments.connect(f"{scheme}://alice:{CANARY}@host/db", plugins=plugins)
        text = "".join(traceback.format_exception(caught.value))
        assert CANARY not in text
        assert "***" in str(caught.value)

    def test_verify_masks_what_the_backend_reports(self) -> None:
        """Damage a backend describes with the URL in it shows no password."""
        plugins = Plugins(autoload=False)
        plugins.register(_LeakyBackends(), "leaky")
        with experiments.connect(f"damaged://alice:{CANARY}@host/db", plugins=plugins) as store:
            damage = store.verify()
        assert damage
        assert all(CANARY not in str(d) for d in damage)

    def test_one_masking_for_every_url(self) -> None:
        """The password, as written or percent-encoded, and secret parameters are masked."""
        url = StoreURL.parse("plug://bob:p%40ss-word-9@host/db?token=tok-1234&colour=red")
        text = "bob:p@ss-word-9, p%40ss-word-9, token=tok-1234 and colour=red"
        assert url.mask(text) == "bob:***, ***, token=*** and colour=red"
        assert "p%40ss" not in url.redacted
        assert "tok-1234" not in url.redacted
