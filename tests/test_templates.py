"""Experiment templates: what they require, the shipped ones, and the store's mandatory rule."""

from __future__ import annotations

import copy
import pickle
import warnings

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

import experiments
from experiments import (
    Experiment,
    Hypothesis,
    Objective,
    Participant,
    Participation,
    Plugins,
    Prototype,
    Sprint,
    Template,
    ValidationError,
    templates,
)
from experiments.model import Note, NoteLevel
from experiments.model.template import (
    DEFAULT_SCAFFOLD,
    Gap,
    Move,
    Need,
    Requirement,
    ancestors,
    mandatory_templates,
    templates_for,
)
from experiments.stores import Store
from experiments.testing.strategies import durations
from experiments.tracking import TemplateWarning

START = "2026-05-01T09:00:00Z"


def person(role: str, **fields: object) -> Participant:
    return Participant(role=role, **fields)  # type: ignore[arg-type]


def taking_part(
    experiment: Experiment, *people: tuple[Participant, str]
) -> list[tuple[Participation, Participant]]:
    return [
        (Participation(experiment=experiment, participant=p, stance=stance), p)
        for p, stance in people
    ]


class TestMissing:
    """Template.missing: what an experiment lacks before a move."""

    def test_roles_stances_departments_and_outsiders(self) -> None:
        """Each role, stance, department count and outsider count missing is named."""
        template = Template(
            title="Co-creation",
            roles=["citizen", "frontline-employee"],
            stances=["critical"],
            min_departments=2,
            min_external=2,
        )
        experiment = Experiment(title="Walks")
        staff = person("frontline-employee", department="Health")
        gaps = template.missing(
            experiment, "start", people=taking_part(experiment, (staff, "neutral"))
        )
        assert [str(g) for g in gaps] == [
            "a citizen taking part",
            "a critical voice",
            "participants from at least 2 departments (now 1)",
            "at least 2 external participants (now 0)",
        ]

    def test_satisfied_by_the_right_people(self) -> None:
        """A critical citizen and staff from two departments satisfy it: nothing is missing."""
        template = Template(
            title="Co-creation",
            roles=["citizen", "frontline-employee"],
            stances=["critical"],
            min_departments=2,
            min_external=1,
        )
        experiment = Experiment(title="Walks")
        people = taking_part(
            experiment,
            (person("citizen"), "critical"),
            (person("frontline-employee", department="Health"), "supportive"),
            (person("manager", department="Culture"), "neutral"),
        )
        assert template.missing(experiment, "start", people=people) == ()

    def test_fields_to_start_and_to_conclude(self) -> None:
        """Concluding needs what starting needs and what concluding adds."""
        template = Template(
            title="T", to_start=["owner", "hypothesis"], to_conclude=["prototype-shown"]
        )
        experiment = Experiment(title="E")
        assert [g.requirement for g in template.missing(experiment, Move.START)] == [
            Requirement.OWNER,
            Requirement.HYPOTHESIS,
        ]
        assert [g.requirement for g in template.missing(experiment, "conclude")] == [
            Requirement.OWNER,
            Requirement.HYPOTHESIS,
            Requirement.PROTOTYPE_SHOWN,
        ]

    def test_a_hypothesis_needs_a_criterion(self) -> None:
        """A hypothesis without a success criterion does not fill the scaffold."""
        template = Template(title="T", to_start=["hypothesis"])
        experiment = Experiment(title="E")
        vague = Hypothesis(experiment=experiment, statement="People like it")
        firm = Hypothesis(experiment=experiment, statement="People come", criterion="visits >= 5")
        assert template.missing(experiment, "start", hypotheses=[vague])
        assert template.missing(experiment, "start", hypotheses=[vague, firm]) == ()

    def test_a_prototype_counts_if_shown_by_the_move(self) -> None:
        """A prototype shown after the moment of concluding does not count for it."""
        template = Template(title="T", to_conclude=["prototype-shown"])
        experiment = Experiment(title="E")
        late = Prototype(experiment=experiment, title="Leaflet", shown_at="2026-06-10T00:00:00Z")
        at = pendulum.parse("2026-06-01T00:00:00Z")
        assert template.missing(experiment, "conclude", prototypes=[late], at=at)  # type: ignore[arg-type]
        assert template.missing(experiment, "conclude", prototypes=[late]) == ()

    def test_a_facilitator_of_the_sprint_counts(self) -> None:
        """The sprint's facilitator facilitates its experiments too."""
        template = Template(title="T", to_start=["facilitator"])
        sprint = Sprint(title="Sprint", facilitators=["Mette"])
        experiment = Experiment(title="E", sprint=sprint)
        assert template.missing(experiment, "start") != ()
        assert template.missing(experiment, "start", sprint=sprint) == ()

    def test_the_scaffold_is_not_a_description(self) -> None:
        """A description that is still the scaffold is not filled in."""
        template = Template(title="T", to_start=["description"])
        made = template.new_experiment(title="E")
        assert made.description == DEFAULT_SCAFFOLD
        assert template.missing(made, "start") != ()
        assert template.missing(made.evolve(description="Families at the library"), "start") == ()

    def test_the_longest_time_box(self) -> None:
        """A time box longer than the limit, or none, is missing; lengths compare by dates."""
        template = Template(title="T", max_time_box="P6W")
        long_box = Experiment(title="E", time_box="2026-02-01T00:00:00Z/P2M")
        gaps = template.missing(long_box, "start")
        assert gaps == (
            Gap(
                Need.SHORT_TIME_BOX,
                limit=pendulum.duration(weeks=6),
                given=pendulum.duration(months=2),
            ),
        )
        assert str(gaps[0]) == "a time box of at most P42D (it has P2M)"
        assert (
            str(template.missing(Experiment(title="E"), "start")[0]) == "a time box of at most P42D"
        )
        assert template.missing(Experiment(title="E", time_box="P6W"), "start") == ()

    def test_a_default_longer_than_the_limit_is_refused(self) -> None:
        """A template cannot give a default time box its own limit refuses."""
        with pytest.raises(ValidationError, match="longer than its max_time_box"):
            Template(title="T", time_box="P8W", max_time_box="P6W")


