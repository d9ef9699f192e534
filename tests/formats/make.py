"""Write a small programme in every stored format of the installed release.

The files next to this script were written by strategy-experiments 0.1.0 (record
schema 2, SQLite and PostgreSQL layout 2, files store format 1), where every time was
UTC text with the zone in brackets (``2026-08-17T11:00:00.000000Z[Europe/Oslo]``).
The tests open them with the current release, which must read and migrate each one::

    python tests/formats/make.py tests/formats/0.1

writes ``export.jsonl`` (what ``experiments export`` writes), ``store.sqlite``,
``files/`` (a files store) and ``postgres.json`` (the rows of a PostgreSQL store's
``records`` and ``versions``, ``doc`` as text), the last only where PostgreSQL's server
binaries are installed.  Run it with a release whose formats the tests should keep.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests/pgserver.py

import experiments  # noqa: E402 - after the path
from experiments import (  # noqa: E402
    Decision,
    Excuse,
    Experiment,
    Hypothesis,
    KeyResult,
    Learning,
    Measurement,
    Note,
    Objective,
    Participant,
    Participation,
    Plugins,
    Prototype,
    Sprint,
)
from experiments.serialization import to_json  # noqa: E402


def programme(store: experiments.Store) -> None:
    """Every kind, every time field, times in named zones, fixed offsets and UTC."""
    welfare = store.save(Objective(title="Welfare close to home", slug="welfare"))
    store.save(welfare.evolve(description="Services where people live", tags={"2026"}))
    key_result = store.save(
        KeyResult(
            slug="families-reached",
            objective=welfare,
            metric="families reached",
            baseline=0,
            target=120,
            unit="families",
            due="2026-12-31",
        )
    )
    citizen = store.save(Participant(role="citizen", name="Aino Berg", department="North"))
    hidden = store.save(Participant(role="frontline-employee", pseudonymous=True))
    store.save(
        Sprint(
            title="Hundred days",
            time_box="2026-03-02T09:00:00[Europe/Copenhagen]/P5D",
            team=[citizen, hidden],
            facilitators=["Mette"],
        )
    )
    # A zone name with two slashes, a start in microseconds, a fixed offset, UTC.
    art = store.save(
        Experiment(
            title="Art for families",
            slug="art-for-families",
            objectives=[welfare],
            time_box="2026-08-17T08:00:00[America/Argentina/Buenos_Aires]/P6W",
        )
    )
    art = store.save(art.start(at="2026-08-17T10:15:30.250000+02:00[Europe/Oslo]"))
    art = store.save(art.conclude(at="2026-09-30T18:00:00+05:30"))
    hypothesis = store.save(
        Hypothesis(experiment=art, statement="We believe that families come to art evenings")
    )
    store.save(
        Prototype(
            experiment=art,
            title="Evening programme",
            shown_at="2026-08-20T17:00:00[Europe/London]",
        )
    )
    store.save(Participation(experiment=art, participant=citizen, stance="critical"))
    store.save(Participation(experiment=art, participant=hidden, involvement="co-creating"))
    store.save(
        Learning(
            experiment=art,
            hypothesis=hypothesis,
            observation="Forty families came",
            verdict="supports",
            evidence="strong",
            participants=[citizen],
            observed_at="2026-09-02T20:00:00[Asia/Shanghai]",
        )
    )
    for at, value in (
        ("2026-08-24T09:00:00-05:00", 12),
        ("2026-09-01T00:00:00Z", 31.5),
        ("2026-09-15T07:45:12.000001Z", 40),
    ):
        store.save(
            Measurement(
                key_result=key_result,
                metric="families reached",
                value=value,
                measured_at=at,
                experiment=art,
            )
        )
    # 02:30 twice that night: this is the second one, after the clocks went back.
    decision = store.save(
        Decision(
            experiment=art,
            outcome="scale-up",
            decided_at="2026-10-25T02:30:00+01:00[Europe/Copenhagen]",
        )
    )
    store.save(art.decide(decision))
    store.save(
        Note(
            experiment=art,
            text="The library held a similar evening once",
            noted_at="1890-05-01T12:00:00[Europe/Amsterdam]",
        )
    )
    running = store.save(Experiment(title="Night buses", objectives=[welfare], time_box="P2W"))
    store.save(running.start(at="2026-09-07T06:00:00Z"))
    dropped = store.save(Experiment(title="Pop-up office", time_box="P10D"))
    store.save(dropped.abandon(reason="no room", at="2026-06-01T12:00:00[Pacific/Chatham]"))
    excuse = store.save(Excuse(group="pensioners", reason="no-time", objective=welfare))
    store.delete(excuse)


def _postgres_rows(export: Path) -> dict[str, list[list[Any]]] | None:
    """The rows a PostgreSQL store holds after importing ``export``, or None without a server."""
    import pgserver  # noqa: PLC0415 - the tests' throwaway server

    bin_dir = pgserver.find_bin()
    if bin_dir is None:
        return None
    server = pgserver.PostgresServer(bin_dir)
    server.start()
    try:
        url = server.url(schema=f"f_{uuid.uuid4().hex[:8]}")
        with experiments.connect(url, plugins=Plugins(autoload=False), create=True) as store:
            store.import_records(_read(export))
            schema = store.schema  # type: ignore[attr-defined]
        records = server.query(
            f"SELECT id, kind, revision, deleted, data, doc::text FROM {schema}.records "  # noqa: S608 - our schema
            "ORDER BY id"
        )
        versions = server.query(
            f"SELECT id, revision, data FROM {schema}.versions ORDER BY id, revision"  # noqa: S608
        )
    finally:
        server.stop()
    return {
        "records": [list(row) for row in records],
        "versions": [list(row) for row in versions],
    }


def _read(export: Path) -> list[experiments.Record]:
    from experiments.serialization import from_json  # noqa: PLC0415

    return [from_json(line) for line in export.read_text(encoding="utf-8").splitlines()]


def main(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    plugins = Plugins(autoload=False)
    with experiments.connect(f"memory://{uuid.uuid4().hex}", plugins=plugins) as memory:
        programme(memory)
        lines = [to_json(record) for record in memory.export()]
    export = target / "export.jsonl"
    export.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    (target / "store.sqlite").unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(target / "files")
    for url in (f"sqlite:///{target / 'store.sqlite'}", f"files:///{target / 'files'}"):
        with experiments.connect(url, plugins=plugins, create=True) as store:
            store.import_records(_read(export))
    rows = _postgres_rows(export)
    if rows is not None:
        text = json.dumps(rows, ensure_ascii=False, indent=1)
        (target / "postgres.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
