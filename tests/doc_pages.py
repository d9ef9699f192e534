"""Running the code blocks of README.md and docs/*.md, in order, as a reader would.

Each page runs in a fresh directory of its own, which holds a copy of the repository's
``examples/municipality.py``.  Sybil finds the fenced code blocks and the directives
written as HTML comments (invisible on GitHub and in the built documentation):

``<!-- doctest: setup municipality -->``
    before the page's first block, run ``examples/municipality.py`` in the page's
    directory: the page follows the Quick start's main job (its ``experiments.db``).
``<!-- doctest: setup postgres -->``
    the page talks to a PostgreSQL server at ``db.example.org``; the test points that
    host at the test session's server, and runs the page's ``sql`` and ``psql`` blocks
    through psql as its superuser.
``<!-- doctest: skip REASON -->``
    the next block is shown but not run; REASON says why (an install from the package
    index, an external host, the test command itself).
``<!-- doctest: file NAME -->``
    the next block is the content of the file NAME, written into the page's directory
    (for a console block that runs it).
``<!-- doctest: exit CODE -->``
    the last command of the next console block exits with CODE (``experiments check``
    exits with 1 when it finds something), and the others with 0 or CODE; without it,
    every command of a console block must exit with 0.
``<!-- doctest: sql SQLITE_FILE DATABASE -->``
    from here on, the page's ``sql`` blocks are an analyst's queries of a store: each
    runs on SQLite, against SQLITE_FILE in the page's directory, and through psql in
    the PostgreSQL DATABASE (with ``setup postgres``).
``<!-- doctest: on sqlite -->`` (or ``on postgres``)
    the next ``sql`` block runs on that backend only (its SQL is that backend's own).

Blocks run by language: ``python`` is executed in one namespace per page; ``console``
runs each ``$ `` command through bash (``\\`` continues a command on the next line)
with the installed ``experiments`` command first on the PATH, and compares what it
prints with the lines shown below it, if any (``...`` alone on a line stands for any
lines, within a line for any text); ``sql`` runs through psql, and so does ``psql``
(SQL with psql's backslash commands, such as ``\\connect``); ``toml`` must parse.
``text``, ``markdown`` and ``mermaid`` blocks are diagrams, prose and markup, and are not
run.  A
block in any other language is an error, so nothing is left out by accident.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import tomllib
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, FencedCodeBlockLexer

ROOT: Final = Path(__file__).resolve().parent.parent
PAGES: Final = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
EXAMPLE_HOST: Final = "db.example.org"
SETUPS: Final = frozenset({"municipality", "postgres"})
RUN: Final = frozenset({"python", "console", "sql", "psql", "toml"})
NOT_CODE: Final = frozenset({"text", "markdown", "mermaid"})
_TIMEOUT: Final = 300
_SETUP = re.compile(r"<!--\s*doctest:\s*setup\s+(\S+)\s*-->")


class DocError(AssertionError):
    """A block did not do what its page says, or a page's directives are wrong."""


@dataclass
class PageState:
    """What the blocks of one page share: its directory, shell environment, next-block notes."""

    directory: Path
    env: dict[str, str]
    postgres: Any = None
    pending: dict[str, str] = field(default_factory=dict)
    sql: tuple[str, str] | None = None
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def setups_of(page: Path) -> list[str]:
    """The setups a page declares, in the order written."""
    found = _SETUP.findall(page.read_text(encoding="utf-8"))
    unknown = sorted(set(found) - SETUPS)
    if unknown:
        raise DocError(f"{page.name}: unknown setup {', '.join(unknown)}; known: {sorted(SETUPS)}")
    return found


class _Parser:
    """Every fenced code block and every ``doctest:`` directive of a Markdown page."""

    def __init__(self) -> None:
        self.blocks = FencedCodeBlockLexer(language=r".+")
        self.directives = DirectiveInHTMLCommentLexer(directive="doctest", arguments=".+?")

    def __call__(self, document: Document) -> Iterator[Region]:
        blocks = []
        for region in self.blocks(document):
            language = region.lexemes["language"].strip()
            if language.startswith("{"):  # a MyST directive such as {eval-rst}, not code
                continue
            region.parsed = (language, str(region.lexemes["source"]))
            region.evaluator = _block
            blocks.append(region)
        # Blocks and directives shown inside a block (as examples of markup) are text.
        blocks = [r for r in blocks if not any(o.start < r.start < o.end for o in blocks)]
        for region in self.directives(document):
            if any(b.start < region.start < b.end for b in blocks):
                continue  # a directive shown inside a block, as an example of one
            verb, _, argument = region.lexemes["arguments"].strip().partition(" ")
            region.parsed = (verb, argument.strip())
            region.evaluator = _directive
            yield region
        yield from blocks


SYBIL: Final = Sybil(parsers=[_Parser()])


def _state(example: Example) -> PageState:
    state = example.namespace.get("__doctest__")
    if not isinstance(state, PageState):
        raise DocError("run pages through run_page(), which prepares their directory")
    return state