class TestGapCopies:
    """A gap pickles and copies whole, its time box's months and years included."""

    @given(durations(), st.none() | durations())
    def test_pickled_and_copied_gaps_are_the_same(
        self, limit: pendulum.Duration, given_: pendulum.Duration | None
    ) -> None:
        """Equal, and said the same way: pendulum alone pickles a month as 30 days."""
        gap = Gap(Need.SHORT_TIME_BOX, limit=limit, given=given_)
        pickled = pickle.loads(pickle.dumps(gap))  # noqa: S301 - our own bytes
        for copied in (pickled, copy.deepcopy(gap), copy.copy(gap)):
            assert copied == gap
            assert str(copied) == str(gap)

    def test_other_gaps_keep_their_fields(self) -> None:
        """A gap without durations comes back field for field."""
        gap = Gap(Need.DEPARTMENTS, wanted=2, have=1)
        assert pickle.loads(pickle.dumps(gap)) == gap  # noqa: S301 - our own bytes


class TestNewExperiment:
    """Template.new_experiment: defaults from the template."""

    def test_defaults_and_what_is_given(self) -> None:
        """The template's time box, scope and scaffold fill in what the caller leaves out."""
        template = Template(title="T", time_box="P4W", scope="participants=30")
        made = template.new_experiment(title="E", owner="Bo")
        assert (made.template, made.owner, str(made.time_box), str(made.scope)) == (
            template.id,
            "Bo",
            "P28D",
            "participants=30",
        )
        given = template.new_experiment(title="E", time_box="P2W", description="Ours")
        assert (str(given.time_box), given.description) == ("P14D", "Ours")


