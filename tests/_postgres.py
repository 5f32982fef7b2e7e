"""A private PostgreSQL server for tests, shared by every folder that needs one (store, monitor, ...).

``pg_socket_dir`` starts a server from the installed PostgreSQL binaries (``initdb``/``pg_ctl``) in a
temporary directory, listening on a Unix socket only (no TCP port at all), once per test session, and
stops it at the end; ``pg_url`` creates a fresh database on it per test. Where those binaries or the psycopg
driver are missing it skips, and fails under CI=true (.ci/run installs Debian's postgresql). tests/conftest.py
registers both for every test folder.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import pytest

from ._shared import require_or_skip


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@pytest.fixture(scope="session")
def pg_socket_dir():
    require_or_skip(importlib.util.find_spec("psycopg") is not None,
                    'needs the Postgres driver: pip install "bayesbench[postgres]"')
    import psycopg

    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    require_or_skip(bool(initdb and pg_ctl), "PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as the 'postgres' user
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            require_or_skip(False, "running as root and there is no 'postgres' user to run the server as")
        prefix = ["runuser", "-u", "postgres", "--"]
    d = tempfile.mkdtemp(prefix="bb-pg-")
    os.chmod(d, 0o777)
    data, log = os.path.join(d, "data"), os.path.join(d, "log")
    subprocess.run([*prefix, initdb, "-D", data, "-U", "bb", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True, timeout=120, cwd=d)
    opts = f"-c listen_addresses='' -c unix_socket_directories={d} -c fsync=off"
    subprocess.run([*prefix, pg_ctl, "-D", data, "-o", opts, "-w", "-t", "60", "-l", log, "start"],
                   check=True, capture_output=True, timeout=90, cwd=d)
    try:
        yield d, psycopg
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True,
                       timeout=60, cwd=d)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def pg_url(pg_socket_dir):
    d, psycopg = pg_socket_dir
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(f"host={d} user=bb dbname=postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgresql+psycopg://bb@/{name}?host={d}"
