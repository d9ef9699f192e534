"""The documentation: every code block runs, and every public name has an entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from doc_pages import PAGES, DocError, commands, matches, run_page, setups_of

pytestmark = pytest.mark.slow


def _page_param(page: Path) -> object:
    marks = [pytest.mark.postgres] if "postgres" in setups_of(page) else []
    return pytest.param(page, id=page.name, marks=marks)


class TestPages:
    """README.md and every page of docs/, each run top to bottom in a fresh directory."""

    @pytest.mark.parametrize("page", [_page_param(p) for p in PAGES])
    def test_every_block_runs(self, page: Path, tmp_path: Path, request: pytest.FixtureRequest):
        """Every block of the page runs and prints what the page shows; skips give a reason."""
        postgres = (
            request.getfixturevalue("postgres_server") if "postgres" in setups_of(page) else None
        )
        state = run_page(page, tmp_path, postgres=postgres)
        for skipped in state.skipped:
            assert skipped.split(": ", 1)[1].strip(), f"a skip without a reason: {skipped}"