class TestWhichTemplates:
    """mandatory_templates, templates_for and ancestors."""

    def test_a_template_binds_everything_below_its_objective(self) -> None:
        """Mandatory for a parent objective, a template holds for experiments of a child."""
        parents = {"obj_child": "obj_parent", "obj_parent": None}
        template = Template(title="T", mandatory_for=["obj_parent"])
        other = Template(title="U", mandatory_for=["obj_elsewhere"])
        assert ancestors(parents, ["obj_child"]) == {"obj_child", "obj_parent"}
        assert mandatory_templates([template, other], ancestors(parents, ["obj_child"])) == [
            template
        ]

    def test_a_loop_of_parents_ends(self) -> None:
        """Objectives that are their own ancestors end the walk where it closes."""
        assert ancestors({"a": "b", "b": "a"}, ["a"]) == {"a", "b"}

    def test_own_template_comes_after_the_mandatory_ones(self) -> None:
        """The one it was made from is listed once, as not mandatory unless it is."""
        mandatory = Template(title="M", mandatory_for=["obj_1"])
        own = Template(title="O")
        experiment = Experiment(title="E", objectives=["obj_1"], template=own)
        assert templates_for(experiment, [own, mandatory], {}) == [(mandatory, True), (own, False)]
        made_from_it = experiment.evolve(template=mandatory.id)
        assert templates_for(made_from_it, [own, mandatory], {}) == [(mandatory, True)]


class TestShipped:
    """The templates the library ships, and installing them."""

    def test_the_three_templates_say_what_the_practice_asks(self) -> None:
        """Co-creation, frontline and cross-border templates carry their requirements."""
        shipped = templates.SHIPPED
        co_creation = shipped["citizen-co-creation-sprint"]
        assert {r.value for r in co_creation.roles} == {"citizen", "frontline-employee"}
        assert [s.value for s in co_creation.stances] == ["critical"]
        assert [r.value for r in co_creation.to_conclude] == ["prototype-shown"]
        assert co_creation.max_time_box == pendulum.duration(weeks=6)
        frontline = shipped["frontline-experiment"]
        assert [r.value for r in frontline.roles] == ["frontline-employee"]
        assert {r.value for r in frontline.to_start} == {"owner", "time-box"}
        cross = shipped["cross-border-leadership-challenge"]
        assert (cross.min_departments, cross.min_external) == (2, 1)
        assert [r.value for r in cross.to_start] == ["facilitator"]

    def test_install_is_idempotent_and_makes_templates_mandatory(self, any_store: Store) -> None:
        """Installing twice keeps one of each; mandatory_for adds objectives once."""
        objective = any_store.save(Objective(title="Welfare", slug="welfare"))
        first = templates.install(any_store)
        again = templates.install(any_store, mandatory_for={"frontline-experiment": ["welfare"]})
        templates.install(any_store, mandatory_for={"frontline-experiment": [objective]})
        assert [t.id for t in first] == [t.id for t in again]
        assert any_store.count(Template) == 3
        frontline = any_store.get_by_slug(Template, "frontline-experiment")
        assert frontline.mandatory_for == (objective.id,)
        assert frontline.revision == 2

    def test_an_unknown_name_is_refused(self, any_store: Store) -> None:
        """A name that is no shipped template is refused, listing the shipped ones."""
        any_store.save(Objective(title="Welfare"))
        with pytest.raises(ValidationError, match=r"no shipped template 'citizen'.*frontline"):
            templates.install(any_store, ["citizen"])
        assert any_store.count(Template) == 0


def _mandatory(store: Store) -> tuple[Objective, Template]:
    objective = store.save(Objective(title="Welfare", slug="welfare"))
    (template,) = templates.install(
        store, ["frontline-experiment"], mandatory_for={"frontline-experiment": [objective]}
    )
    return objective, template


