"""Trampoline that confines one untrusted program (run as ``python -I -S _sandbox_child.py CONFIG``).

This file is executed as a *script* by an isolated interpreter, never imported by the
library: it must use the standard library only. The parent (``_sandbox.py``) starts it in
a new session and passes one JSON argument. The trampoline

1. enters new namespaces where the kernel allows it (mount, pid, net, ipc, uts; plus a
   user namespace when we are not root),
2. forks the child that becomes pid 1 of the new pid namespace, so that when it dies the
   kernel kills every process it left behind (daemons, fork bombs),
3. in the child: private tmpfs on /tmp, /var/tmp, /dev/shm and over the user's home (the
   interpreter's prefix is bound back read-only if it lived there), a fresh /proc, the
   program copied into an empty working directory, resource limits, a throwaway uid when
   we are root, parent-death signal, then ``exec`` of ``python -I -S`` on the program,
4. waits and reports the outcome (exit code or signal, CPU seconds, peak RSS) as JSON
   lines on the status file descriptor.

Every step that the kernel refuses is skipped and *not* reported as applied, so the
parent can tell the user exactly which isolation was in force.
"""

import ctypes
import json
import os
import resource
import select
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1

WORKDIR_IN_NS = "/tmp/sandbox"

# Used by the fallback when no network namespace could be made: an audit hook (PEP 578)
# refuses socket creation. It stops Python-level networking only (ctypes or a spawned
# binary can get around it), which is why the parent reports it as a weaker mechanism.
AUDIT_RUNNER = """
import sys
def _bayesbench_no_network(event, args):
    if event.startswith("socket.") and event != "socket.gethostname":
        raise PermissionError("network access is disabled in the bayesbench sandbox")
sys.addaudithook(_bayesbench_no_network)
del _bayesbench_no_network
sys.argv = sys.argv[1:]
import runpy
runpy.run_path(sys.argv[0], run_name="__main__")
"""

_libc = ctypes.CDLL(None, use_errno=True)


def _report(fd, **event):
    try:
        os.write(fd, (json.dumps(event) + "\n").encode())
    except OSError:
        pass


def _unshare(flags):
    if _libc.unshare(ctypes.c_int(flags)) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def _mount(source, target, fstype, flags, data):
    def enc(s):
        return None if s is None else s.encode()

    rc = _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, "mount %s: %s" % (target, os.strerror(err)))


def _write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


def _enter_namespaces(cfg, applied):
    """Unshare what the kernel lets us; return the flags that took effect."""
    root = os.geteuid() == 0
    # No CLONE_NEWNS here: the child makes its own mount namespace, so the trampoline keeps
    # the host's view of /tmp and can clean up there if the benchmark process dies.
    base = CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    if not cfg["network"]:
        base |= CLONE_NEWNET
    attempts = [base] if root else [base | CLONE_NEWUSER]
    for flags in attempts:
        try:
            _unshare(flags)
        except OSError:
            continue
        if flags & CLONE_NEWUSER:
            uid, gid = cfg["outer_uid"], cfg["outer_gid"]
            # Map ourselves to root *inside* the namespace so that mounts are allowed.
            _write_file("/proc/self/setgroups", "deny")
            _write_file("/proc/self/uid_map", "0 %d 1" % uid)
            _write_file("/proc/self/gid_map", "0 %d 1" % gid)
            applied.append("userns")
        return flags
    return 0


