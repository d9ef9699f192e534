"""The shared vocabulary: terms, departments' readings, the glossary as of a moment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import experiments
from experiments import (
    Experiment,
    Interpretation,
    Item,
    NotFoundError,
    Objective,
    Plugins,
    Questionnaire,
    Term,
    ValidationError,
    vocabulary,
)
from experiments.model.vocabulary import competing
from experiments.stores import Store

AGREED = "2026-05-20T15:00:00+02:00"


@pytest.fixture
def store() -> Iterator[Store]:
    with experiments.connect("memory://", plugins=Plugins(autoload=False)) as made:
        yield made


class TestTerm:
    """A term holds agreed definitions per language, with who agreed them and when."""

    def test_definitions_need_an_agreement_and_the_other_way_round(self) -> None:
        """Definitions without agreed_at, or agreed_at without definitions, are refused."""
        with pytest.raises(ValidationError, match="has definitions but no agreed_at"):
            Term(word="citizen", definitions={"en": "Everyone"})
        with pytest.raises(ValidationError, match="has agreed_at but no definitions"):
            Term(word="citizen", agreed_at=AGREED)

    @pytest.mark.parametrize(
        ("definitions", "message"),
        [
            ({"fi": "Kaikki"}, "has the language 'fi'; give one of en, da, nb, sv"),
            ({"en": 3}, "holds a definition for 'en' that is not text"),
            ({"en": "a", "EN": "b"}, "gives two definitions for 'en'"),
            ("Everyone", "must be a mapping of language code to definition"),
        ],
    )
    def test_bad_definitions(self, definitions: object, message: str) -> None:
        """Languages other than en, da, nb and sv, and values that are not text, are refused."""
        with pytest.raises(ValidationError, match=message):
            Term(word="citizen", definitions=definitions, agreed_at=AGREED)  # type: ignore[arg-type]

    def test_agree_makes_the_next_version(self) -> None:
        """agree() replaces the definitions whole, in the order en, da, nb, sv."""
        term = Term(word="citizen")
        agreed = term.agree({"da": "Alle", "en": "Everyone", "sv": " "}, by="Board", at=AGREED)
        assert list(agreed.definitions) == ["en", "da"]
        assert agreed.agreed_by == ("Board",)
        assert agreed.definition("nb") == ("en", "Everyone")
        assert agreed.definition("da") == ("da", "Alle")
        assert term.definitions == {}
        with pytest.raises(TypeError):
            agreed.definitions["en"] = "changed"  # type: ignore[index]

    def test_one_interpretation_per_department_and_language(self) -> None:
        """Its id derives from the term, the department (any spelling) and the language."""
        first = Interpretation(term="trm_1", department="Home Care", text="a")
        assert first.id == Interpretation(term="trm_1", department="home  care", text="b").id
        assert (
            first.id
            != Interpretation(term="trm_1", department="Home Care", text="a", language="da").id
        )


class TestCompeting:
    """Departments' readings compete when two or more departments say different things."""

    @pytest.mark.parametrize(
        ("readings", "expected"),
        [
            ([("A", "en", "x")], ()),
            ([("A", "en", "x"), ("A", "da", "y")], ()),
            ([("A", "en", "Whoever we visit"), ("B", "en", "whoever  we visit")], ()),
            ([("B", "en", "x"), ("a", "en", "y")], ("a", "B")),
            ([("A", "en", "x"), ("B", "da", "x")], ("A", "B")),
        ],
    )
    def test_competing(
        self, readings: list[tuple[str, str, str]], expected: tuple[str, ...]
    ) -> None:
        """One department, or all saying the same, is no competition."""
        made = [
            Interpretation(term="trm_1", department=d, language=lang, text=t)
            for d, lang, t in readings
        ]
        assert competing(made) == expected


def _programme(store: Store) -> dict[str, object]:
    """An objective and an experiment using terms, and a questionnaire item using one."""
    citizen = store.save(Term(slug="citizen", word="citizen"))
    cocreation = store.save(
        Term(
            slug="co-creation",
            word="co-creation",
            definitions={"en": "Shaping it together", "da": "At forme det sammen"},
            agreed_by=["Workshop"],
            agreed_at=AGREED,
        )
    )
    unused = store.save(Term(slug="budget", word="budget"))
    objective = store.save(Objective(slug="welfare", title="Welfare", terms=[cocreation]))
    store.save(Experiment(title="Walks", objectives=[objective], terms=[citizen]))
    questionnaire = store.save(Questionnaire(title="Q", objectives=[objective]))
    store.save(
        Item(questionnaire=questionnaire, code="Q1", dimension="D", statement="S", terms=[citizen])
    )
    return {"citizen": citizen, "co-creation": cocreation, "budget": unused, "objective": objective}


