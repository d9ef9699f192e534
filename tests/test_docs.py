"""The documentation: every code block runs, and every public name has an entry."""

from __future__ import annotations

import importlib
import importlib.util
import re
import secrets
import subprocess
import sys
import types
from pathlib import Path

import pytest

from doc_pages import PAGES, ROOT, DocError, commands, matches, run_page, setups_of

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


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


class TestHarness:
    """The doc test harness fails a page that does not do what it shows."""

    def test_output_other_than_shown_fails(self, tmp_path: Path):
        """A console block whose command prints something else than the page shows fails."""
        page = _page(tmp_path, "```console\n$ echo hello\ngoodbye\n```\n")
        with pytest.raises(DocError, match="printed"):
            run_page(page, tmp_path / "run")

    def test_nonzero_exit_fails_unless_declared(self, tmp_path: Path):
        """A command exiting 1 fails the page; `doctest: exit 1` before the block allows it."""
        with pytest.raises(DocError, match="exited with 1"):
            run_page(_page(tmp_path, "```console\n$ false\n```\n"), tmp_path / "a")
        allowed = _page(tmp_path, "<!-- doctest: exit 1 -->\n```console\n$ false\n```\n")
        assert len(run_page(allowed, tmp_path / "b").ran) == 1

    def test_failing_python_fails(self, tmp_path: Path):
        """An exception in a Python block fails the page."""
        with pytest.raises(ZeroDivisionError):
            run_page(_page(tmp_path, "```python\n1 / 0\n```\n"), tmp_path / "run")

    def test_skip_needs_a_reason_and_is_counted(self, tmp_path: Path):
        """A skip without a reason is refused; with one, the block is listed as skipped."""
        bare = _page(tmp_path, "<!-- doctest: skip -->\n```console\n$ false\n```\n")
        with pytest.raises(DocError):
            run_page(bare, tmp_path / "a")
        page = _page(tmp_path, "<!-- doctest: skip no network -->\n```console\n$ false\n```\n")
        state = run_page(page, tmp_path / "b")
        assert state.ran == []
        assert state.skipped == ["page.md, line 2 (console): no network"]

    def test_unknown_language_is_refused(self, tmp_path: Path):
        """A block in a language the harness cannot run fails instead of passing unseen."""
        with pytest.raises(DocError, match="cannot run"):
            run_page(_page(tmp_path, "```ruby\nputs 1\n```\n"), tmp_path / "run")

    def test_exports_and_files_carry_over(self, tmp_path: Path):
        """Exports reach later blocks, Python ones too; a file block is written, then run."""
        page = _page(
            tmp_path,
            "```console\n$ export GREETING=hej\n```\n\n"
            "```python\nimport os\nassert os.environ['GREETING'] == 'hej'\n```\n\n"
            "<!-- doctest: file hello.py -->\n```python\nprint('hello from a file')\n```\n\n"
            "```console\n$ python3 hello.py\nhello from a file\n$ echo $GREETING\nhej\n```\n",
        )
        assert len(run_page(page, tmp_path / "run").ran) == 4

    def test_example_host_needs_the_postgres_setup(self, tmp_path: Path):
        """A page naming the example server without `setup postgres` fails."""
        page = _page(tmp_path, "```console\n$ echo postgresql://u@db.example.org/x\n```\n")
        with pytest.raises(DocError, match="setup postgres"):
            run_page(page, tmp_path / "run")

    def test_analyst_queries_run_on_sqlite(self, tmp_path: Path):
        """With `doctest: sql`, a query that SQLite refuses fails the page; one it runs passes."""
        made = (
            "```python\nimport sqlite3\n"
            "sqlite3.connect('s.db').execute('CREATE TABLE t (a)')\n```\n"
        )
        good = _page(
            tmp_path,
            made + "<!-- doctest: sql s.db x -->\n<!-- doctest: on sqlite -->\n"
            "```sql\nSELECT a\nFROM t;\n```\n",
        )
        assert len(run_page(good, tmp_path / "a").ran) == 2
        bad = _page(
            tmp_path,
            made + "<!-- doctest: sql s.db x -->\n<!-- doctest: on sqlite -->\n"
            "```sql\nSELECT b FROM t;\n```\n",
        )
        with pytest.raises(DocError, match="SQLite: no such column"):
            run_page(bad, tmp_path / "b")

    def test_commands_keep_continuations_and_output(self):
        """A backslash continues a command; the lines below it are its output."""
        found = commands("$ echo a \\\n    b\na b\n\n$ true\n")
        assert found == [("echo a \\\n    b", ["a b"]), ("true", [])]

    @pytest.mark.parametrize(
        ("shown", "printed", "same"),
        [
            (["a", "b"], ["a", "b"], True),
            (["a", "..."], ["a", "b", "c"], True),
            (["...", "c"], ["a", "b", "c"], True),
            (["a ... c"], ["a bbb c"], True),
            (["a", "b"], ["a", "c"], False),
            (["a"], ["a", "b"], False),
            (["...", "x", "..."], ["a", "b"], False),
        ],
    )
    def test_ellipsis_matches_any_lines_or_text(self, shown, printed, same):
        """`...` alone matches any lines, within a line any text; everything else exactly."""
        assert matches(shown, printed) is same