def _setup_filesystem(cfg, applied):
    """Private mounts: returns the working directory the program will run in."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    keep = [p for p in cfg["keep_paths"] if os.path.isdir(p)]
    keep_fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in keep}
    size_mb = cfg["tmpfs_mb"]
    opts = "size=%dm,nr_inodes=4096,mode=1777" % size_mb
    for target in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(target):
            _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, opts)
    hidden = []
    for home in cfg["hide_paths"]:
        if os.path.isdir(home):
            _mount("tmpfs", home, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=256,mode=755")
            hidden.append(home)
    # Bring back (read-only) the interpreter prefix if hiding the home covered it.
    for path, fd in keep_fds.items():
        if any(path == h or path.startswith(h.rstrip("/") + "/") for h in hidden):
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount("/proc/self/fd/%d" % fd, path, None, MS_BIND | MS_REC, None)
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, None)
        os.close(fd)
    applied.append("private-tmp")
    if hidden:
        applied.append("hidden-home")
    os.makedirs(WORKDIR_IN_NS, mode=0o700)
    return WORKDIR_IN_NS


def _set_limits(cfg):
    def both(which, value):
        resource.setrlimit(which, (value, value))

    cpu = int(cfg["cpu_seconds"])
    # Soft limit sends SIGXCPU (a clean, recognisable death); the hard one SIGKILLs a
    # program that ignores it one second later.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    both(resource.RLIMIT_AS, cfg["memory_mb"] * 1024 * 1024)
    both(resource.RLIMIT_FSIZE, cfg["max_file_mb"] * 1024 * 1024)
    both(resource.RLIMIT_CORE, 0)
    both(resource.RLIMIT_NPROC, cfg["max_processes"])
    both(resource.RLIMIT_NOFILE, 256)


def _child(cfg, status_fd, alive_r, flags, applied):
    """Runs in the forked child; never returns (exec or _exit)."""
    try:
        os.set_inheritable(status_fd, False)
        # Join the per-sandbox cgroups first, so every later process is counted.
        for controller, path in sorted(cfg.get("cgroups", {}).items()):
            try:
                _write_file(os.path.join(path, "cgroup.procs"), "0")
                applied.append("cgroup-" + controller)
            except OSError:
                pass
        with open(cfg["program_path"], "rb") as f:
            program = f.read()
        # Open everything we need from the host before private mounts hide it.
        stdin_fd = None
        if cfg["stdin_path"] is not None:
            stdin_fd = os.open(cfg["stdin_path"], os.O_RDONLY)
        if flags & (CLONE_NEWPID | CLONE_NEWUSER) or os.geteuid() == 0:
            try:
                _unshare(CLONE_NEWNS)
                flags |= CLONE_NEWNS
            except OSError:
                pass
        if flags & CLONE_NEWNS:
            workdir = _setup_filesystem(cfg, applied)
            if flags & CLONE_NEWPID:
                try:
                    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
                    applied.append("private-proc")
                except OSError:
                    pass
        else:
            workdir = cfg["fallback_workdir"]
        main = os.path.join(workdir, "main.py")
        with open(main, "wb") as f:
            f.write(program)
        if stdin_fd is not None:
            os.dup2(stdin_fd, 0)
            os.close(stdin_fd)
        uid = cfg["sandbox_uid"]
        if uid is not None:
            os.chown(workdir, uid, uid)
            os.chown(main, uid, uid)
        os.chdir(workdir)
        _set_limits(cfg)
        applied.append("rlimits")
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            applied.append("uid")
        # Set after setuid: changing credentials clears the parent-death signal.
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if select.select([alive_r], [], [], 0)[0]:  # trampoline already gone
            os._exit(137)
        os.close(alive_r)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": workdir,
            "TMPDIR": workdir,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }
        argv = [cfg["python"], "-I", "-S", "-B", "-X", "utf8"]
        if flags & CLONE_NEWNET:
            applied.append("netns")
            argv.append(main)
        elif cfg["network"]:
            argv.append(main)
        else:
            applied.append("audit-hook-network")
            argv += ["-c", AUDIT_RUNNER, main]
        _report(status_fd, event="setup", isolation=applied, workdir=workdir)
        os.execve(cfg["python"], argv, env)
    except BaseException as exc:  # report and die: the parent scores this as "error"
        _report(status_fd, event="setup_error", message="%s: %s" % (type(exc).__name__, exc))
        os._exit(126)


def _orphan_cleanup(cfg):
    """The benchmark process died (so it cannot clean up): remove what it made for this run."""
    import shutil

    shutil.rmtree(os.path.dirname(cfg["program_path"]), ignore_errors=True)
    shutil.rmtree(cfg["fallback_workdir"], ignore_errors=True)
    for path in cfg.get("cgroups", {}).values():
        for _ in range(250):  # the pid namespace is torn down asynchronously: up to ~5 s
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError:
                select.select([], [], [], 0.02)


def main():
    cfg = json.loads(sys.argv[1])
    status_fd = cfg["status_fd"]
    state = {"child": 0, "orphaned": False}

    def on_parent_death(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough; never interrupt the cleanup
        state["orphaned"] = True
        if state["child"]:
            try:
                os.kill(state["child"], signal.SIGKILL)
            except ProcessLookupError:
                pass

    # If the benchmark process dies, take the sandbox down with it and clean up after it.
    # (The death signal is per *thread*: run_in_sandbox blocks its thread for the whole run.)
    signal.signal(signal.SIGTERM, on_parent_death)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != cfg["parent_pid"]:
        _orphan_cleanup(cfg)
        os._exit(137)
    applied = []
    flags = _enter_namespaces(cfg, applied)
    if flags & CLONE_NEWPID:
        applied.append("pidns")
    if flags & CLONE_NEWIPC:
        applied.append("ipcns")
    alive_r, alive_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.close(alive_w)
        _child(cfg, status_fd, alive_r, flags, applied)
    state["child"] = pid
    if state["orphaned"]:  # the parent died while we were forking
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os.close(alive_r)
    _report(status_fd, event="child", pid=pid)
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
    if state["orphaned"] or os.getppid() != cfg["parent_pid"]:
        _orphan_cleanup(cfg)
        os._exit(137)
    cpu = usage.ru_utime + usage.ru_stime
    common = {"cpu_s": round(cpu, 4), "maxrss_kb": usage.ru_maxrss}
    if os.WIFSIGNALED(status):
        _report(status_fd, event="signal", signal=os.WTERMSIG(status), **common)
    else:
        _report(status_fd, event="exit", code=os.WEXITSTATUS(status), **common)
    os._exit(0)


if __name__ == "__main__":
    main()
