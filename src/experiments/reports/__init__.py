"""Reports of a roll-up for the people who decide: Markdown, JSON, CSV and HTML.

A report shows the roll-up of one objective or of the whole strategy, each experiment
in it, and what the checks found, in English, Danish, Norwegian Bokmål or Swedish::

    from experiments import reports

    report = reports.build(store, "welfare-in-100-days", at="2026-11-27T12:00:00+01:00")
    page = reports.render(report, format="html", lang="da")
    reports.write(report, "out/", format="csv", lang="sv")

:func:`build` rolls up, runs the checks and gathers the detail in one call;
:func:`gather` does the last step for a roll-up and check report already made.
Formats are registered through the ``register_report_formats`` hook, the built-in ones
too, so a plugin's format is rendered and written exactly like them.  Jinja2 and the
renderers are imported only when a report is rendered.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from experiments._lazy import lazy_attributes
from experiments._output import write_output
from experiments._progress import ProgressHook, counted
from experiments.errors import ExperimentsError, PluginError, ReportError, ValidationError
from experiments.model.small_groups import DEFAULT_MIN_GROUP
from experiments.reports.format import ReportFormat

if TYPE_CHECKING:
    from experiments.checks import CheckReport
    from experiments.model import Objective
    from experiments.model._time import DateTimeLike
    from experiments.plugins import Plugins
    from experiments.reports._json import SCHEMA_VERSION
    from experiments.reports.data import (
        DecisionDetail,
        ExperimentDetail,
        HypothesisDetail,
        LearningDetail,
        PrototypeDetail,
        RecordedPeople,
        Report,
        ReportFinding,
        StepDetail,
        Voice,
        gather,
    )
    from experiments.reports.i18n import LANGUAGES, Language
    from experiments.rollup import Rollup
    from experiments.stores import Store

__all__ = [
    "LANGUAGES",
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "DecisionDetail",
    "ExperimentDetail",
    "HypothesisDetail",
    "Language",
    "LearningDetail",
    "PrototypeDetail",
    "RecordedPeople",
    "Report",
    "ReportFinding",
    "ReportFormat",
    "StepDetail",
    "Voice",
    "build",
    "formats",
    "gather",
    "languages",
    "render",
    "schema",
    "write",
]

#: The JSON Schema (draft 2020-12) of the JSON report, shipped in the package.
SCHEMA_PATH: Final = Path(__file__).parent / "schema" / "report.schema.json"


# Loaded when first used: registering the built-in formats (which every opened store
# does) needs only ReportFormat.
_LAZY: Final = {
    "DecisionDetail": "experiments.reports.data",
    "ExperimentDetail": "experiments.reports.data",
    "HypothesisDetail": "experiments.reports.data",
    "LearningDetail": "experiments.reports.data",
    "PrototypeDetail": "experiments.reports.data",
    "RecordedPeople": "experiments.reports.data",
    "StepDetail": "experiments.reports.data",
    "Report": "experiments.reports.data",
    "ReportFinding": "experiments.reports.data",
    "Voice": "experiments.reports.data",
    "gather": "experiments.reports.data",
    "LANGUAGES": "experiments.reports.i18n",
    "Language": "experiments.reports.i18n",
    "SCHEMA_VERSION": "experiments.reports._json",
}


__getattr__ = lazy_attributes(__name__, _LAZY, globals())


def _plugins(plugins: Plugins | None) -> Plugins:
    if plugins is not None:
        return plugins
    from experiments.plugins import Plugins  # noqa: PLC0415 - loaded when used

    return Plugins()


def formats(plugins: Plugins | None = None) -> dict[str, ReportFormat]:
    """Every report format by name, the built-in ones (md, json, csv, csv-comma, html) first.

    Args:
        plugins: whose formats to list (default: the built-in ones and those of
            installed plugins).
    """
    return {name: info.format for name, info in _plugins(plugins).report_formats().items()}


def languages() -> tuple[str, ...]:
    """The languages reports are written in: ``("en", "da", "nb", "sv")``."""
    from experiments.reports.i18n import LANGUAGES  # noqa: PLC0415 - loaded when used

    return LANGUAGES


def schema() -> dict[str, Any]:
    """The JSON Schema of the JSON report, as data."""
    import json  # noqa: PLC0415 - rarely needed

    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def build(
    store: Store,
    objective: Objective | str | None = None,
    *,
    at: DateTimeLike | None = None,
    checks: bool = True,
    plugins: Plugins | None = None,
    group_by: str = "department",
    min_group_size: int = DEFAULT_MIN_GROUP,
    progress: ProgressHook | None = None,
) -> Report:
    """Roll up, run the checks and gather each experiment's detail: a report to render.

    Args:
        store: where the programme is recorded.
        objective: an objective (record, id or slug) to report on with its
            sub-objectives, or None for the whole strategy.
        at: the moment to report as of (default now).
        checks: run the checks and include what they found.
        plugins: whose checks to run (default: the store's).
        group_by: how the maturity analysis groups respondents: ``"department"``,
            ``"level"`` or ``"department-and-level"``.
        min_group_size: the fewest respondents whose figures a report shows for a group
            (default 3): smaller groups are merged into "other", and an "other" still
            smaller is left out (see :func:`experiments.maturity.analyse`).
        progress: for a progress bar: a function given the steps (the roll-up, the
            checks, the detail) and their number, returning the same steps as they are
            taken, e.g. ``lambda steps, total: tqdm(steps, total=total)``; the checks
            pass their own steps through it too (see
            :func:`~experiments.checks.run_checks`).

    The roll-up, the checks, the detail, the maturity analysis and the glossary are
    all read from one
    :class:`~experiments.asof.AsOf` view, so they agree and the store is read once.

    Raises:
        NotFoundError: the objective is not in the store.
        ValidationError: an unknown grouping, or a minimum group size below 2.
    """
    from experiments.asof import AsOf  # noqa: PLC0415 - loaded when used
    from experiments.checks import run_checks  # noqa: PLC0415 - loaded when used
    from experiments.maturity import checked  # noqa: PLC0415 - loaded when used
    from experiments.reports.data import gather  # noqa: PLC0415 - loaded when used
    from experiments.rollup import rollup  # noqa: PLC0415 - loaded when used

    checked(group_by, min_group_size)
    result: Rollup | None = None
    found: CheckReport | None = None
    report: Report | None = None
    steps = ["roll-up", "checks", "detail"] if checks else ["roll-up", "detail"]
    with store.reading():  # the roll-up, the checks and the detail of one state
        view = AsOf(store, objective=objective, at=at)
        for step in counted(progress, steps):
            if step == "roll-up":
                result = rollup(view)
            elif step == "checks":
                found = run_checks(view, plugins=plugins, progress=progress)
            else:
                assert result is not None  # the roll-up is the first step
                report = gather(
                    store,
                    result,
                    found,
                    plugins=plugins,
                    group_by=group_by,
                    min_group_size=min_group_size,
                )
    if report is None:
        raise ValidationError("progress must return every step it is given; it left some out")
    return report


def _format(name: str, plugins: Plugins) -> tuple[ReportFormat, str]:
    registered = plugins.report_formats()
    info = registered.get(str(name).strip().lower())
    if info is None:
        raise ValidationError(
            f"unknown report format {name!r}; choose one of {', '.join(registered)}"
        )
    return info.format, info.plugin


def render(
    report: Report,
    format: str = "md",  # noqa: A002 - the word users know
    lang: str = "en",
    *,
    plugins: Plugins | None = None,
) -> str | bytes:
    """The report in one format and language: text (``str``) or ``bytes`` (CSV).

    Args:
        report: what :func:`build` or :func:`gather` made.
        format: a registered format's name: ``"md"``, ``"json"``, ``"csv"``,
            ``"csv-comma"``, ``"html"`` or a plugin's.
        lang: ``"en"``, ``"da"``, ``"nb"`` (also ``"no"``) or ``"sv"``; regions such as
            ``"da-DK"`` are accepted.
        plugins: where to find the format (default: the built-in formats and those of
            installed plugins).

    Raises:
        ValidationError: an unknown format or language.
        PluginError: a plugin's format failed or returned neither text nor bytes.
    """
    from experiments.reports.i18n import Language  # noqa: PLC0415 - loaded when used

    language = Language.load(lang)
    report_format, plugin = _format(format, _plugins(plugins))
    try:
        rendered = report_format.render(report, language)
    except ExperimentsError:
        raise
    except Exception as exc:
        if plugin == "experiments.reports.builtin":
            raise
        raise PluginError(
            f"report format {report_format.name!r} from plugin {plugin!r} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(rendered, str | bytes):
        raise PluginError(
            f"report format {report_format.name!r} from plugin {plugin!r} returned "
            f"{type(rendered).__name__}; a format must return str or bytes"
        )
    return rendered


def write(
    report: Report,
    path: str | os.PathLike[str],
    format: str | None = None,  # noqa: A002 - the word users know
    lang: str = "en",
    *,
    plugins: Plugins | None = None,
) -> Path:
    """Render the report and write it to a file; return the file's path.

    A file is replaced whole or not at all: a failed write leaves no half report.  A
    device or a named pipe is written as it is, never replaced by a file.

    Args:
        report: what :func:`build` or :func:`gather` made.
        path: the file to write, or a directory to write the format's default file
            name into (``report.md``, ``report.json``, ``experiments.csv``,
            ``experiments-comma.csv``, ``report.html``): one that exists, or text ending in a slash
            (``"board/"``), which is made if it is missing (a ``Path`` has no
            trailing slash, so it names a directory only once that exists).
        format: the format's name; None takes it from the file's extension.
        lang: the report's language, as for :func:`render`.
        plugins: where to find the format, as for :func:`render`.

    Raises:
        ValidationError: an unknown format or language, or no format given for a
            directory or an extension no format has.
        ReportError: the file could not be written.
    """
    text = os.fspath(path)
    target = Path(text)
    as_directory = text.endswith(("/", os.sep)) or target.is_dir()
    registry = _plugins(plugins)
    if format is None:
        if as_directory:
            raise ValidationError(
                f"{text} names a directory; give format= (one of "
                f"{', '.join(registry.report_formats())}) to write a report into it"
            )
        extension = target.suffix.lstrip(".").lower()
        matches = [i.format.name for i in registry.report_formats().values()]
        by_extension = {
            i.format.extension: i.format.name for i in reversed(registry.report_formats().values())
        }
        if extension not in by_extension:
            raise ValidationError(
                f"cannot tell the report format from {target.name!r}; give format= "
                f"(one of {', '.join(matches)}) or a file name ending in "
                f"{', '.join('.' + e for e in sorted(by_extension))}"
            )
        format = by_extension[extension]  # noqa: A001 - the parameter, filled in
    report_format, _ = _format(format, registry)
    if as_directory:
        target = target / report_format.filename
    rendered = render(report, report_format.name, lang, plugins=registry)
    data = rendered.encode("utf-8") if isinstance(rendered, str) else rendered
    try:
        if as_directory:
            target.parent.mkdir(parents=True, exist_ok=True)
        write_output(target, data)
    except OSError as exc:
        raise ReportError(
            f"could not write the {report_format.title} report to {target}: {exc.strerror or exc}; "
            "check that the directory exists and is writable"
        ) from exc
    return target
