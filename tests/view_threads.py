"""Two threads reading one memory store through views, in a process of their own.

A memory store holds its lock for a whole ``reading()`` block, so a view read in
another thread meanwhile waits for the block to end.  Should a view's cached property
hold a lock of its own while it reads (Python 3.11's ``functools.cached_property`` holds
one per property, for every instance of the class), the block, asking for that property,
would wait for it in turn: both threads would wait for ever.  Run in a process of its
own, such a wait fails the test (test_asof.py's ``TestThreads``) instead of hanging it.

``python view_threads.py SCENARIO`` prints what both threads got, as JSON.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import Any

from experiments import Experiment, Hypothesis, Plugins, Store, connect
from experiments.asof import AsOf
from experiments.checks import run_checks
from experiments.rollup import rollup

WAIT = 10  # seconds either thread may take


def _store() -> tuple[Store, threading.Event]:
    """A memory store with one experiment, and an event set when it is first scanned."""
    store = connect("memory://", plugins=Plugins(autoload=False))
    experiment = store.save(Experiment(title="Walks", objectives=["welfare"]))
    store.save(Hypothesis(experiment=experiment, statement="It helps"))
    scanning = threading.Event()
    scan = store._scan  # the store's own reading, only watched

    def watched(kind: str | None) -> Any:
        scanning.set()
        return scan(kind)

    store._scan = watched  # type: ignore[method-assign]
    return store, scanning


def both(
    store: Store, scanning: threading.Event, inside: Callable[[], Any], outside: Callable[[], Any]
) -> dict[str, Any]:
    """``inside`` in a reading block, asked once ``outside`` reads the store in another thread."""
    done: dict[str, Any] = {}

    def in_block() -> None:
        with store.reading():
            other.start()
            scanning.wait(WAIT)  # the other thread is reading (and waits for the block)
            done["inside"] = inside()

    def out_of_block() -> None:
        done["outside"] = outside()

    first = threading.Thread(target=in_block, daemon=True)
    other = threading.Thread(target=out_of_block, daemon=True)
    first.start()
    first.join(WAIT)
    other.join(WAIT)
    done["waiting"] = [name for t, name in ((first, "inside"), (other, "outside")) if t.is_alive()]
    return done


def another_view() -> dict[str, Any]:
    """A roll-up in its block; another view's facts read meanwhile."""
    store, scanning = _store()
    return both(
        store,
        scanning,
        lambda: rollup(store).total.experiments,
        lambda: len(AsOf(store).facts),
    )


def reused_view() -> dict[str, Any]:
    """The checks in their block; a roll-up's view read again meanwhile."""
    store, scanning = _store()
    view = rollup(store).view
    assert view is not None
    experiment_id = next(iter(view.facts))
    scanning.clear()
    return both(
        store,
        scanning,
        lambda: [f.check for f in run_checks(store).findings],
        lambda: [len(view.experiments), view.status(experiment_id).value],
    )


SCENARIOS: dict[str, Callable[[], dict[str, Any]]] = {
    "another-view": another_view,
    "reused-view": reused_view,
}

if __name__ == "__main__":
    sys.stdout.write(json.dumps(SCENARIOS[sys.argv[1]]()) + "\n")