PUBLIC_MODULES = (
    "experiments",
    "experiments.checks",
    "experiments.dataframes",
    "experiments.errors",
    "experiments.follow_up",
    "experiments.hookspecs",
    "experiments.maturity",
    "experiments.mental_models",
    "experiments.plugins",
    "experiments.query",
    "experiments.reports",
    "experiments.rollup",
    "experiments.spreadsheets",
    "experiments.sprints",
    "experiments.stores",
    "experiments.templates",
    "experiments.surveys",
    "experiments.testing",
    "experiments.tracking",
    "experiments.vocabulary",
)


@pytest.fixture(autouse=True)
def random_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The docs run as a reader runs them: every store with a random key of its own."""
    monkeypatch.setattr("experiments.stores._keys.new_key", lambda: secrets.token_hex(32))


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The documentation built once, nitpicky: its output directory and its warnings."""
    out = tmp_path_factory.mktemp("docs")
    done = subprocess.run(
        [
            sys.executable, "-m", "sphinx", "-q", "-n", "--keep-going", "-b", "html",
            "-d", str(out / "doctrees"), str(ROOT / "docs"), str(out / "html"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return out / "html", done.stderr


def _inventory(html: Path) -> set[str]:
    """The names the documentation has an entry for (Python domain)."""
    from sphinx.util.inventory import InventoryFile  # noqa: PLC0415

    with (html / "objects.inv").open("rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda *parts: "/".join(parts))
    return {
        name
        for kind, entries in inventory.items()
        if kind.startswith("py:")
        for name in (entries.keys() if hasattr(entries, "keys") else entries)
    }


class TestApiReference:
    """Every public name has an entry in the documentation, and every reference resolves."""

    def test_every_public_name_has_an_entry(self, built_docs: tuple[Path, str]):
        """Each name in the public modules' __all__ is documented, under it or its home."""
        html, _ = built_docs
        names = _inventory(html)
        resolve = _docs_conf()._import
        documented_ids = set()
        for name in names:
            found = resolve(name)
            if found is not None and not isinstance(found, str | int | float | bool | tuple):
                documented_ids.add(id(found))
        missing = []
        for module_name in PUBLIC_MODULES:
            module = importlib.import_module(module_name)
            for name in module.__all__:
                obj = getattr(module, name)
                full = f"{module_name}.{name}"
                if full in names or (id(obj) in documented_ids and not isinstance(obj, str)):
                    continue
                missing.append(full)
        assert not missing, f"no entry in docs/ for: {', '.join(missing)}"

    def test_no_unresolved_reference_to_own_names(self, built_docs: tuple[Path, str]):
        """A nitpicky build has no warnings at all: every reference resolves or is foreign."""
        _, warnings = built_docs
        assert warnings.strip() == "", warnings

    def test_attrs_defaults_read_as_written(self, built_docs: tuple[Path, str]):
        """Signatures show factories and enum defaults, never attrs' NOTHING."""
        html, _ = built_docs
        api = (html / "api.html").read_text(encoding="utf-8")
        assert ">NOTHING<" not in api  # attrs' sentinel as a default value
        assert ">now()<" in api


def _docs_conf() -> types.ModuleType:
    """docs/conf.py, whose name resolution the build uses, as a module."""
    spec = importlib.util.spec_from_file_location("docs_conf", ROOT / "docs" / "conf.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestLinks:
    """Pages name only pages that exist."""

    def test_docs_paths_in_pages_exist(self):
        """Every docs/NAME.md a page mentions is a file of the repository."""
        missing = [
            f"{page.name}: {path}"
            for page in PAGES
            for path in re.findall(r"docs/[\w-]+\.md", page.read_text(encoding="utf-8"))
            if not (ROOT / path).is_file()
        ]
        assert not missing, missing
