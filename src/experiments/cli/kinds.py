"""The model as the command line offers it: its kinds, its choices and its `add` commands.

The commands take what they offer from here, and this table takes it from the model,
so that nothing is typed twice:

- a choice offers the values of one of the model's enumerations (:class:`EnumChoice`),
  and shows the model's default (:func:`default_of`);
- `experiments list KIND` takes every kind by its name and its plural (:data:`LIST_NAMES`);
- each `experiments add KIND` is made from one entry of :data:`ADD`: the fields it fills,
  in order, and how it asks for each.  Which of them name other records, and of which
  kind, comes from :data:`experiments.model.REFERENCES`: those take an id or a slug,
  and their help says where to find one.

A kind that `add` does not make is in :data:`MADE_ELSEWHERE`, and an enumeration that
no option offers is in :data:`NOT_CHOSEN`, each with the reason.  A new field is one
entry here; ``tests/test_cli_kinds.py`` fails when the model has a kind or an
enumeration value that the command line neither offers nor explains.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import attrs
import click

from experiments import model
from experiments.model import KINDS, Record, plural
from experiments.model.template import Move, Need

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = [
    "ADD",
    "LIST_NAMES",
    "MADE_ELSEWHERE",
    "NOT_CHOSEN",
    "Adds",
    "EnumChoice",
    "Param",
    "default_of",
]


if TYPE_CHECKING:
    _Choice = click.Choice[str]
else:  # click.Choice takes a type argument only from click 8.2
    _Choice = click.Choice


class EnumChoice(_Choice):
    """A choice of the values of one of the model's enumerations, which it remembers."""

    def __init__(self, offered: type[enum.Enum]) -> None:
        super().__init__([str(member.value) for member in offered])
        self.enum = offered


def default_of(kind: type[Record], field: str) -> Any:
    """The model's default for ``field`` of ``kind``, as an option shows it."""
    default = attrs.fields_dict(kind)[field].default
    return default.value if isinstance(default, enum.Enum) else default


#: What `experiments list KIND` takes: each kind by its name and by its plural.
LIST_NAMES: Final[dict[str, str]] = {
    **{kind: kind for kind in KINDS},
    **{plural(kind): kind for kind in KINDS},
}


class Param(NamedTuple):
    """One argument or option of an `add` command: the field it fills, and how it asks.

    An option is ``--`` and the field's name with ``-`` for ``_`` unless ``flag`` says
    otherwise.  What the model says of the field is not repeated here: the command
    makes a list field repeat, a number field take a number, an enumeration's field a
    choice of its values (unless :data:`NOT_CHOSEN` says why not), and shows a date,
    time or time box field as ``DATE``, ``TIME`` or ``ISO8601`` unless ``metavar`` says
    otherwise.  For an option that names other records, ``help`` says what the record
    is to this one, and the command adds where to find one; the help of a list's option
    says that it repeats (:func:`~experiments.cli.words.repeated`).  An option with
    ``show_default`` shows the model's default; one for a field the model has no
    default for is required.
    """

    field: str
    argument: bool = False
    flag: str | None = None
    help: str | None = None
    type: EnumChoice | type[float] | type[int] | None = None  # from the model, as multiple
    metavar: str | None = None
    multiple: bool = False  # from the model: see experiments.cli.add
    is_flag: bool = False
    show_default: bool = False

    @property
    def option(self) -> str:
        """The option as a person types it: ``--time-box``."""
        return self.flag or "--" + self.field.replace("_", "-")


def argument(field: str) -> Param:
    """A positional argument for ``field``, named like it (``TITLE``)."""
    return Param(field=field, argument=True)


def option(field: str, help: str | None = None, **how: Any) -> Param:  # noqa: A002 - click's word
    """An option for ``field``, and what it is; ``how`` as :class:`Param` takes it."""
    return Param(field=field, help=help, **how)


def many(field: str, flag: str, help: str) -> Param:  # noqa: A002 - click's word
    """An option given once for each value of a list: ``--objective``, ``--role``, ..."""
    return Param(field=field, flag=flag, help=help)


def _record_excuse(store: Store, fields: dict[str, Any]) -> Record:
    """An excuse is kept once per group, reason and place, however often it is given."""
    from experiments.tracking import record_excuse  # noqa: PLC0415 - only `add excuse` needs it

    return record_excuse(store, **fields)


def _experiment(store: Store, fields: dict[str, Any]) -> Record:
    """An experiment, from its template's defaults where it names one."""
    if "template" not in fields:
        return store.save(model.Experiment(**fields))
    template = store.get(fields["template"], model.Template)
    return store.save(template.new_experiment(**fields))


def _interpret(store: Store, fields: dict[str, Any]) -> Record:
    """A department's reading of a term: a new version only if it says something new."""
    from experiments.vocabulary import interpret  # noqa: PLC0415 - only `add interpretation`

    return interpret(
        store,
        fields.pop("term"),
        fields.pop("department"),
        fields.pop("text"),
        language=fields.pop("language", model.LanguageCode.EN),
        at=fields.pop("stated_at", None),
        by=fields.pop("stated_by", None),
    )


