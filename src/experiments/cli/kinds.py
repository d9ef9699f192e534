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
    "plural",
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
    makes a list field repeat, a number field take a number, and shows a date, time or
    time box field as ``DATE``, ``TIME`` or ``ISO8601`` unless ``metavar`` says
    otherwise.  For an option that names other records, ``help`` says what the record
    is to this one, and the command adds where to find one and, for a list,
    ``repeat``.  An option with ``show_default`` shows the model's default; one for a
    field the model has no default for is required.
    """

    field: str
    argument: bool = False
    flag: str | None = None
    help: str | None = None
    type: EnumChoice | type[float] | type[int] | None = None
    metavar: str | None = None
    multiple: bool = False  # from the model: see experiments.cli.add
    is_flag: bool = False
    show_default: bool = False
    repeat: str = "repeat"

    @property
    def option(self) -> str:
        """The option as a person types it: ``--time-box``."""
        return self.flag or "--" + self.field.replace("_", "-")


def argument(field: str, type: EnumChoice | None = None) -> Param:  # noqa: A002 - click's word
    """A positional argument for ``field``, named like it (``TITLE``)."""
    return Param(field=field, argument=True, type=type)


def option(field: str, flag: str | None = None, **how: Any) -> Param:
    """An option for ``field``; ``how`` as :class:`Param` takes it."""
    return Param(field=field, flag=flag, **how)


def many(field: str, flag: str, help: str) -> Param:  # noqa: A002 - click's word
    """An option naming records, given once for each: ``--objective``, ``--term``, ..."""
    return Param(field=field, flag=flag, help=help, repeat="repeat for more")


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


#: The `experiments add` commands, one for each kind they make.
ADD: Final[tuple[Adds, ...]] = (
    Adds(
        kind=model.Objective,
        help='Add a strategy objective ("think big").',
        params=(
            argument("title"),
            option("description", help="what the objective means"),
            option("parent", help="the objective this one serves"),
            option("owner", help="who is accountable"),
            option("weight", show_default=True, help="share in the parent's progress"),
        ),
    ),
    Adds(
        kind=model.KeyResult,
        help="Add a key result measuring OBJECTIVE: METRIC from --baseline to --target.",
        params=(
            argument("objective"),
            argument("metric"),
            option("baseline", help="where the metric starts"),
            option("target", help="where it should get to"),
            option("unit", help="e.g. families, incidents, %"),
            option("due", help="by when, e.g. 2026-11-25"),
            option("weight", show_default=True),
            option(
                "since",
                help="when the baseline held (default: today); progress is expected from it",
            ),
        ),
    ),
    Adds(
        kind=model.Template,
        help="Add an experiment template: defaults, and what an experiment needs to move on.",
        params=(
            argument("title"),
            option("description", help="what the template is for"),
            option("scaffold", help='the hypothesis to fill in, e.g. "We believe that ..."'),
            option("time_box", help="default time box, e.g. P4W"),
            option("max_time_box", metavar="ISO8601", help="longest time box allowed, e.g. P6W"),
            option("scope", metavar="SCOPE", help="default planned scope, e.g. 'participants=30'"),
            option(
                "roles",
                "--role",
                help="a role that must take part before it starts, e.g. citizen (repeat)",
            ),
            option(
                "stances",
                "--stance",
                type=EnumChoice(model.Stance),
                help="a stance that must be heard before it starts, e.g. critical (repeat)",
            ),
            option("min_departments", help="departments its participants come from"),
            option("min_external", help="participants from outside, at least"),
            option(
                "to_start",
                type=EnumChoice(model.Requirement),
                help="what it must have before it starts (repeat)",
            ),
            option(
                "to_conclude",
                type=EnumChoice(model.Requirement),
                help="what it must have before it concludes (repeat)",
            ),
            option(
                "mandatory_for",
                help="an objective whose experiments must satisfy it",
                repeat="repeat for more",
            ),
        ),
    ),
    Adds(
        kind=model.Experiment,
        help='Add a planned experiment ("start small").',
        params=(
            argument("title"),
            many("objectives", "--objective", "objective it serves"),
            option("time_box", help="e.g. P4W, or 2026-09-01/P6W"),
            option("owner", help="who runs it"),
            option(
                "facilitators",
                "--facilitator",
                help="a facilitator (repeat for more)",
            ),
            option("sprint", help="the sprint it belongs to"),
            option("description"),
            option(
                "template",
                help="the template it starts from (its time box, scope and hypothesis "
                "scaffold where not given)",
            ),
            option(
                "scope",
                metavar="SCOPE",
                help="planned scope, e.g. 'participants=40, sites=2, budget=50000 DKK'",
            ),
        ),
        write=_experiment,
    ),
    Adds(
        kind=model.Hypothesis,
        help='Add a hypothesis to EXPERIMENT: "we believe that STATEMENT".',
        params=(
            argument("experiment"),
            argument("statement"),
            option("criterion", help='when it holds, e.g. "families returning >= 15"'),
            option("assumption", type=EnumChoice(model.AssumptionKind)),
        ),
    ),
    Adds(
        kind=model.Participant,
        help="Add a participant with ROLE: citizen, customer, user, frontline-employee, ...",
        params=(
            argument("role"),
            option("name", help="optional; leave out to record nobody's name"),
            option("department", help="department or unit"),
            option("external", "--external/--internal", help="default from the role"),
            option(
                "pseudonymous",
                is_flag=True,
                help="never show the name or slug (only `export` keeps them)",
            ),
        ),
    ),
    Adds(
        kind=model.Prototype,
        help='Add a prototype shown in EXPERIMENT ("invite into the unfinished").',
        params=(
            argument("experiment"),
            argument("title"),
            option("fidelity", type=EnumChoice(model.Fidelity), show_default=True),
            option("link", help="where it can be seen"),
            option("shown_at", help="when it was first shown to participants"),
            option("description"),
        ),
    ),
    Adds(
        kind=model.Sprint,
        help="Add a sprint: a short intensive period for a cross-cutting team.",
        params=(
            argument("title"),
            option("challenge", help="the predefined challenge the team works on"),
            option("time_box", help="e.g. 2026-08-17/P100D"),
            option("team", "--member", help="team member"),
            option("facilitators", "--facilitator", help="facilitator (repeat)"),
        ),
    ),
    Adds(
        kind=model.Phase,
        help="Add a phase to SPRINT's process design: who takes part in it, and when.",
        params=(
            argument("sprint"),
            argument("title"),
            option("position", help="its place in the process: 1 first"),
            option("time_box", help="when, e.g. 2026-09-07/P1W"),
            option(
                "participants",
                "--participant",
                help="someone who takes part in it",
                repeat="repeat for more",
            ),
            option(
                "roles",
                "--role",
                help="a kind of people invited in, e.g. citizen (repeat)",
            ),
            option(
                "involvement",
                type=EnumChoice(model.Involvement),
                help="how deeply those taking part are involved (default co-creating)",
            ),
            option("description", help="what happens in it"),
        ),
    ),
    Adds(
        kind=model.Excuse,
        help='Write down a GROUP that was not let in, and the REASON given ("no bad excuses").',
        params=(
            argument("group"),
            argument("reason", EnumChoice(model.ExcuseReason)),
            option("objective", help="the objective the group was left out of"),
            option("experiment", help="the experiment the group was left out of"),
            option("statement", help="the words the reason was given in"),
        ),
        named=False,
        one_of=("objective", "experiment"),
        write=_record_excuse,
    ),
    Adds(
        kind=model.Term,
        help="Add a WORD of the shared vocabulary; `experiments agree` records its meaning.",
        params=(
            argument("word"),
            option("description", help="where the word is used, what it is not"),
        ),
    ),
    Adds(
        kind=model.Interpretation,
        help="Write down what DEPARTMENT means by TERM, in its own words (TEXT).",
        params=(
            argument("term"),
            argument("department"),
            argument("text"),
            option("language", type=EnumChoice(model.LanguageCode), show_default=True),
            option("stated_at", help="when it was said (default now)"),
            option("stated_by", metavar="NAME", help="who said it"),
        ),
        named=False,
        write=_interpret,
    ),
    Adds(
        kind=model.Questionnaire,
        help="Add a questionnaire for a maturity analysis: statements on one --scale.",
        params=(
            argument("title"),
            option("scale", metavar="LOW-HIGH", help="the answers' scale, e.g. 1-5 (default 1-5)"),
            option(
                "dimensions",
                "--dimension",
                help="a dimension its items are grouped in, in the order shown (repeat)",
            ),
            many("objectives", "--objective", "objective the analysis serves"),
            option("description"),
        ),
    ),
    Adds(
        kind=model.Item,
        help="Add a statement (item) to QUESTIONNAIRE, headed CODE in the survey tool.",
        params=(
            argument("questionnaire"),
            argument("code"),
            argument("statement"),
            option("dimension", help="the dimension it belongs to, e.g. Leadership"),
            many("objectives", "--objective", "objective it serves, if not its questionnaire's"),
            many("terms", "--term", "term of the shared vocabulary it uses"),
        ),
        named=False,
    ),
    Adds(
        kind=model.SurveyRound,
        help="Add a round in which QUESTIONNAIRE is asked; import its responses with "
        "`experiments import-responses`.",
        params=(
            argument("questionnaire"),
            argument("title"),
            option("opened_at", help="when it opened (default now)"),
            option("closed_at", help="when it closed; later answers do not count"),
            option(
                "departments",
                "--department",
                help="a department asked (repeat; responses must come from these)",
            ),
            option("levels", "--level", help="a level asked, e.g. leaders (repeat)"),
        ),
    ),
    Adds(
        kind=model.InterviewNote,
        help="Write down what a trigger interview brought up (TEXT), tied to --item.",
        params=(
            argument("text"),
            many("items", "--item", "item it bears on"),
            option("round", help="the survey round it followed"),
            option("department", help="whose perspective: the department"),
            option("level", help="whose perspective: the level, e.g. leaders"),
            option("interviewer", metavar="NAME"),
            option("interviewed_at", help="when (default now)"),
            option("details"),
        ),
    ),
    Adds(
        kind=model.WorkshopAction,
        help="Add an action a workshop agreed, for --objective or --experiment; "
        "`experiments done` marks it done.",
        params=(
            argument("title"),
            many("objectives", "--objective", "objective it serves"),
            many("experiments", "--experiment", "experiment it serves"),
            many("items", "--item", "item of the analysis it answers"),
            option("owner", help="who does it"),
            option("due", help="by when, e.g. 2026-12-31"),
            option("workshop", help="the workshop that agreed it"),
            option("agreed_at", help="when it was agreed (default now)"),
            option("description"),
        ),
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