class TestGlossary:
    """The glossary of a scope lists the terms it uses, as they read at the moment."""

    def test_the_terms_a_scope_uses(self, any_store: Store) -> None:
        """An objective's glossary has the terms of it, its experiments and items; by word."""
        _programme(any_store)
        found = vocabulary.glossary(any_store, "welfare", at="2026-06-01T00:00:00Z")
        assert [e.word for e in found.entries] == ["citizen", "co-creation"]
        citizen = found.entry("citizen")
        assert citizen is not None
        assert [r.title for r in citizen.used_by] == ["Walks", "S"]
        assert not citizen.defined
        assert found.undefined == (citizen,)
        whole = vocabulary.glossary(any_store, at="2026-06-01T00:00:00Z")
        assert [e.word for e in whole.entries] == ["budget", "citizen", "co-creation"]
        assert [e.word for e in whole.undefined] == ["citizen"]  # budget is used by nothing

    def test_agreements_as_of_a_moment(self, any_store: Store) -> None:
        """An earlier moment shows the agreement then in force, from the term's history."""
        made = _programme(any_store)
        term = any_store.get(made["co-creation"].id, Term)  # type: ignore[attr-defined]
        vocabulary.agree(
            any_store, term, {"en": "Deciding it together"}, by=["Board"], at="2026-09-01T10:00:00Z"
        )
        before = vocabulary.glossary(any_store, at="2026-05-20T12:00:00Z").entry("co-creation")
        middle = vocabulary.glossary(any_store, at="2026-06-01T00:00:00Z").entry("co-creation")
        after = vocabulary.glossary(any_store, at="2026-09-02T00:00:00Z").entry("co-creation")
        assert before is not None
        assert middle is not None
        assert after is not None
        assert (before.agreed, before.definitions) == (False, {})
        assert middle.definitions == {"en": "Shaping it together", "da": "At forme det sammen"}
        assert middle.agreed_by == ("Workshop",)
        assert (after.definitions, after.agreed_by) == ({"en": "Deciding it together"}, ("Board",))
        assert after.definition("da") == ("en", "Deciding it together")

    def test_readings_compete_until_agreed(self, any_store: Store) -> None:
        """Two departments' different readings compete; once agreed, they no longer do."""
        _programme(any_store)
        vocabulary.interpret(
            any_store, "citizen", "Home Care", "Whoever we visit", at="2026-05-01T00:00:00Z"
        )
        vocabulary.interpret(
            any_store, "citizen", "Culture", "Everyone here", at="2026-05-02T00:00:00Z"
        )
        early = vocabulary.glossary(any_store, at="2026-05-01T12:00:00Z").entry("citizen")
        assert early is not None
        assert ([r.department for r in early.readings], early.competing) == (["Home Care"], ())
        assert early.defined
        later = vocabulary.glossary(any_store, at="2026-06-01T00:00:00Z").entry("citizen")
        assert later is not None
        assert later.competing == ("Culture", "Home Care")
        vocabulary.agree(
            any_store, "citizen", {"en": "Everyone we serve"}, at="2026-06-10T00:00:00Z"
        )
        agreed = vocabulary.glossary(any_store, at="2026-07-01T00:00:00Z").entry("citizen")
        assert agreed is not None
        assert (agreed.agreed, agreed.competing) == (True, ())

    def test_a_reading_said_again_keeps_its_history(self, any_store: Store) -> None:
        """The same words again change nothing; new words are a new version, read as of then."""
        _programme(any_store)
        first = vocabulary.interpret(
            any_store, "citizen", "Home Care", "Whoever we visit", at="2026-05-01T00:00:00Z"
        )
        assert vocabulary.interpret(any_store, "citizen", "Home Care", "Whoever we visit") == first
        changed = vocabulary.interpret(
            any_store, "citizen", "home care", "Everyone", at="2026-08-01T00:00:00Z"
        )
        assert (changed.id, changed.revision) == (first.id, 2)
        july = vocabulary.glossary(any_store, at="2026-07-01T00:00:00Z").entry("citizen")
        assert july is not None
        assert [r.text for r in july.readings] == ["Whoever we visit"]

    def test_a_term_gone_is_missing(self, any_store: Store) -> None:
        """A deleted term the scope names is listed as missing, with who names it."""
        made = _programme(any_store)
        any_store.delete(made["citizen"].id)  # type: ignore[attr-defined]
        found = vocabulary.glossary(any_store, "welfare", at="2026-06-01T00:00:00Z")
        assert [e.word for e in found.entries] == ["co-creation"]
        ((term, users),) = found.missing
        assert term == made["citizen"].id  # type: ignore[attr-defined]
        assert [u.title for u in users] == ["Walks", "S"]

    def test_agree_makes_a_term_from_a_new_slug(self, store: Store) -> None:
        """A slug not stored yet becomes a term of that word; a deleted one is not remade."""
        made = vocabulary.agree(store, "service-design", {"nb": "Tjenestedesign"}, at=AGREED)
        assert (made.word, made.slug, made.revision) == ("service design", "service-design", 2)
        store.delete(made.id)
        with pytest.raises(NotFoundError, match="is deleted"):
            vocabulary.agree(store, "service-design", {"en": "x"})

    def test_the_data_of_the_json_report(self, store: Store) -> None:
        """to_data() is the JSON report's vocabulary section."""
        _programme(store)
        data = vocabulary.glossary(store, at="2026-06-01T00:00:00+02:00").to_data()
        co = next(t for t in data["terms"] if t["word"] == "co-creation")
        assert co["agreed_at"] == "2026-05-20T15:00:00+02:00"
        assert co["definitions"] == {"en": "Shaping it together", "da": "At forme det sammen"}
        assert data["missing"] == []