class Adds(NamedTuple):
    """How `experiments add KIND` makes a record of one kind.

    ``named`` commands take ``--slug`` and ``--tag``; of the options in ``one_of`` exactly
    one must be given; ``write`` saves the fields, when saving the record they make is
    not enough.
    """

    kind: type[Record]
    help: str
    params: tuple[Param, ...]
    named: bool = True
    one_of: tuple[str, ...] = ()
    write: Callable[[Store, dict[str, Any]], Record] | None = None


def adds(kind: type[Record], help: str, *params: Param, **how: Any) -> Adds:  # noqa: A002
    """The entry for `experiments add KIND`: what it says it does, then what it asks."""
    return Adds(kind, help, params, **how)


#: The `experiments add` commands, one for each kind they make.
ADD: Final[tuple[Adds, ...]] = (
    adds(
        model.Objective,
        'Add a strategy objective ("think big").',
        argument("title"),
        option("description", "what the objective means"),
        option("parent", "the objective this one serves"),
        option("owner", "who is accountable"),
        option("weight", "share in the parent's progress", show_default=True),
    ),
    adds(
        model.KeyResult,
        "Add a key result measuring OBJECTIVE: METRIC from --baseline to --target.",
        argument("objective"),
        argument("metric"),
        option("baseline", "where the metric starts"),
        option("target", "where it should get to"),
        option("unit", "e.g. families, incidents, %"),
        option("due", "by when, e.g. 2026-11-25"),
        option("weight", show_default=True),
        option("since", "when the baseline held (default: today); progress is expected from it"),
    ),
    adds(
        model.Template,
        "Add an experiment template: defaults, and what an experiment needs to move on.",
        argument("title"),
        option("description", "what the template is for"),
        option("scaffold", 'the hypothesis to fill in, e.g. "We believe that ..."'),
        option("time_box", "default time box, e.g. P4W"),
        option("max_time_box", "longest time box allowed, e.g. P6W", metavar="ISO8601"),
        option("scope", "default planned scope, e.g. 'participants=30'", metavar="SCOPE"),
        many("roles", "--role", "a role that must take part before it starts, e.g. citizen"),
        many(
            "stances",
            "--stance",
            "a stance that must be heard before it starts, e.g. critical",
        ),
        option("min_departments", "departments its participants come from"),
        option("min_external", "participants from outside, at least"),
        option("to_start", "what it must have before it starts"),
        option("to_conclude", "what it must have before it concludes"),
        option("mandatory_for", "an objective whose experiments must satisfy it"),
    ),
    adds(
        model.Experiment,
        'Add a planned experiment ("start small").',
        argument("title"),
        many("objectives", "--objective", "objective it serves"),
        option("time_box", "e.g. P4W, or 2026-09-01/P6W"),
        option("owner", "who runs it"),
        many("facilitators", "--facilitator", "a facilitator"),
        option("sprint", "the sprint it belongs to"),
        option("description"),
        option(
            "template",
            "the template it starts from (its time box, scope and hypothesis "
            "scaffold where not given)",
        ),
        option(
            "scope",
            "planned scope, e.g. 'participants=40, sites=2, budget=50000 DKK'",
            metavar="SCOPE",
        ),
        write=_experiment,
    ),
    adds(
        model.Hypothesis,
        'Add a hypothesis to EXPERIMENT: "we believe that STATEMENT".',
        argument("experiment"),
        argument("statement"),
        option("criterion", 'when it holds, e.g. "families returning >= 15"'),
        option("assumption"),
    ),
    adds(
        model.Participant,
        "Add a participant with ROLE: citizen, customer, user, frontline-employee, ...",
        argument("role"),
        option("name", "optional; leave out to record nobody's name"),
        option("department", "department or unit"),
        option("external", "default from the role", flag="--external/--internal"),
        option(
            "pseudonymous", "never show the name or slug (only `export` keeps them)", is_flag=True
        ),
    ),
    adds(
        model.Prototype,
        'Add a prototype shown in EXPERIMENT ("invite into the unfinished").',
        argument("experiment"),
        argument("title"),
        option("fidelity", show_default=True),
        option("link", "where it can be seen"),
        option("shown_at", "when it was first shown to participants"),
        option("description"),
    ),
    adds(
        model.Sprint,
        "Add a sprint: a short intensive period for a cross-cutting team.",
        argument("title"),
        option("challenge", "the predefined challenge the team works on"),
        option("time_box", "e.g. 2026-08-17/P100D"),
        many("team", "--member", "team member"),
        many("facilitators", "--facilitator", "a facilitator"),
    ),
    adds(
        model.Phase,
        "Add a phase to SPRINT's process design: who takes part in it, and when.",
        argument("sprint"),
        argument("title"),
        option("position", "its place in the process: 1 first"),
        option("time_box", "when, e.g. 2026-09-07/P1W"),
        many("participants", "--participant", "someone who takes part in it"),
        many("roles", "--role", "a kind of people invited in, e.g. citizen"),
        option("involvement", "how deeply those taking part are involved (default co-creating)"),
        option("description", "what happens in it"),
    ),
    adds(
        model.Excuse,
        'Write down a GROUP that was not let in, and the REASON given ("no bad excuses").',
        argument("group"),
        argument("reason"),
        option("objective", "the objective the group was left out of"),
        option("experiment", "the experiment the group was left out of"),
        option("statement", "the words the reason was given in"),
        named=False,
        one_of=("objective", "experiment"),
        write=_record_excuse,
    ),
    adds(
        model.Term,
        "Add a WORD of the shared vocabulary; `experiments agree` records its meaning.",
        argument("word"),
        option("description", "where the word is used, what it is not"),
    ),
    adds(
        model.Interpretation,
        "Write down what DEPARTMENT means by TERM, in its own words (TEXT).",
        argument("term"),
        argument("department"),
        argument("text"),
        option("language", show_default=True),
        option("stated_at", "when it was said (default now)"),
        option("stated_by", "who said it", metavar="NAME"),
        named=False,
        write=_interpret,
    ),
    adds(
        model.Questionnaire,
        "Add a questionnaire for a maturity analysis: statements on one --scale.",
        argument("title"),
        option("scale", "the answers' scale, e.g. 1-5 (default 1-5)", metavar="LOW-HIGH"),
        many(
            "dimensions",
            "--dimension",
            "a dimension its items are grouped in, in the order shown",
        ),
        many("objectives", "--objective", "objective the analysis serves"),
        option("description"),
    ),
    adds(
        model.Item,
        "Add a statement (item) to QUESTIONNAIRE, headed CODE in the survey tool.",
        argument("questionnaire"),
        argument("code"),
        argument("statement"),
        option("dimension", "the dimension it belongs to, e.g. Leadership"),
        many("objectives", "--objective", "objective it serves, if not its questionnaire's"),
        many("terms", "--term", "term of the shared vocabulary it uses"),
        named=False,
    ),
    adds(
        model.SurveyRound,
        "Add a round in which QUESTIONNAIRE is asked; import its responses with "
        "`experiments import-responses`.",
        argument("questionnaire"),
        argument("title"),
        option("opened_at", "when it opened (default now)"),
        option("closed_at", "when it closed; later answers do not count"),
        many(
            "departments",
            "--department",
            "a department asked; responses must come from these",
        ),
        many("levels", "--level", "a level asked, e.g. leaders"),
    ),
    adds(
        model.InterviewNote,
        "Write down what a trigger interview brought up (TEXT), tied to --item.",
        argument("text"),
        many("items", "--item", "item it bears on"),
        option("round", "the survey round it followed"),
        option("department", "whose perspective: the department"),
        option("level", "whose perspective: the level, e.g. leaders"),
        option("interviewer", metavar="NAME"),
        option("interviewed_at", "when (default now)"),
        option("details"),
    ),
    adds(
        model.WorkshopAction,
        "Add an action a workshop agreed, for --objective or --experiment; "
        "`experiments done` marks it done.",
        argument("title"),
        many("objectives", "--objective", "objective it serves"),
        many("experiments", "--experiment", "experiment it serves"),
        many("items", "--item", "item of the analysis it answers"),
        option("owner", "who does it"),
        option("due", "by when, e.g. 2026-12-31"),
        option("workshop", "the workshop that agreed it"),
        option("agreed_at", "when it was agreed (default now)"),
        option("description"),
    ),
)

