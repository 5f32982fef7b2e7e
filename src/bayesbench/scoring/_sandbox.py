"""Run untrusted (model-written) Python in a separate, confined process.

The benchmark process never executes model code itself. ``run_in_sandbox`` writes the
program to a private directory and starts ``_sandbox_child.py`` (a stdlib-only trampoline)
in a new session; the trampoline applies namespaces, resource limits and a throwaway uid,
then execs ``python -I -S`` on the program. This module only launches, watches the wall
clock, kills, collects output and classifies the outcome. See docs/sandbox.md for what is
enforced where.
"""

from __future__ import annotations

import dataclasses
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

__all__ = ["SandboxLimits", "SandboxResult", "available_backends", "run_in_sandbox"]

SandboxStatus = Literal["passed", "failed", "timeout", "memory", "error"]
Backend = Literal["auto", "native", "bwrap"]
BACKENDS = ("auto", "native", "bwrap")
BACKEND_ENV = "BAYESBENCH_SANDBOX_BACKEND"
BWRAP = "/usr/bin/bwrap"

# The kernel enforces RLIMIT_CPU on tick-charged CPU time; the cpu_s we read (rusage or cpuacct)
# is exact run time, which on a contended CPU trails the ticks by a few percent. A SIGKILL this
# close to the limit is the limit.
_CPU_EARLY_FRACTION = 0.2
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

    cpu_seconds: CPU time per process (RLIMIT_CPU, rounded up to whole seconds; SIGKILL at the limit). Default 5.
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
    backend: "native" (the built-in namespaces) or "bwrap" (bubblewrap).
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
    backend: str = "native"

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
        "cpuacct": {},  # accounting only: the CPU time of everything in the sandbox
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


def available_backends() -> tuple[str, ...]:
    """The sandbox backends this machine can run: "native" always, "bwrap" when bubblewrap is installed."""
    return ("native", "bwrap") if os.access(BWRAP, os.X_OK) else ("native",)


