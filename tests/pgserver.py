"""A throwaway PostgreSQL server for the test session, from Debian's server binaries.

``EXPERIMENTS_PG_BIN`` may name another directory holding ``initdb`` and ``pg_ctl``.

Debian's ``postgresql`` package puts ``initdb`` and ``pg_ctl`` in
``/usr/lib/postgresql/<version>/bin``; they refuse to run as root, so as root they run
as the ``postgres`` user (or ``nobody``).  The server listens on 127.0.0.1 only, on a
free port, with its data and socket in a temporary directory that is removed when it
stops.  Local socket connections are trusted (the fixture administers through them);
TCP connections need a password, so tests can drive a wrong one.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
import uuid
from pathlib import Path
from typing import Final

INSTALLED: Final = Path("/usr/lib/postgresql")
DATABASE: Final = "experiments_test"
ROLE: Final = "experiments"
PASSWORD: Final = "test-only-password"  # noqa: S105 - a throwaway server's test role


def find_bin() -> Path | None:
    """The newest installed server's bin directory, or None."""
    override = os.environ.get("EXPERIMENTS_PG_BIN")
    if override:
        return Path(override) if (Path(override) / "initdb").exists() else None
    found = sorted(
        (p.parent for p in INSTALLED.glob("*/bin/initdb")),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parent.name.split(".")],
    )
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_user() -> str | None:
    """Who runs the server: nobody else but us, unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root, and there is no 'postgres' or 'nobody' user")


class PostgresServer:
    """One server: start it, make databases and roles through it, stop it."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="experiments-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.root.chmod(0o755)  # the test process reads the log; the data dir stays 0700

    # --- running the server's tools ------------------------------------------------

    def _run(self, *command: str, timeout: float = 120) -> str:
        argv = [str(self.bin_dir / command[0]), *command[1:]]
        if self.user is not None:
            runuser = shutil.which("runuser")
            if runuser:
                argv = [runuser, "-u", self.user, "--", *argv]
            else:
                argv = ["su", self.user, "-s", "/bin/sh", "-c", shlex.join(argv)]
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, cwd=self.root, check=False
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{shlex.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n{log}"
            )
        return result.stdout

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8" if _has_c_utf8() else "--locale=C",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
        )
        last: Exception | None = None
        for _ in range(5):
            self.port = _free_port()
            options = " ".join(
                [
                    f"-p {self.port}",
                    f"-k {self.root}",
                    "-c listen_addresses=127.0.0.1",
                    "-c max_connections=300",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c shared_buffers=64MB",
                    "-c log_min_messages=warning",
                ]
            )
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                    "-o", options, "start",
                )  # fmt: skip
            except RuntimeError as exc:  # the port was taken meanwhile: try another
                last = exc
                continue
            break
        else:
            raise RuntimeError(f"the PostgreSQL test server did not start: {last}")
        self.admin(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        create = f"CREATE DATABASE {DATABASE} OWNER {ROLE} ENCODING 'UTF8' TEMPLATE template0"
        try:
            # A linguistic collation, as production databases have: text that sorted by
            # it instead of by code point would fail the pushed-down query tests.
            self.admin(f"{create} LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
        except Exception:  # noqa: BLE001 - a server without ICU: the default collation
            self.admin(create)

    def stop(self) -> None:
        try:
            if self.port and (self.data / "postmaster.pid").exists():
                # Nothing of the data is kept: no shutdown checkpoint to wait for.
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # --- administration ------------------------------------------------------------

    def admin_conninfo(self, database: str = "postgres") -> str:
        return f"host={self.root} port={self.port} user=postgres dbname={database}"

    def admin(self, *statements: str, database: str = "postgres") -> list[list[tuple[object, ...]]]:
        """Run statements as the superuser over the local socket; rows of each."""
        import psycopg  # noqa: PLC0415 - only when a server runs

        results = []
        with psycopg.connect(self.admin_conninfo(database), autocommit=True) as connection:
            for statement in statements:
                cursor = connection.execute(statement)  # type: ignore[arg-type]
                results.append(cursor.fetchall() if cursor.description else [])
        return results

    def query(
        self, sql: str, params: tuple[object, ...] = (), *, database: str = DATABASE
    ) -> list[tuple[object, ...]]:
        """Rows of one statement with parameters, as the superuser, in the test database."""
        import psycopg  # noqa: PLC0415 - only when a server runs

        with psycopg.connect(self.admin_conninfo(database), autocommit=True) as connection:
            cursor = connection.execute(sql, params or None)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def url(
        self,
        schema: str | None = None,
        *,
        user: str = ROLE,
        password: str = PASSWORD,
        database: str = DATABASE,
        host: str = "127.0.0.1",
        port: int | None = None,
        **options: str,
    ) -> str:
        """A store URL for a role on this server; a schema of its own unless given one."""
        query = dict(options)
        query["schema"] = schema or f"t_{uuid.uuid4().hex[:16]}"
        netloc = (
            f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}"
            f"@{host}:{port or self.port}"
        )
        return f"postgresql://{netloc}/{database}?{urllib.parse.urlencode(query)}"


def _has_c_utf8() -> bool:
    try:
        output = subprocess.run(
            ["locale", "-a"], capture_output=True, text=True, check=False, timeout=10
        ).stdout
    except OSError:
        return False
    return any(line.lower() in ("c.utf8", "c.utf-8") for line in output.split())
