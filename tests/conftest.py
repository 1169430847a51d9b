"""Fixtures shared by the whole suite.

``db_url`` is parametrized over SQLite and PostgreSQL (ids ``sqlite`` and
``postgresql``), so every test that takes it, or the ``engine`` built on it,
runs on both stores. PostgreSQL comes from a throwaway cluster that the suite
starts itself, once per session, on 127.0.0.1 with a free port; each test
gets a fresh database in it. Where the server binaries are missing the
PostgreSQL cases are skipped, except under CI (``$CI`` set), where they fail:
CI must run them.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from engine import Engine
from engine.ports import ManualClock
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"


# --- a throwaway PostgreSQL cluster ----------------------------------------------------------------


def _unavailable(reason: str) -> NoReturn:
    """Skip locally; fail under CI, which must run the PostgreSQL tests."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def _server_bindir() -> Path | None:
    """``pg_config --bindir`` when it holds the server (libpq-dev alone ships a pg_config), else the newest install."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


class PostgresCluster:
    """One ``initdb``-made cluster in a temp dir, serving 127.0.0.1:``port``, with trust auth for ``postgres``."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = 0
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        self.root = Path(tempfile.mkdtemp(prefix="agenthub-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._names = itertools.count(1)
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)

    def _run(self, *args: str) -> None:
        argv = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(argv, cwd=self.root, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}{log}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        # Only the test user, only over loopback or the socket in our own dir.
        (self.data / "pg_hba.conf").write_text(
            "local all postgres trust\nhost all postgres 127.0.0.1/32 trust\n"
        )
        for attempt in range(5):  # another process may take the free port before the server binds it
            self.port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=on "
                "-c synchronous_commit=on -c max_connections=200"
            )
            try:
                self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log), "-o", options)
                return
            except RuntimeError:
                if attempt == 4:
                    raise

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self.data))
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"t_{next(self._names)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _ensure_postgres_user() -> None:
    try:
        pwd.getpwnam("postgres")
        return
    except KeyError:
        pass
    try:
        subprocess.run(["useradd", "--system", "postgres"], capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        _unavailable(f"running as root, and the unprivileged 'postgres' user for initdb cannot be created: {exc}")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL server of our own for the whole session; stopped and deleted at its end."""
    bindir = _server_bindir()
    if bindir is None:
        _unavailable("no PostgreSQL server binaries (initdb, pg_ctl) found; install Debian's 'postgresql' package")
    if os.geteuid() == 0:
        _ensure_postgres_user()
    cluster = PostgresCluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """A fresh database in the session's cluster."""
    return postgres_cluster.create_database()


# --- the stores every engine test runs on ------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'agenthub.db'}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(db_url: str, clock: ManualClock) -> Iterator[Engine]:
    eng = Engine.open(db_url, clock=clock, synchronous="NORMAL")
    yield eng
    eng.close()