def _where(example: Example) -> str:
    return f"{Path(example.path).name}, line {example.line}"


def _directive(example: Example) -> None:
    state = _state(example)
    verb, argument = example.parsed
    if verb == "setup":
        return  # applied by run_page() before the first block
    if verb == "sql":
        targets = argument.split()
        if len(targets) != 2:
            raise DocError(f"{_where(example)}: `doctest: sql` takes SQLITE_FILE DATABASE")
        state.sql = (targets[0], targets[1])
        return
    if verb == "on" and argument not in ("sqlite", "postgres"):
        raise DocError(f"{_where(example)}: `doctest: on` takes sqlite or postgres")
    if verb not in ("skip", "file", "exit", "on"):
        raise DocError(f"{_where(example)}: unknown directive {verb!r}; see docs/contributing.md")
    if not argument:
        raise DocError(f"{_where(example)}: `doctest: {verb}` needs an argument")
    if verb in state.pending:
        raise DocError(f"{_where(example)}: two `doctest: {verb}` for one block")
    state.pending[verb] = argument


def _block(example: Example) -> None:
    state = _state(example)
    language, source = example.parsed
    pending, state.pending = state.pending, {}
    label = f"{_where(example)} ({language})"
    if "skip" in pending:
        state.skipped.append(f"{label}: {pending['skip']}")
        return
    if "file" in pending:
        target = state.directory / pending["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
        if language == "python":
            compile(source, str(target), "exec")  # a file that does not compile fails here
        state.ran.append(label)
        return
    if language not in RUN and language not in NOT_CODE:
        raise DocError(
            f"{label}: blocks in {language!r} cannot run; use one of {sorted(RUN)}, "
            "or mark the block with <!-- doctest: skip REASON -->"
        )
    if "exit" in pending and language != "console":
        raise DocError(f"{label}: `doctest: exit` applies to console blocks only")
    if language == "python":
        _python(example, state, source)
    elif language == "console":
        _console(example, state, source, int(pending.get("exit", "0")))
    elif language == "sql" and state.sql is not None:
        _queries(example, state, source, pending.get("on"))
    elif language in ("sql", "psql"):
        _sql(example, state, source)
    elif language == "toml":
        try:
            tomllib.loads(source)
        except tomllib.TOMLDecodeError as exc:
            raise DocError(f"{label}: not TOML: {exc}") from None
    if language in RUN:
        state.ran.append(label)


def _python(example: Example, state: PageState, source: str) -> None:
    _sync_environment(state)
    padded = "\n" * example.line + source  # tracebacks name the page's own line numbers
    code = compile(padded, example.path, "exec", dont_inherit=True)
    exec(code, example.namespace)  # noqa: S102 - running the documentation is the point


def _sync_environment(state: PageState) -> None:
    """Python blocks see what the page's console blocks exported."""
    for name in set(os.environ) - set(state.env):
        del os.environ[name]
    os.environ.update(state.env)


def commands(source: str) -> list[tuple[str, list[str]]]:
    """A console block's commands, each with the output lines shown below it."""
    found: list[tuple[str, list[str]]] = []
    lines = source.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.startswith("$ "):
            if found:
                found[-1][1].append(line)
                continue
            if line.strip():
                raise DocError(f"console text before the first `$ ` command: {line!r}")
            continue
        command = line[2:]
        while command.endswith("\\") and index < len(lines):
            command = command + "\n" + lines[index]  # bash reads the backslash-newline
            index += 1
        found.append((command, []))
    for _, output in found:
        while output and not output[-1].strip():
            output.pop()
    return found


def _console(example: Example, state: PageState, source: str, last_exit: int) -> None:
    steps = commands(source)
    if not steps:
        raise DocError(f"{_where(example)}: a console block without a `$ ` command")
    for number, (command, expected) in enumerate(steps, start=1):
        wanted = {last_exit} if number == len(steps) else {0, last_exit}
        text = _for_this_machine(command, state)
        with tempfile.TemporaryDirectory() as scratch:
            shell_state = Path(scratch) / "shell"
            script = (
                f"{text}\n__status=$?\n"
                f"{{ env -0; pwd; }} > {shlex.quote(str(shell_state))}\nexit $__status\n"
            )
            done = subprocess.run(
                ["bash", "-c", script],
                cwd=state.directory,
                env=state.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                timeout=_TIMEOUT,
                check=False,
            )
            after = (
                shell_state.read_text(encoding="utf-8", errors="replace")
                if shell_state.exists()  # not if the command ended the shell itself
                else ""
            )
        output = done.stdout
        if done.returncode not in wanted:
            raise DocError(
                f"{_where(example)}: `{command}` exited with {done.returncode}, "
                f"not {' or '.join(map(str, sorted(wanted)))}:\n{output}"
            )
        _remember_shell(state, after)
        if expected and not matches(expected, output.splitlines()):
            shown = "\n".join(expected)
            raise DocError(
                f"{_where(example)}: `{command}` printed\n{output}\nbut the page shows\n{shown}"
            )


def _remember_shell(state: PageState, after: str) -> None:
    """Keep what a command exported (and where it changed to) for the page's next ones."""
    if not after:
        return
    *pairs, cwd = after.split("\0")
    env = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if equals and name not in ("_", "SHLVL", "OLDPWD", "PWD", "__status"):
            env[name] = value
    if env:
        state.env = env
    cwd = cwd.strip()
    if cwd and Path(cwd).is_dir():
        state.directory = Path(cwd)


def _for_this_machine(text: str, state: PageState) -> str:
    """The documented text, with the example server's host pointed at the test server."""
    if state.postgres is None:
        if EXAMPLE_HOST in text:
            raise DocError(f"{EXAMPLE_HOST} is only reachable on a page with `setup postgres`")
        return text
    return text.replace(EXAMPLE_HOST, f"127.0.0.1:{state.postgres.port}")


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether output lines match the lines a page shows, with ``...`` wildcards."""
    want = [line.rstrip() for line in expected]
    got = [line.rstrip() for line in actual]
    while got and not got[-1]:
        got.pop()

    def line_matches(pattern: str, line: str) -> bool:
        if "..." not in pattern:
            return pattern == line
        parts = [re.escape(part) for part in pattern.split("...")]
        return re.fullmatch(".*?".join(parts), line) is not None

    def from_here(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i].strip() == "...":
            return any(from_here(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and line_matches(want[i], got[j]) and from_here(i + 1, j + 1)

    return from_here(0, 0)


def _queries(example: Example, state: PageState, source: str, only: str | None) -> None:
    """An analyst's queries, on SQLite and on PostgreSQL (or on the one ``only`` names)."""
    assert state.sql is not None
    sqlite_file, database = state.sql
    if only in (None, "sqlite"):
        statement = ""
        with sqlite3.connect(f"file:{state.directory / sqlite_file}?mode=ro", uri=True) as db:
            for line in source.splitlines(keepends=True):
                statement += line
                if sqlite3.complete_statement(statement):
                    try:
                        db.execute(statement).fetchall()
                    except sqlite3.Error as exc:
                        raise DocError(f"{_where(example)}: SQLite: {exc}\n{statement}") from None
                    statement = ""
        if statement.strip():
            raise DocError(f"{_where(example)}: a statement without its `;`: {statement}")
    if only in (None, "postgres"):
        _sql(example, state, source, database)


def _sql(example: Example, state: PageState, source: str, database: str = "postgres") -> None:
    if state.postgres is None:
        raise DocError(f"{_where(example)}: sql blocks run only on a page with `setup postgres`")
    server = state.postgres
    done = subprocess.run(
        [
            _psql(server.bin_dir),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(server.root),
            "-p",
            str(server.port),
            "-U",
            "postgres",
            "-d",
            database,
        ],
        input=source,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise DocError(f"{_where(example)}: psql failed ({done.returncode}):\n{done.stderr}")


def _psql(bin_dir: Path) -> str:
    found = bin_dir / "psql"
    return str(found) if found.exists() else (shutil.which("psql") or "psql")


def run_page(page: Path, directory: Path, *, postgres: Any = None) -> PageState:
    """Run every block of ``page`` in ``directory``; what ran and what was skipped.

    Raises:
        DocError: a block failed, printed something else than the page shows, or a
            directive is wrong.
    """
    setups = setups_of(page)
    examples_dir = directory / "examples"
    examples_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "examples" / "municipality.py", examples_dir / "municipality.py")
    env = {
        **os.environ,
        "HOME": str(directory),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1",
        "COLUMNS": "100",
    }
    for name in ("EXPERIMENTS_STORE", "PGPASSWORD", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"):
        env.pop(name, None)
    if "postgres" in setups and postgres is None:
        raise DocError(f"{page.name} needs the PostgreSQL test server")
    state = PageState(directory=directory, env=env, postgres=postgres)
    if "municipality" in setups:
        done = subprocess.run(
            [sys.executable, "examples/municipality.py"],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise DocError(f"examples/municipality.py failed:\n{done.stdout}{done.stderr}")
    document = SYBIL.parse(page)
    module = types.ModuleType(f"doc_{page.stem.replace('-', '_')}")
    module.__dict__["__doctest__"] = state
    sys.modules[module.__name__] = module
    document.namespace = module.__dict__
    saved_env = dict(os.environ)
    saved_cwd = Path.cwd()
    saved_modules = set(sys.modules)
    sys.path.insert(0, str(directory))  # a page's Python imports the files it wrote
    try:
        os.chdir(directory)
        for example in document:
            example.evaluate()
        if state.pending:
            raise DocError(f"{page.name}: a `doctest:` directive at the end, before no block")
    finally:
        os.chdir(saved_cwd)
        sys.path.remove(str(directory))
        for name in set(sys.modules) - saved_modules:
            if str(getattr(sys.modules[name], "__file__", None) or "").startswith(str(directory)):
                del sys.modules[name]
        os.environ.clear()
        os.environ.update(saved_env)
        sys.modules.pop(module.__name__, None)
    return state
