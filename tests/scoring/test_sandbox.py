"""The sandbox against hostile programs: each is contained, scored as a failure, and the run goes on.

Everything here is real: real child processes, real namespaces and rlimits, a real TCP
listener on 127.0.0.1. Limits are kept small so the whole file runs in seconds.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from bayesbench.errors import ConfigError
from bayesbench.scoring import SandboxLimits, run_in_sandbox
from bayesbench.scoring._sandbox import available_backends

FAST = SandboxLimits(cpu_seconds=2, wall_seconds=5, memory_mb=256, max_processes=16, max_file_mb=2)
ROOT = os.geteuid() == 0


def _uid_processes(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path("/proc", entry, "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) == uid:
                pids.append(int(entry))
    return pids


def _assert_no_leftovers(uid: int | None) -> None:
    """No process of the sandbox uid may survive the run (the kernel reaps a pid namespace async)."""
    if uid is None:
        return
    deadline = time.monotonic() + 5
    while _uid_processes(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _uid_processes(uid) == []


@pytest.fixture(autouse=True, params=["native", "bwrap"])
def backend(request, monkeypatch):
    """Every test here runs once per backend (the default "auto" follows this variable)."""
    if request.param not in available_backends():
        if os.environ.get("CI") == "true":
            pytest.fail("bubblewrap is not installed: CI must `apt-get install -y bubblewrap`")
        pytest.skip("bubblewrap (/usr/bin/bwrap) is not installed here")
    monkeypatch.setenv("BAYESBENCH_SANDBOX_BACKEND", request.param)
    return request.param


def _benign_still_works() -> None:
    result = run_in_sandbox("print(6 * 7)", limits=FAST)
    assert result.status == "passed", result
    assert result.stdout.strip() == "42"
    assert result.backend == os.environ["BAYESBENCH_SANDBOX_BACKEND"]


def test_plain_program_passes_with_stdin_and_clean_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-bayesbench-test-secret")
    program = textwrap.dedent(
        """
        import os, sys
        print(sys.stdin.read().upper())
        print(sorted(os.listdir(".")))
        print("KEY" if any("sk-bayesbench" in v for v in os.environ.values()) else "NOKEY")
        print(os.environ["HOME"] == os.getcwd())
        """
    )
    result = run_in_sandbox(program, limits=FAST, stdin="hello")
    assert result.status == "passed", result
    lines = result.stdout.split("\n")
    assert lines[0] == "HELLO"
    assert lines[1] == "['main.py']"  # an empty working directory holding only the program
    assert lines[2] == "NOKEY"
    assert lines[3] == "True"
    assert result.returncode == 0 and result.duration_s > 0 and result.cpu_s is not None


def test_isolation_in_force_on_this_machine():
    result = run_in_sandbox("pass", limits=FAST)
    assert result.status == "passed", result
    assert "rlimits" in result.isolation
    if ROOT:  # what docs/sandbox.md promises for a root Linux host such as CI
        assert {"uid", "netns", "pidns", "private-tmp", "hidden-home"} <= set(result.isolation)
        assert result.sandbox_uid is not None and result.sandbox_uid >= 1_000_000_000


def test_exception_and_exit_code_are_failures():
    result = run_in_sandbox("assert 1 == 2, 'nope'", limits=FAST)
    assert result.status == "failed"
    assert result.returncode == 1
    assert result.reason == "AssertionError: nope"
    result = run_in_sandbox("import sys; sys.exit(3)", limits=FAST)
    assert (result.status, result.returncode) == ("failed", 3)


def test_infinite_loop_hits_cpu_limit():
    limits = SandboxLimits(cpu_seconds=1, wall_seconds=20, memory_mb=256)
    result = run_in_sandbox("while True:\n    pass\n", limits=limits)
    assert result.status == "timeout", result
    assert "CPU limit" in result.reason
    _benign_still_works()


def test_sleeping_program_hits_wall_clock():
    limits = SandboxLimits(cpu_seconds=5, wall_seconds=1, memory_mb=256)
    t0 = time.monotonic()
    result = run_in_sandbox("import time\ntime.sleep(60)\n", limits=limits)
    assert result.status == "timeout" and "wall-clock" in result.reason
    assert result.returncode is None
    assert time.monotonic() - t0 < 15
    _assert_no_leftovers(result.sandbox_uid)


def test_fork_bomb_is_contained_and_cleaned_up():
    program = textwrap.dedent(
        """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """
    )
    limits = SandboxLimits(cpu_seconds=2, wall_seconds=3, memory_mb=256, max_processes=16)
    result = run_in_sandbox(program, limits=limits)
    assert result.status in ("timeout", "failed"), result
    assert result.status != "passed"
    _assert_no_leftovers(result.sandbox_uid)
    _benign_still_works()


def test_escaped_daemon_dies_with_the_sandbox():
    # A double-forked, setsid'ed grandchild outlives the program and leaves its process group.
    program = textwrap.dedent(
        """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(30)
            os._exit(0)
        time.sleep(0.2)
        print("parent done")
        """
    )
    result = run_in_sandbox(program, limits=FAST)
    assert result.status == "passed", result
    if "pidns" in result.isolation:
        _assert_no_leftovers(result.sandbox_uid)


def test_memory_bomb_is_scored_as_memory():
    result = run_in_sandbox("x = bytearray(4 * 1024 ** 3)\n", limits=FAST)
    assert result.status == "memory", result
    growing = "chunks = []\nwhile True:\n    chunks.append(bytearray(10 ** 7))\n"
    result = run_in_sandbox(growing, limits=FAST)
    assert result.status == "memory", result
    _benign_still_works()


def test_memory_is_bounded_for_the_whole_sandbox_not_per_process():
    # Eight children of 100 MB each stay under a 256 MiB per-process RLIMIT_AS; only a
    # per-sandbox cgroup can stop the total (800 MB).
    program = textwrap.dedent(
        """
        import os, time
        kids = []
        for _ in range(8):
            pid = os.fork()
            if pid == 0:
                block = b"x" * (100 * 1024 * 1024)
                time.sleep(1)
                os._exit(0)
            kids.append(pid)
        failed = sum(os.waitpid(k, 0)[1] != 0 for k in kids)
        print("failed children:", failed)
        assert failed == 0
        """
    )
    result = run_in_sandbox(program, limits=SandboxLimits(cpu_seconds=5, wall_seconds=20, memory_mb=256))
    if ROOT and Path("/sys/fs/cgroup/memory").is_dir():
        assert "cgroup-memory" in result.isolation, result.isolation
    if "cgroup-memory" in result.isolation:
        assert result.status in ("failed", "memory"), result
        assert "failed children: 0" not in result.stdout
    _benign_still_works()


def test_writing_outside_the_working_directory_fails(tmp_path):
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("original")
    sentinel.chmod(0o666)  # even a world-writable file must be out of reach
    project_file = Path(__file__).resolve().parent / f"zz_sandbox_probe_{os.getpid()}.txt"
    program = textwrap.dedent(
        f"""
        for path in ({str(sentinel)!r}, {str(project_file)!r}):
            try:
                with open(path, "w") as f:
                    f.write("pwned")
                print("WROTE", path)
            except OSError as exc:
                print("blocked", type(exc).__name__)
        """
    )
    try:
        result = run_in_sandbox(program, limits=FAST)
        assert result.status == "passed", result
        assert "WROTE" not in result.stdout
        assert result.stdout.count("blocked") == 2
        assert sentinel.read_text() == "original"
        assert not project_file.exists()
    finally:
        project_file.unlink(missing_ok=True)


def test_reading_the_users_home_fails(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    secret = home / ".netrc"
    secret.write_text("password hunter2-bayesbench")
    secret.chmod(0o644)
    monkeypatch.setenv("HOME", str(home))
    program = f"print(open({str(secret)!r}).read())\n"
    result = run_in_sandbox(program, limits=FAST)
    assert result.status == "failed", result
    assert "hunter2" not in result.stdout + result.stderr
    assert "Error" in result.reason  # FileNotFoundError (hidden) or PermissionError (uid)


def test_reading_the_accounts_real_home_fails():
    import pwd
    import stat

    real_home = Path(pwd.getpwuid(os.geteuid()).pw_dir)
    planted = None
    readable = [
        p for p in sorted(real_home.iterdir()) if p.is_file() and not p.is_symlink() and p.stat().st_mode & stat.S_IROTH
    ]
    if not readable:  # plant a world-readable file so there is something to steal
        planted = real_home / f".bayesbench-sandbox-probe-{os.getpid()}"
        planted.write_text("probe")
        planted.chmod(0o644)
        readable = [planted]
    target = readable[0]
    try:
        result = run_in_sandbox(f"print(len(open({str(target)!r}, 'rb').read()))\n", limits=FAST)
        assert result.status == "failed", result
        assert result.stdout == ""
    finally:
        if planted is not None:
            planted.unlink(missing_ok=True)


def test_socket_to_local_listener_never_connects():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        program = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'leak')\n"

        result = run_in_sandbox(program, limits=FAST)
        assert result.status == "failed", result
        # unreachable (native: no interface up) or refused (bwrap: its own loopback); never the host's
        assert any(e in result.reason for e in ("OSError", "PermissionError", "ConnectionRefusedError")), result
        with pytest.raises(socket.timeout):
            listener.accept()  # nothing reached the listener, not even a handshake

        # Control: with network allowed the same program does reach it, so the check above can fail.
        allowed = SandboxLimits(cpu_seconds=2, wall_seconds=5, memory_mb=256, network=True)
        result = run_in_sandbox(program, limits=allowed)
        assert result.status == "passed", result
        conn, _ = listener.accept()
        conn.close()


def test_killing_the_parent_does_not_kill_us():
    me = os.getpid()
    for program in (
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
        f"import os, signal\nos.kill({me}, signal.SIGKILL)\n",
        "import os, signal\nos.kill(-1, signal.SIGKILL)\n",
    ):
        probe = run_in_sandbox("pass", limits=FAST)
        if not ({"pidns", "uid"} & set(probe.isolation)):
            pytest.fail(f"no pid namespace and no separate uid here ({probe.isolation}): the sandbox cannot protect its parent")
        result = run_in_sandbox(program, limits=FAST)
        assert os.getpid() == me
        assert result.status in ("failed", "passed"), result
    _benign_still_works()


def test_huge_output_is_truncated():
    program = "import sys\nline = 'x' * 99 + '\\n'\nfor _ in range(1_000_000):\n    sys.stdout.write(line)\n"
    limits = SandboxLimits(cpu_seconds=5, wall_seconds=10, memory_mb=256, max_file_mb=2, max_output_kb=16)
    result = run_in_sandbox(program, limits=limits)
    # RLIMIT_FSIZE stops the writer at 2 MiB (EFBIG); we keep 16 KiB of it.
    assert result.status == "failed", result
    assert "truncated" in result.stdout
    assert len(result.stdout) < 16 * 1024 + 200
    assert "File too large" in result.stderr
    _benign_still_works()


def test_temporary_directories_are_removed(tmp_path, monkeypatch):
    root = tmp_path / "tmproot"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    result = run_in_sandbox("open('left-behind.txt', 'w').write('x')\n", limits=FAST)
    assert result.status == "passed", result
    assert list(root.iterdir()) == []


def test_limits_are_validated():
    with pytest.raises(ConfigError, match="`cpu_seconds` must be a positive number, got 0"):
        SandboxLimits(cpu_seconds=0)
    with pytest.raises(ConfigError, match="`memory_mb` must be at least 64"):
        SandboxLimits(memory_mb=10)
    with pytest.raises(ConfigError, match="`max_processes` must be a positive integer"):
        SandboxLimits(max_processes=2.5)
    with pytest.raises(ConfigError, match="`network` must be True or False"):
        SandboxLimits(network="no")
    with pytest.raises(ConfigError, match="`program` must be Python source text"):
        run_in_sandbox(b"print(1)")
    with pytest.raises(ConfigError, match="`python` must be an executable interpreter"):
        run_in_sandbox("pass", python="/nonexistent/python")


@pytest.mark.skipif(not ROOT, reason="needs root to start a process as another (unprivileged) user")
def test_unprivileged_caller_gets_user_namespace_isolation(tmp_path, backend):
    """Run the real parent code as uid 65534 (with the system interpreter, which that uid can
    execute) and check what it still enforces without root."""
    dirs = _host_world_writable_dirs()
    token = f"{os.getpid()}-{time.monotonic_ns()}"
    system_python = "/usr/bin/python3"
    if not os.access(system_python, os.X_OK):
        pytest.skip("no system interpreter at /usr/bin/python3 for the unprivileged run")
    src = str(Path(__import__("bayesbench").__file__).resolve().parent.parent)
    work = Path(tempfile.mkdtemp(prefix="bayesbench-unpriv-"))
    work.chmod(0o755)
    driver = textwrap.dedent(
        f"""
        import sys, types, json, os
        # Load the scoring package without the library's top level (which needs numpy, absent
        # from the system interpreter); the sandbox modules themselves are stdlib + bayesbench.errors.
        for name in ("bayesbench", "bayesbench.scoring"):
            mod = types.ModuleType(name)
            mod.__path__ = [os.path.join({src!r}, *name.split("."))]
            sys.modules[name] = mod
        from bayesbench.scoring._sandbox import SandboxLimits, run_in_sandbox
        prog = "import os, socket\\nprint(os.getppid())\\nsocket.create_connection(('1.1.1.1', 53), timeout=1)\\n"
        r = run_in_sandbox(prog, limits=SandboxLimits(cpu_seconds=2, wall_seconds=5, memory_mb=256))
        # uid 65534 may write to the host's world-writable directories: the sandbox must not.
        dirs = {dirs!r}
        w = run_in_sandbox(
            "import sys\\nfor d in sys.argv[1:]:\\n    try:\\n        open(d + '/bb-unpriv-{token}', 'w').write('x')\\n"
            "    except OSError:\\n        pass\\n".replace("import sys", "import sys; sys.argv = [''] + " + repr(dirs)),
            limits=SandboxLimits(cpu_seconds=2, wall_seconds=5, memory_mb=256),
        )
        print(json.dumps({{"status": r.status, "isolation": r.isolation, "stdout": r.stdout, "reason": r.reason,
                          "write_status": w.status}}))
        """
    )
    (work / "driver.py").write_text(driver)
    (work / "driver.py").chmod(0o644)
    import json
    import subprocess

    proc = subprocess.run(
        [system_python, "-I", str(work / "driver.py")],
        user=65534,
        group=65534,
        extra_groups=[],
        cwd=str(work),
        env={"PATH": "/usr/bin:/bin", "HOME": str(work), "BAYESBENCH_SANDBOX_BACKEND": backend},
        capture_output=True,
        text=True,
        timeout=60,
    )
    try:
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        assert out["status"] == "failed" and "unreachable" in out["reason"].lower(), out
        assert "rlimits" in out["isolation"]
        assert {"userns", "netns", "pidns", "ro-host", "nosuid", "no-new-privs"} <= set(out["isolation"]), out
        assert out["write_status"] == "passed", out
        assert _leftovers(dirs, f"bb-unpriv-{token}") == []
        # pid namespace: the parent is invisible (native: the program is pid 1; bwrap: its init is)
        assert out["stdout"].strip() == ("1" if backend == "bwrap" else "0")
        assert ("bwrap" in out["isolation"]) == (backend == "bwrap")
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
        _remove(_leftovers(dirs, f"bb-unpriv-{token}"))


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path("/proc", entry, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path("/proc", str(pid), "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sandbox_dies_when_the_benchmark_process_dies(tmp_path):
    import subprocess

    driver = tmp_path / "driver.py"
    driver.write_text(
        "from bayesbench.scoring import SandboxLimits, run_in_sandbox\n"
        "run_in_sandbox('import time\\ntime.sleep(60)\\n', limits=SandboxLimits(cpu_seconds=5, wall_seconds=60))\n"
    )
    proc = subprocess.Popen([sys.executable, str(driver)])
    try:
        deadline = time.monotonic() + 30
        sandbox = []
        while time.monotonic() < deadline and not sandbox:
            for trampoline in _children(proc.pid):
                sandbox = [trampoline] + _children(trampoline)
                if len(sandbox) < 2:
                    sandbox = []
            time.sleep(0.05)
        assert len(sandbox) >= 2, "trampoline and sandboxed program never appeared"
        import json

        config = json.loads(Path("/proc", str(sandbox[0]), "cmdline").read_bytes().split(b"\0")[4])
        private_dir = Path(config["program_path"]).parent
        made = [private_dir, Path(config["fallback_workdir"])] + [Path(p) for p in config["cgroups"].values()]
        assert private_dir.is_dir()
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 8
        while (any(_alive(p) for p in sandbox) or any(p.exists() for p in made)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in sandbox)
        # the trampoline cleaned up what the dead benchmark process could not
        assert [p for p in made if p.exists()] == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_audit_hook_fallback_refuses_sockets(tmp_path):
    """The fallback used where no network namespace can be made, exercised directly."""
    import subprocess

    from bayesbench.scoring._sandbox_child import AUDIT_RUNNER

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        prog = tmp_path / "main.py"
        prog.write_text(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n")
        run = subprocess.run(
            [sys.executable, "-I", "-S", "-c", AUDIT_RUNNER, str(prog)], capture_output=True, text=True, timeout=30
        )
        assert run.returncode != 0
        assert "network access is disabled" in run.stderr
        with pytest.raises(socket.timeout):
            listener.accept()
        prog.write_text("print('ok', __name__)\n")
        run = subprocess.run(
            [sys.executable, "-I", "-S", "-c", AUDIT_RUNNER, str(prog)], capture_output=True, text=True, timeout=30
        )
        assert run.returncode == 0 and run.stdout == "ok __main__\n"


# --- The host's file systems stay untouched (defect 3) -------------------------------------------------

_WORLD_WRITABLE: list[str] = []


def _host_world_writable_dirs() -> list[str]:
    """Every world-writable directory on the host's file systems (walked once per test session)."""
    import stat

    if not _WORLD_WRITABLE:
        for top, dirs, _ in os.walk("/"):
            if top in ("/proc", "/sys"):  # kernel views, not file systems that keep files
                dirs[:] = []
                continue
            try:
                mode = os.lstat(top).st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode) and mode & stat.S_IWOTH:
                _WORLD_WRITABLE.append(top)
        assert "/tmp" in _WORLD_WRITABLE  # the walk works: /tmp is world-writable on every Linux host
    return list(_WORLD_WRITABLE)