class TestMandatoryRule:
    """The store refuses to start or conclude what a mandatory template forbids, everywhere."""

    def test_start_is_refused_until_roles_and_fields_are_there(self, any_store: Store) -> None:
        """Without a frontline employee and an owner it cannot start; with them it can."""
        objective, template = _mandatory(any_store)
        experiment = any_store.save(
            template.new_experiment(title="Booking", objectives=[objective])
        )
        with pytest.raises(ValidationError) as refused:
            any_store.save(experiment.start(at=START))
        message = str(refused.value)
        assert "cannot start experiment 'Booking'" in message
        assert "a frontline employee taking part, an owner" in message
        assert any_store.get(experiment.id).status.value == "planned"  # nothing was written
        staff = any_store.save(person("frontline-employee", department="Home Care"))
        any_store.save(Participation(experiment=experiment, participant=staff))
        with pytest.raises(ValidationError, match=r"needs an owner;"):
            any_store.save(experiment.start(at=START))
        experiment = any_store.save(experiment.evolve(owner="Home Care"))
        assert any_store.save(experiment.start(at=START)).status.value == "running"

    def test_what_a_batch_writes_counts(self, any_store: Store) -> None:
        """Participations saved in the same batch as the start satisfy the template."""
        objective, template = _mandatory(any_store)
        experiment = any_store.save(
            template.new_experiment(title="Booking", objectives=[objective], owner="Home Care")
        )
        staff = any_store.save(person("frontline-employee"))
        with any_store.batch() as batch:
            batch.save(Participation(experiment=experiment, participant=staff))
            batch.save(experiment.start(at=START))
        assert any_store.get(experiment.id).status.value == "running"

    def test_a_template_of_a_parent_objective_binds(self, any_store: Store) -> None:
        """An experiment serving a sub-objective is held to its parent's mandatory template."""
        objective, _ = _mandatory(any_store)
        child = any_store.save(Objective(title="Home care", parent=objective))
        experiment = any_store.save(Experiment(title="Visits", objectives=[child], time_box="P2W"))
        with pytest.raises(ValidationError, match="template 'Frontline experiment'"):
            any_store.save(experiment.start(at=START))

    def test_other_objectives_and_non_mandatory_templates_do_not_bind(
        self, any_store: Store
    ) -> None:
        """Made from a template that is not mandatory, or serving another objective: it starts."""
        _mandatory(any_store)
        other = any_store.save(Objective(title="Finance"))
        own = any_store.save(Template(title="Ours", roles=["citizen"]))
        experiment = any_store.save(own.new_experiment(title="Budget", objectives=[other]))
        assert any_store.save(experiment.start(at=START)).status.value == "running"

    def test_a_deleted_template_binds_no_more(self, any_store: Store) -> None:
        """A soft-deleted template is not mandatory."""
        objective, template = _mandatory(any_store)
        experiment = any_store.save(Experiment(title="Booking", objectives=[objective]))
        any_store.delete(template)
        assert any_store.save(experiment.start(at=START)).status.value == "running"

    def test_concluding_needs_a_prototype_shown_in_time(self, any_store: Store) -> None:
        """A template asking for a prototype before concluding refuses a conclusion without one."""
        objective = any_store.save(Objective(title="Welfare"))
        any_store.save(
            Template(title="Show it", to_conclude=["prototype-shown"], mandatory_for=[objective])
        )
        experiment = any_store.save(Experiment(title="Café", objectives=[objective]))
        experiment = any_store.save(experiment.start(at=START))
        any_store.save(
            Prototype(experiment=experiment, title="Menu", shown_at="2026-05-20T00:00:00Z")
        )
        with pytest.raises(ValidationError, match=r"cannot conclude.*a prototype shown"):
            any_store.save(experiment.conclude(at="2026-05-10T00:00:00Z"))
        concluded = any_store.save(experiment.conclude(at="2026-05-25T00:00:00Z"))
        assert concluded.status.value == "concluded"

    def test_saving_an_experiment_already_started_is_held_too(self, any_store: Store) -> None:
        """A new experiment saved running is a start, and is refused like one."""
        objective, _ = _mandatory(any_store)
        started = Experiment(title="Booking", objectives=[objective]).start(at=START)
        with pytest.raises(ValidationError, match="cannot start"):
            any_store.save(started)
        assert any_store.count(Experiment) == 0

    def test_edits_of_a_started_experiment_are_not_held(self, any_store: Store) -> None:
        """Once running, an edit that makes no move is saved whatever a new template asks."""
        objective = any_store.save(Objective(title="Welfare"))
        experiment = any_store.save(Experiment(title="Walks", objectives=[objective]))
        experiment = any_store.save(experiment.start(at=START))
        any_store.save(Template(title="Late", roles=["citizen"], mandatory_for=[objective]))
        assert any_store.save(experiment.evolve(owner="Karin")).owner == "Karin"

    def test_imports_restore_history_as_it_was(self, any_store: Store) -> None:
        """An import of a started experiment is not held to today's templates."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as source:
            objective = source.save(Objective(title="Welfare", slug="welfare"))
            experiment = source.save(Experiment(title="Walks", objectives=[objective]))
            source.save(experiment.start(at=START))
            exported = list(source.export())
        any_store.save(Template(title="Strict", roles=["citizen"], mandatory_for=[objective]))
        report = any_store.import_records(exported)
        assert report.added == 3
        assert any_store.get(experiment.id).status.value == "running"


class TestTrack:
    """track(..., template=...): made from a template, started only when it may be."""

    def test_a_mandatory_template_leaves_it_planned_and_says_what_is_missing(
        self, any_store: Store
    ) -> None:
        """Not started; run.missing, a warning note and a TemplateWarning say why."""
        objective, _ = _mandatory(any_store)
        with pytest.warns(TemplateWarning, match="not started: mandatory template"):
            run = experiments.track(
                "booking",
                store=any_store,
                objectives=objective,
                template="frontline-experiment",
                owner="Home Care",
            )
        with run:
            assert run.experiment.status.value == "planned"
            assert (
                run.experiment.template
                == any_store.get_by_slug(Template, "frontline-experiment").id
            )
            assert run.missing == (
                "a frontline employee taking part (template 'Frontline experiment')",
            )
            (note,) = any_store.query(Note, experiment=run.experiment.id)
            assert note.level is NoteLevel.WARNING
            assert "a frontline employee taking part" in note.text
            run.participant(any_store.save(person("frontline-employee")))
            assert run.missing == ()
            assert run.start(at=START).status.value == "running"

    def test_running_the_script_again_adds_no_second_note(self, any_store: Store) -> None:
        """The same things missing are noted once, however often the script runs."""
        objective, _ = _mandatory(any_store)
        for _ in range(2):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TemplateWarning)
                experiments.track(
                    "booking",
                    store=any_store,
                    objectives=objective,
                    template="frontline-experiment",
                ).__exit__(None, None, None)
        assert any_store.count(Note) == 1

    def test_a_satisfied_template_starts_it_without_a_word(self, any_store: Store) -> None:
        """A template with nothing missing lets track() start the experiment as usual."""
        template = any_store.save(Template(title="Owned", time_box="P4W", to_start=["owner"]))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            run = experiments.track("booking", store=any_store, template=template, owner="Bo")
        assert run.experiment.status.value == "running"
        assert run.experiment.time_box == experiments.TimeBox("P4W", run.experiment.started_at)
        assert any_store.count(Note) == 0

    def test_an_own_template_not_satisfied_starts_with_a_warning(self, any_store: Store) -> None:
        """A template that is not mandatory does not stop the start, but it is said."""
        template = any_store.save(Template(title="People", roles=["citizen"]))
        with pytest.warns(TemplateWarning, match="started without what its template"):
            run = experiments.track("walks", store=any_store, template=template)
        assert run.experiment.status.value == "running"

    def test_another_template_than_its_own_is_refused(self, any_store: Store) -> None:
        """An experiment made from one template is not tracked as made from another."""
        one = any_store.save(Template(title="One"))
        two = any_store.save(Template(title="Two"))
        any_store.save(one.new_experiment(title="Walks", slug="walks"))
        with pytest.raises(ValidationError, match="was made from template"):
            experiments.track("walks", store=any_store, template=two, start=False)

    def test_a_sprint_of_the_template_counts(self, any_store: Store) -> None:
        """A template asking for a facilitator is satisfied by the sprint's."""
        objective = any_store.save(Objective(title="Leaders"))
        any_store.save(
            Template(title="Facilitated", to_start=["facilitator"], mandatory_for=[objective])
        )
        sprint = any_store.save(Sprint(title="Leadership", facilitators=["Mette"]))
        experiment = any_store.save(
            Experiment(title="Challenge", objectives=[objective], sprint=sprint)
        )
        assert any_store.save(experiment.start(at=START)).status.value == "running"
