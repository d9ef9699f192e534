"""What a report format is: a name, a file extension and a function that renders."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import attrs

from experiments.errors import ValidationError

if TYPE_CHECKING:
    from experiments.reports.data import Report
    from experiments.reports.i18n import Language

__all__ = ["ReportFormat"]

_NAME: Final = re.compile(r"[a-z][a-z0-9-]{0,31}")


def _format_name(_: object, __: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValidationError(
            f"report format name {value!r} must be 1-32 lowercase letters, digits or '-', "
            "starting with a letter, e.g. 'md' or 'pdf-a4'"
        )


def _extension(_: object, __: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9]{1,16}", value):
        raise ValidationError(
            f"report format extension {value!r} must be 1-16 lowercase letters or digits, "
            "without the dot, e.g. 'html'"
        )


def _default_filename(self: ReportFormat) -> str:
    return f"report.{self.extension}"


@attrs.frozen
class ReportFormat:
    """A format that reports render in, as registered through ``register_report_formats``.

    ``render(report, language)`` returns the whole document: text (``str``, written as
    UTF-8) or ``bytes`` (written as they are).  ``name`` is what callers pass as
    ``format=``; ``filename`` is the name :func:`experiments.reports.write` gives the
    file when it is handed a directory.
    """

    name: str = attrs.field(validator=_format_name)
    title: str
    extension: str = attrs.field(validator=_extension)
    media_type: str
    render: Callable[[Report, Language], str | bytes]
    description: str = ""
    filename: str = attrs.field(
        default=attrs.Factory(_default_filename, takes_self=True), kw_only=True
    )