_WRITE_EVERYWHERE = """
import json, os, sys
token, dirs = sys.argv[1], sys.argv[2:]
tried = {"wrote": 0, "blocked": 0}  # one summary line: a line per file overflows the output cap with many dirs
for d in dirs:
    for name, data in (("note", b"left by an earlier sandbox"), ("big", b"x" * (1024 * 1024))):
        path = os.path.join(d, "bb-probe-%s-%s" % (token, name))
        try:
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o4777)  # setuid, world-writable
            tried["wrote"] += 1
        except OSError:
            tried["blocked"] += 1
    try:
        os.mkdir(os.path.join(d, "bb-probe-%s-dir" % token), 0o1777)
    except OSError:
        pass
print(json.dumps(tried))
"""


def _leftovers(dirs: list[str], token: str) -> list[str]:
    return sorted(os.path.join(d, n) for d in dirs if os.path.isdir(d) for n in os.listdir(d) if token in n)


def _remove(paths: list[str]) -> None:
    import shutil

    for path in paths:
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.unlink(path)


def _argv_program(program: str, args: list[str]) -> str:
    return f"import sys\nsys.argv = ['main.py'] + {args!r}\n" + program


def test_writes_to_every_world_writable_host_dir_leave_nothing_behind():
    dirs = _host_world_writable_dirs()
    token = f"{os.getpid()}-{time.monotonic_ns()}"
    try:
        result = run_in_sandbox(_argv_program(_WRITE_EVERYWHERE, [token] + dirs), limits=FAST)
        assert result.status == "passed", result
        tried = json.loads(result.stdout.strip().splitlines()[-1])
        assert tried["wrote"] + tried["blocked"] == 2 * len(dirs), (tried, len(dirs))
        left = _leftovers(dirs, token)
        assert left == [], f"the sandbox left files on the host: {left}"
    finally:
        _remove(_leftovers(dirs, token))


