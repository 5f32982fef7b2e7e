"""Run untrusted (model-written) Python in a separate, confined process.

The benchmark process never executes model code itself. ``run_in_sandbox`` writes the
program to a private directory and starts ``_sandbox_child.py`` (a stdlib-only trampoline)
in a new session; the trampoline applies namespaces, resource limits and a throwaway uid,
then execs ``python -I -S`` on the program. This module only launches, watches the wall
clock, kills, collects output and classifies the outcome. See docs/sandbox.md for what is
enforced where.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import ConfigError

__all__ = ["SandboxLimits", "SandboxResult", "run_in_sandbox"]

SandboxStatus = Literal["passed", "failed", "timeout", "memory", "error"]

_CHILD_SCRIPT = Path(__file__).with_name("_sandbox_child.py")
# Throwaway uids (root only): one per concurrent sandbox so RLIMIT_NPROC, which the kernel
# counts per uid, is per sandbox, and two sandboxes cannot read each other's files.
# 10**9 + (pid mod 2**20) * 1024 + counter stays below 2**31 and away from real accounts.
_UID_BASE = 1_000_000_000
_uid_counter = itertools.count()
_uid_lock = threading.Lock()


def _positive(name: str, value: object, *, integer: bool) -> None:
    ok_type = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_type) or not value > 0:
        kind = "a positive integer" if integer else "a positive number"
        raise ConfigError(f"`{name}` must be {kind}, got {value!r}")


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one sandboxed program.

    cpu_seconds: CPU time (RLIMIT_CPU; SIGXCPU at the limit, SIGKILL one second later). Default 5.
    wall_seconds: wall-clock time before the whole sandbox is killed. Default 10.
    memory_mb: address-space limit (RLIMIT_AS) in MiB. Default 512.
    max_processes: processes and threads of the sandbox uid (RLIMIT_NPROC). Default 32.
    max_file_mb: largest file the program may write, stdout/stderr included (RLIMIT_FSIZE). Default 10.
    max_output_kb: how much of stdout and of stderr is kept in the result (head and tail). Default 64.
    network: allow network access. Default False (a private network namespace with no interfaces up).
    """

    cpu_seconds: float = 5
    wall_seconds: float = 10
    memory_mb: int = 512
    max_processes: int = 32
    max_file_mb: int = 10
    max_output_kb: int = 64
    network: bool = False

    def __post_init__(self) -> None:
        _positive("cpu_seconds", self.cpu_seconds, integer=False)
        _positive("wall_seconds", self.wall_seconds, integer=False)
        for name in ("memory_mb", "max_processes", "max_file_mb", "max_output_kb"):
            _positive(name, getattr(self, name), integer=True)
        if self.memory_mb < 64:
            raise ConfigError(
                f"`memory_mb` must be at least 64 (the interpreter alone needs ~30 MiB of address space), "
                f"got {self.memory_mb}"
            )
        if not isinstance(self.network, bool):
            raise ConfigError(f"`network` must be True or False, got {self.network!r}")


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one sandboxed run.

    status: "passed" (exit 0), "failed" (non-zero exit, uncaught exception or fatal signal),
    "timeout" (wall clock or CPU limit), "memory" (MemoryError / address-space limit) or
    "error" (the sandbox itself could not be set up; not the program's fault).
    returncode: exit code, or minus the signal number, or None when killed on the wall clock.
    stdout / stderr: decoded output, cut to ``max_output_kb`` (head and tail kept) with a marker.
    isolation: the mechanisms that were actually in force (see docs/sandbox.md).
    """

    status: SandboxStatus
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float
    reason: str
    cpu_s: float | None = None
    max_rss_mb: float | None = None
    isolation: tuple[str, ...] = field(default_factory=tuple)
    sandbox_uid: int | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def _allocate_uid() -> int:
    with _uid_lock:
        n = next(_uid_counter) % 1024
    return _UID_BASE + (os.getpid() % (1 << 20)) * 1024 + n


def _read_capped(path: Path, limit: int) -> str:
    """Head and tail of a possibly huge output file, never reading it whole."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size <= limit:
            data = f.read()
            return data.decode("utf-8", errors="replace")
        half = limit // 2
        head = f.read(half)
        f.seek(size - half)
        tail = f.read(half)
    marker = f"\n[... truncated: {size - 2 * half} of {size} bytes omitted ...]\n"
    return head.decode("utf-8", errors="replace") + marker + tail.decode("utf-8", errors="replace")


def _read_status(fd: int) -> list[dict]:
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    events = []
    for line in b"".join(chunks).decode(errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def _homes_to_hide() -> list[str]:
    """$HOME and the account's home from the password database (they differ under sudo or tests)."""
    homes = {os.path.expanduser("~")}
    try:
        import pwd

        homes.add(pwd.getpwuid(os.geteuid()).pw_dir)
    except (ImportError, KeyError):
        pass
    return sorted({os.path.realpath(h) for h in homes if h and os.path.realpath(h) != "/"})


def _own_cgroup_v1(controller: str) -> Path | None:
    """Our cgroup directory for a cgroup-v1 controller, if that hierarchy is mounted here."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            base = Path("/sys/fs/cgroup", controller)
            return base / path.lstrip("/") if base.is_dir() else None
    return None


def _make_cgroups(name: str, limits: SandboxLimits) -> dict[str, Path]:
    """One child cgroup per controller with the sandbox's *total* limits (root, cgroup v1 only).

    Unlike the rlimits, which bind each process separately, these bound the whole sandbox:
    all its processes together get ``max_processes`` tasks and ``memory_mb`` of memory.
    Anything the kernel refuses is skipped (and not reported as enforced).
    """
    made: dict[str, Path] = {}
    settings = {
        "pids": {"pids.max": str(limits.max_processes)},
        "memory": {"memory.limit_in_bytes": str(limits.memory_mb * 1024 * 1024)},
    }
    for controller, files in settings.items():
        parent = _own_cgroup_v1(controller)
        if parent is None:
            continue
        path = parent / name
        try:
            path.mkdir()
        except OSError:
            continue
        try:
            for fname, value in files.items():
                (path / fname).write_text(value)
        except OSError:
            _remove_cgroup(path)
            continue
        made[controller] = path
    return made


def _remove_cgroup(path: Path) -> None:
    # The kernel tears a pid namespace down asynchronously; rmdir fails with EBUSY until then.
    deadline = time.monotonic() + 5
    while True:
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)


def _oom_killed(memory_cgroup: Path | None) -> bool:
    if memory_cgroup is None:
        return False
    try:
        for line in (memory_cgroup / "memory.oom_control").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and int(value) > 0:
                return True
        return int((memory_cgroup / "memory.failcnt").read_text()) > 0
    except (OSError, ValueError):
        return False


def _default_python() -> tuple[str, list[str]]:
    """The base interpreter (not the venv shim: -S needs no site-packages) and its prefix."""
    exe = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    return exe, [os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)]


def run_in_sandbox(
    program: str,
    *,
    limits: SandboxLimits = SandboxLimits(),
    stdin: str | None = None,
    python: str | None = None,
) -> SandboxResult:
    """Run ``program`` (Python source) in a confined child process and report what happened.

    limits: resource limits (default ``SandboxLimits()``).
    stdin: text fed to the program's standard input (default: empty, ``/dev/null``).
    python: interpreter to run the program with (default: this process's base interpreter,
        started with ``-I -S`` so it sees the standard library only).

    Never raises for anything the program does; the outcome is in the returned status.
    """
    if not isinstance(program, str):
        raise ConfigError(f"`program` must be Python source text (str), got {type(program).__name__}")
    if not isinstance(limits, SandboxLimits):
        raise ConfigError(f"`limits` must be a SandboxLimits, got {type(limits).__name__}")
    if stdin is not None and not isinstance(stdin, str):
        raise ConfigError(f"`stdin` must be a str or None, got {type(stdin).__name__}")
    if python is None:
        exe, keep = _default_python()
    else:
        exe = os.path.realpath(python)
        if not os.path.isfile(exe) or not os.access(exe, os.X_OK):
            raise ConfigError(f"`python` must be an executable interpreter, got {python!r}: not found or not executable")
        keep = [os.path.dirname(os.path.dirname(exe))]

    root = os.geteuid() == 0
    uid = _allocate_uid() if root else None
    private = Path(tempfile.mkdtemp(prefix="bayesbench-sbx-"))  # 0700, ours only
    cgroups = _make_cgroups(private.name, limits) if root else {}
    fallback_workdir = tempfile.mkdtemp(prefix="bayesbench-work-")  # used only without a mount namespace
    status_r, status_w = os.pipe()
    start = time.monotonic()
    try:
        (private / "program.py").write_text(program, encoding="utf-8")
        stdin_path = None
        if stdin is not None:
            stdin_path = str(private / "stdin.txt")
            Path(stdin_path).write_text(stdin, encoding="utf-8")
        hide = _homes_to_hide()
        cfg = {
            "status_fd": status_w,
            "parent_pid": os.getpid(),
            "program_path": str(private / "program.py"),
            "stdin_path": stdin_path,
            "python": exe,
            "keep_paths": sorted(set(keep)),
            "hide_paths": hide,
            "fallback_workdir": fallback_workdir,
            "sandbox_uid": uid,
            "outer_uid": os.getuid(),
            "outer_gid": os.getgid(),
            "network": limits.network,
            "cpu_seconds": max(1, int(-(-limits.cpu_seconds // 1))),
            "memory_mb": limits.memory_mb,
            "max_file_mb": limits.max_file_mb,
            "max_processes": limits.max_processes,
            "tmpfs_mb": 4 * limits.max_file_mb,
            "cgroups": {k: str(v) for k, v in cgroups.items()},
        }
        out_path, err_path = private / "stdout", private / "stderr"
        with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(_CHILD_SCRIPT), json.dumps(cfg)],
                stdin=subprocess.DEVNULL,
                stdout=out_f,
                stderr=err_f,
                pass_fds=(status_w,),
                start_new_session=True,
                close_fds=True,
                cwd=str(private),
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            )
        os.close(status_w)
        status_w = -1
        timed_out = False
        try:
            proc.wait(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            events = _read_status(status_r)
            child = next((e["pid"] for e in events if e.get("event") == "child"), None)
            # Killing pid 1 of the sandbox's pid namespace makes the kernel kill all of it;
            # killing the session catches the trampoline (and everything, without namespaces).
            for target in ([child] if child else []):
                try:
                    os.kill(target, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        else:
            events = []
        duration = time.monotonic() - start
        events += _read_status(status_r)
        cap = limits.max_output_kb * 1024
        stdout = _read_capped(out_path, cap)
        stderr = _read_capped(err_path, cap)
        oom = _oom_killed(cgroups.get("memory"))
    finally:
        for path in cgroups.values():
            _remove_cgroup(path)
        os.close(status_r)
        if status_w != -1:
            os.close(status_w)
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(fallback_workdir, ignore_errors=True)

    return _classify(events, timed_out, limits, stdout, stderr, duration, uid, oom)


def _classify(
    events: list[dict],
    timed_out: bool,
    limits: SandboxLimits,
    stdout: str,
    stderr: str,
    duration: float,
    uid: int | None,
    oom: bool = False,
) -> SandboxResult:
    by = {e.get("event"): e for e in events}
    setup = by.get("setup", {})
    isolation = tuple(setup.get("isolation", ()))
    end = by.get("exit") or by.get("signal") or {}
    cpu = end.get("cpu_s")
    rss = end.get("maxrss_kb")
    common = dict(
        stdout=stdout,
        stderr=stderr,
        duration_s=round(duration, 4),
        cpu_s=cpu,
        max_rss_mb=None if rss is None else round(rss / 1024, 2),
        isolation=isolation,
        sandbox_uid=uid,
    )
    if "setup_error" in by:
        msg = by["setup_error"].get("message", "unknown")
        return SandboxResult("error", None, reason=f"sandbox setup failed: {msg}", **common)
    if timed_out:
        return SandboxResult(
            "timeout", None, reason=f"wall-clock limit of {limits.wall_seconds:g} s exceeded", **common
        )
    if "signal" in by:
        sig = int(by["signal"]["signal"])
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu is not None and cpu >= limits.cpu_seconds):
            return SandboxResult("timeout", -sig, reason=f"CPU limit of {limits.cpu_seconds:g} s exceeded", **common)
        if sig == signal.SIGKILL and oom:
            return SandboxResult(
                "memory", -sig, reason=f"sandbox memory limit of {limits.memory_mb} MiB exceeded (OOM kill)", **common
            )
        return SandboxResult("failed", -sig, reason=f"killed by signal {name}", **common)
    if "exit" in by:
        code = int(by["exit"]["code"])
        if code == 0:
            return SandboxResult("passed", 0, reason="exit code 0", **common)
        last = _last_line(stderr)
        if last.startswith("MemoryError") or (oom and last.startswith("Killed")):
            return SandboxResult(
                "memory", code, reason=f"memory limit of {limits.memory_mb} MiB exceeded (MemoryError)", **common
            )
        return SandboxResult("failed", code, reason=last or f"exit code {code}", **common)
    return SandboxResult("error", None, reason="sandbox trampoline ended without reporting an outcome", **common)