def resolve_backend(backend: str) -> str:
    """The concrete backend for ``backend``: "auto" follows $BAYESBENCH_SANDBOX_BACKEND, else bwrap if installed."""
    if backend not in BACKENDS:
        raise ConfigError(f"`backend` must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
    if backend == "auto":
        backend = os.environ.get(BACKEND_ENV) or "auto"
        if backend not in BACKENDS:
            raise ConfigError(f"${BACKEND_ENV} must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "auto":
        return available_backends()[-1]
    if backend not in available_backends():
        raise ConfigError(
            f"`backend='{backend}'` needs bubblewrap at {BWRAP}: install it (apt-get install -y bubblewrap) "
            f"or use backend='native'"
        )
    return backend


class ChannelError(Exception):
    """A call across the sandbox boundary got no answer: ``kind`` is "timeout", "ended" or "failed"."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


class Sandbox:
    """One started sandbox process; ``finish()`` waits for it, cleans up and classifies the outcome.

    With ``channel=True`` the program gets a request pipe on fd 3 and a reply pipe on fd 4, and
    ``call`` sends one JSON line and reads one back before the wall-clock deadline. Use as a
    context manager: leaving it always kills what is left and removes the files.
    """

    max_reply_bytes = 8 * 1024 * 1024

    def __init__(
        self,
        program: str,
        *,
        limits: SandboxLimits = SandboxLimits(),
        stdin: str | None = None,
        python: str | None = None,
        backend: str = "auto",
        channel: bool = False,
    ) -> None:
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
                raise ConfigError(
                    f"`python` must be an executable interpreter, got {python!r}: not found or not executable"
                )
            keep = [os.path.dirname(os.path.dirname(exe))]
        self.backend = resolve_backend(backend)
        self.limits = limits
        self._fds: list[int] = []
        self._proc: subprocess.Popen | None = None
        self._events: list[dict] = []
        self._timed_out = False
        self._buffer = b""
        root = os.geteuid() == 0
        self.uid = _allocate_uid() if root else None
        self._private = Path(tempfile.mkdtemp(prefix="bayesbench-sbx-"))  # 0700, ours only
        self._fallback = tempfile.mkdtemp(prefix="bayesbench-work-")  # used only without a mount namespace
        self._cgroups = _make_cgroups(self._private.name, limits) if root else {}
        try:
            self._start(program, stdin, exe, keep, channel)
        except BaseException:
            self._cleanup()
            raise

    def _pipe(self) -> tuple[int, int]:
        r, w = os.pipe()
        self._fds += [r, w]
        return r, w

    def _close(self, fd: int) -> None:
        if fd in self._fds:
            self._fds.remove(fd)
            os.close(fd)

    def _start(self, program: str, stdin: str | None, exe: str, keep: list[str], channel: bool) -> None:
        limits = self.limits
        self._status_r, status_w = self._pipe()
        passed = [status_w]
        channel_fds = None
        self._req_w = self._rep_r = -1
        if channel:
            req_r, self._req_w = self._pipe()
            os.set_blocking(self._req_w, False)  # a program that never reads must not block us
            self._rep_r, rep_w = self._pipe()
            channel_fds = [req_r, rep_w]
            passed += channel_fds
        (self._private / "program.py").write_text(program, encoding="utf-8")
        stdin_path = None
        if stdin is not None:
            stdin_path = str(self._private / "stdin.txt")
            Path(stdin_path).write_text(stdin, encoding="utf-8")
        cfg = {
            "backend": self.backend,
            "bwrap": BWRAP,
            "status_fd": status_w,
            "channel_fds": channel_fds,
            "parent_pid": os.getpid(),
            "program_path": str(self._private / "program.py"),
            "stdin_path": stdin_path,
            "python": exe,
            "keep_paths": sorted(set(keep)),
            "hide_paths": _homes_to_hide(),
            "fallback_workdir": self._fallback,
            "sandbox_uid": self.uid,
            "outer_uid": os.getuid(),
            "outer_gid": os.getgid(),
            "network": limits.network,
            "cpu_seconds": max(1, int(-(-limits.cpu_seconds // 1))),
            "memory_mb": limits.memory_mb,
            "max_file_mb": limits.max_file_mb,
            "max_processes": limits.max_processes,
            "tmpfs_mb": 4 * limits.max_file_mb,
            "cgroups": {k: str(v) for k, v in self._cgroups.items()},
        }
        self._out_path, self._err_path = self._private / "stdout", self._private / "stderr"
        self.start = time.monotonic()
        self.deadline = self.start + limits.wall_seconds
        with open(self._out_path, "wb") as out_f, open(self._err_path, "wb") as err_f:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(_CHILD_SCRIPT), json.dumps(cfg)],
                stdin=subprocess.DEVNULL,
                stdout=out_f,
                stderr=err_f,
                pass_fds=tuple(passed),
                start_new_session=True,
                close_fds=True,
                cwd=str(self._private),
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            )
        for fd in passed:  # only the sandbox holds these ends now, so its death is an EOF here
            self._close(fd)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self.kill()
            self._kill_session()
            self._proc.wait(timeout=10)
        self._cleanup()

    def call(self, message: bytes) -> bytes:
        """Send one request line, return one reply line; ``ChannelError`` (sandbox killed) on any failure."""
        import select

        try:
            view = memoryview(message)
            while view:
                left = self.deadline - time.monotonic()
                if left <= 0 or not select.select([], [self._req_w], [], left)[1]:
                    raise self._fail("timeout", "no answer within the wall-clock limit")
                try:
                    view = view[os.write(self._req_w, view[:65536]):]
                except BlockingIOError:  # select saw room for less than we offered
                    continue
            while b"\n" not in self._buffer:
                left = self.deadline - time.monotonic()
                if left <= 0 or not select.select([self._rep_r], [], [], left)[0]:
                    raise self._fail("timeout", "no answer within the wall-clock limit")
                chunk = os.read(self._rep_r, 1 << 20)
                if not chunk:
                    raise self._fail("ended", "the program ended before answering")
                self._buffer += chunk
                if len(self._buffer) > self.max_reply_bytes:
                    raise self._fail("failed", f"reply larger than {self.max_reply_bytes} bytes")
        except (BrokenPipeError, ConnectionError):
            raise self._fail("ended", "the program ended before answering") from None
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _fail(self, kind: str, reason: str) -> ChannelError:
        if kind == "timeout":
            self._timed_out = True
        if kind != "ended":
            self.kill()
        return ChannelError(kind, reason)

    def kill(self) -> None:
        """SIGKILL the sandbox: its pid 1 (or bwrap), so the kernel ends the whole pid namespace.

        The trampoline survives to report the outcome; before it has named its child, or where
        there is no pid namespace, ``finish`` also kills the session (every other descendant).
        """
        assert self._proc is not None
        self._events += _read_status(self._status_r)
        child = next((e["pid"] for e in self._events if e.get("event") == "child"), None)
        if child is None:
            self._kill_session()
            return
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _kill_session(self) -> None:
        assert self._proc is not None
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def finish(self, *, grace_s: float | None = None) -> SandboxResult:
        """Wait (until the deadline, or ``grace_s``), kill what is left, clean up and classify."""
        assert self._proc is not None
        if self._req_w != -1:
            self._close(self._req_w)  # EOF: a serving program ends its loop
            self._req_w = -1
        left = max(0.0, self.deadline - time.monotonic())
        try:
            self._proc.wait(timeout=left if grace_s is None else min(left, grace_s))
        except subprocess.TimeoutExpired:
            if grace_s is None or left <= grace_s:
                self._timed_out = True
            self.kill()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill_session()
                self._proc.wait(timeout=10)
        duration = time.monotonic() - self.start
        try:
            self._events += _read_status(self._status_r)
            if not any("pidns" in e.get("isolation", ()) for e in self._events):
                self._kill_session()  # no pid namespace: descendants may have outlived pid 1
            cap = self.limits.max_output_kb * 1024
            stdout = _read_capped(self._out_path, cap)
            stderr = _read_capped(self._err_path, cap)
            oom = _oom_killed(self._cgroups.get("memory"))
        finally:
            self._cleanup()
        result = _classify(self._events, self._timed_out, self.limits, stdout, stderr, duration, self.uid, oom)
        return dataclasses.replace(result, backend=self.backend)

    def _cleanup(self) -> None:
        for path in self._cgroups.values():
            _remove_cgroup(path)
        self._cgroups = {}
        for fd in list(self._fds):
            self._close(fd)
        shutil.rmtree(self._private, ignore_errors=True)
        shutil.rmtree(self._fallback, ignore_errors=True)


def run_in_sandbox(
    program: str,
    *,
    limits: SandboxLimits = SandboxLimits(),
    stdin: str | None = None,
    python: str | None = None,
    backend: Backend = "auto",
) -> SandboxResult:
    """Run ``program`` (Python source) in a confined child process and report what happened.

    limits: resource limits (default ``SandboxLimits()``).
    stdin: text fed to the program's standard input (default: empty, ``/dev/null``).
    python: interpreter to run the program with (default: this process's base interpreter,
        started with ``-I -S`` so it sees the standard library only).
    backend: "native" (built-in namespaces), "bwrap" (bubblewrap) or "auto" (default:
        $BAYESBENCH_SANDBOX_BACKEND if set, else bubblewrap when installed, else native).

    Never raises for anything the program does; the outcome is in the returned status.
    """
    with Sandbox(program, limits=limits, stdin=stdin, python=python, backend=backend) as box:
        return box.finish()


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
    isolation = tuple(dict.fromkeys(t for e in events if e.get("event") == "setup" for t in e.get("isolation", ())))
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
        detail = _last_line(stderr)
        reason = f"sandbox setup failed: {msg}" + (f" ({detail})" if detail else "")
        return SandboxResult("error", None, reason=reason, **common)
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
        if sig == signal.SIGKILL and oom:
            return SandboxResult(
                "memory", -sig, reason=f"sandbox memory limit of {limits.memory_mb} MiB exceeded (OOM kill)", **common
            )
        # RLIMIT_CPU is whole seconds: the kernel SIGKILLs at ceil(cpu_seconds) of CPU time.
        cpu_limit = max(1, -(-limits.cpu_seconds // 1))
        near_limit = cpu is not None and cpu >= cpu_limit * (1 - _CPU_EARLY_FRACTION)
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and near_limit):
            return SandboxResult("timeout", -sig, reason=f"CPU limit of {limits.cpu_seconds:g} s exceeded", **common)
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