def test_a_note_left_by_one_sandbox_cannot_be_read_by_the_next():
    dirs = _host_world_writable_dirs() + ["/tmp", "/var/tmp", "/dev/shm", "."]
    token = f"{os.getpid()}-{time.monotonic_ns()}"
    reader = textwrap.dedent(
        """
        import os, sys
        token, dirs = sys.argv[1], sys.argv[2:]
        for d in dirs:
            try:
                names = os.listdir(d)
            except OSError:
                continue
            for n in names:
                if token in n:
                    print("FOUND", os.path.join(d, n))
        """
    )
    try:
        first = run_in_sandbox(_argv_program(_WRITE_EVERYWHERE, [token] + dirs), limits=FAST)
        assert first.status == "passed", first
        assert json.loads(first.stdout.strip().splitlines()[-1])["wrote"] > 0  # its own private /tmp is writable: a note to find
        second = run_in_sandbox(_argv_program(reader, [token] + dirs), limits=FAST)
        assert second.status == "passed", second
        assert "FOUND" not in second.stdout, second.stdout
    finally:
        _remove(_leftovers(_host_world_writable_dirs(), token))


@pytest.mark.skipif(not ROOT, reason="needs root to plant a setuid-root binary on the host")
def test_setuid_binaries_do_not_elevate_and_no_new_privs_is_set():
    import shutil

    # A setuid-root copy of `id` on the host, somewhere the sandbox can see and execute: beside the base
    # interpreter it runs (a checkout under /tmp would not do: the sandbox's /tmp is its own tmpfs)
    planted = Path(os.path.realpath(sys.base_prefix)) / f"zz_setuid_probe_{os.getpid()}"
    planted.mkdir(mode=0o755)
    try:
        binary = planted / "id"
        shutil.copy("/usr/bin/id", binary)
        os.chown(binary, 0, 0)
        binary.chmod(0o4755)
        program = textwrap.dedent(
            f"""
            import os, subprocess
            print("euid", subprocess.run([{str(binary)!r}, "-u"], capture_output=True, text=True).stdout.strip())
            print("nnp", [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0])
            rows = [l.split() for l in open("/proc/self/mountinfo")]
            # the topmost mount at each mount point (one stacked under another is out of reach)
            covered = {{(r[4], r[1]) for r in rows}}
            top = [r for r in rows if (r[4], r[0]) not in covered]
            print("suid-mounts", sorted(r[4] for r in top if "nosuid" not in r[5].split(",")))
            """
        )
        result = run_in_sandbox(program, limits=FAST)
        assert result.status == "passed", result
        out = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
        assert out["euid"] != "0" and out["euid"].isdigit(), out
        assert out["nnp"] == "1"
        assert out["suid-mounts"] == "[]", out  # every mount the sandbox sees is nosuid
        assert {"ro-host", "nosuid", "no-new-privs"} <= set(result.isolation), result.isolation
    finally:
        shutil.rmtree(planted, ignore_errors=True)


# --- The CPU limit is exact (issue 7, item 12) ---------------------------------------------------------

# The kernel enforces RLIMIT_CPU on CPU time charged per scheduler tick, while cpu_s is the exact run
# time: on a contended machine the ticks run a few percent ahead, so the kill can come a little early
# (never late). Late by more than a tick's rounding would be the old bug (a full second over).
CPU_LATE_S = 0.3
CPU_EARLY_FRACTION = 0.15


@pytest.mark.parametrize("limit", [1, 2])
@pytest.mark.parametrize("ignores_sigxcpu", [False, True])
def test_cpu_limit_is_exact(limit, ignores_sigxcpu):
    program = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\n" if ignores_sigxcpu else ""
    program += "while True:\n    pass\n"
    limits = SandboxLimits(cpu_seconds=limit, wall_seconds=30 * limit, memory_mb=256)
    result = run_in_sandbox(program, limits=limits)
    assert result.status == "timeout" and "CPU limit" in result.reason, result
    assert result.cpu_s is not None
    assert limit * (1 - CPU_EARLY_FRACTION) <= result.cpu_s <= limit + CPU_LATE_S, result.cpu_s
