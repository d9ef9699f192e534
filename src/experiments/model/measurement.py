"""Measurements: values logged for a metric or key result, typically by a script."""

from __future__ import annotations

from typing import ClassVar

import attrs
import pendulum

from experiments.errors import ValidationError
from experiments.model._fields import named_errors
from experiments.model._record import Record
from experiments.model._time import instant_key, now
from experiments.model._validate import (
    to_datetime,
    to_number,
    to_optional_name,
    to_optional_ref,
)

__all__ = ["Measurement"]


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Measurement(Record):
    """A value measured at a time, for a key result and/or a named metric.

    ``measured_at`` may lie in the past: data that arrives late counts from when it was
    measured, not from when it was logged.
    """

    kind: ClassVar[str] = "measurement"
    id_prefix: ClassVar[str] = "msr"

    value: float = attrs.field(converter=to_number)
    key_result: str | None = attrs.field(default=None, converter=to_optional_ref)
    metric: str | None = attrs.field(default=None, converter=to_optional_name)
    unit: str | None = attrs.field(default=None, converter=to_optional_name)
    measured_at: pendulum.DateTime = attrs.field(factory=now, converter=to_datetime, eq=instant_key)
    experiment: str | None = attrs.field(default=None, converter=to_optional_ref)
    participant: str | None = attrs.field(default=None, converter=to_optional_ref)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.key_result is None and self.metric is None:
            raise ValidationError(
                "Measurement needs a key_result (id) or a metric (name) to say what was measured"
            )