#: The kinds `experiments add` does not make, and what makes each instead.
MADE_ELSEWHERE: Final[dict[str, str]] = {
    "participation": "`experiments link EXPERIMENT --participant PARTICIPANT`",
    "learning": "`experiments learn EXPERIMENT OBSERVATION`",
    "measurement": "`experiments measure METRIC VALUE`",
    "decision": "`experiments decide EXPERIMENT OUTCOME`",
    "note": "scripts: `Run.note()`, and `track()` when the script fails",
    "response": "`experiments import-responses ROUND FILE`, from a survey tool's CSV export",
}

#: The model's enumerations that no option offers as a choice, and why not.
NOT_CHOSEN: Final[dict[type[enum.Enum], str]] = {
    model.ExperimentStatus: "`start`, `conclude`, `decide` and `abandon` move an experiment on",
    model.HypothesisStatus: "it follows from the verdicts of the hypothesis's learnings",
    model.Comparison: "it is read from the text of a hypothesis's --criterion",
    model.Role: "`add participant ROLE`, `add template --role` and `add phase --role` take "
    "it as text, in any spelling the model accepts",
    model.NoteLevel: "notes are written by scripts",
    Move: "templates hold experiments to starting and concluding, the moves of `start` and "
    "`conclude`",
    Need: "it sorts what a template finds missing, which `show` and the checks say in words",
}
