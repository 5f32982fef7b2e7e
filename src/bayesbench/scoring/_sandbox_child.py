"""Trampoline that confines one untrusted program (run as ``python -I -S _sandbox_child.py CONFIG``).

This file is executed as a *script* by an isolated interpreter, never imported by the
library: it must use the standard library only. The parent (``_sandbox.py``) starts it in
a new session and passes one JSON argument. The trampoline

1. enters new namespaces where the kernel allows it (mount, pid, net, ipc, uts; plus a
   user namespace when we are not root),
2. forks the child that becomes pid 1 of the new pid namespace, so that when it dies the
   kernel kills every process it left behind (daemons, fork bombs),
3. in the child: every mount of the host re-mounted read-only and nosuid (nodev outside
   /dev) in a private mount namespace, then private tmpfs on /tmp, /var/tmp, /dev/shm and
   over the user's home (the interpreter's prefix is bound back read-only if it lived
   there), a fresh /proc, the program copied into an empty working directory, resource
   limits, a throwaway uid when we are root, no_new_privs, parent-death signal, then
   ``exec`` of ``python -I -S`` on the program (or of bubblewrap, which builds the same
   confinement itself, when the backend is "bwrap"),
4. waits and reports the outcome (exit code or signal, CPU seconds, peak RSS) as JSON
   lines on the status file descriptor.

Every step that the kernel refuses is skipped and *not* reported as applied, so the
parent can tell the user exactly which isolation was in force.
"""

import ctypes
import fcntl
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
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
# Per-mount options of /proc/self/mountinfo that a bind remount must keep (the kernel locks
# them in a user namespace) or that we add.
MOUNT_OPTION_FLAGS = {
    "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME,
}
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
HIGH_FD = 100  # where the child parks the descriptors it keeps until exec
CHANNEL_FDS = (3, 4)  # request (read) and reply (write) ends, as the program sees them

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


def _unescape(field):
    """mountinfo escapes space, tab, newline and backslash as octal (\\040)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def host_mounts():
    """(mount point, per-mount options) of every mount this process sees, from /proc/self/mountinfo."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mounts.append((_unescape(fields[4]), set(fields[5].split(","))))
    return mounts


def _seal_host_mounts():
    """Every host mount read-only and nosuid in this mount namespace (nodev too, outside /dev).

    This covers every world-writable directory of every host file system (``/run/lock``,
    ``/var/tmp``, ``/dev/mqueue``, ...) without naming any: the enumeration is the mount table.
    A bind remount changes only this namespace's copy of a mount, never the host's. Mounts
    under /proc are skipped (a fresh /proc replaces them). Any failure aborts the sandbox.
    """
    for point, options in host_mounts():
        if point == "/proc" or point.startswith("/proc/"):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID
        for name, flag in MOUNT_OPTION_FLAGS.items():
            if name in options:
                flags |= flag
        if not (point == "/dev" or point.startswith("/dev/")):
            flags |= MS_NODEV  # device nodes are needed only in /dev (/dev/null, /dev/urandom)
        try:
            _mount(None, point, None, flags, None)
        except OSError as exc:
            if exc.errno == 2:  # a mount point that vanished since the table was read
                continue
            raise


def _hide_homes(cfg):
    """tmpfs over the caller's homes, the interpreter prefix bound back read-only if it was inside."""
    keep = [p for p in cfg["keep_paths"] if os.path.isdir(p)]
    keep_fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in keep}
    hidden = []
    for home in cfg["hide_paths"]:
        if os.path.isdir(home):
            _mount("tmpfs", home, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=256,mode=755")
            hidden.append(home)
    for path, fd in keep_fds.items():
        if any(path == h or path.startswith(h.rstrip("/") + "/") for h in hidden):
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount("/proc/self/fd/%d" % fd, path, None, MS_BIND | MS_REC, None)
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
        os.close(fd)
    return hidden


def _setup_filesystem(cfg, applied):
    """Private mounts: returns the working directory the program will run in."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    _seal_host_mounts()
    applied += ["ro-host", "nosuid"]
    opts = "size=%dm,nr_inodes=4096,mode=1777" % cfg["tmpfs_mb"]
    for target in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(target):
            _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, opts)
    applied.append("private-tmp")
    if _hide_homes(cfg):
        applied.append("hidden-home")
    os.makedirs(WORKDIR_IN_NS, mode=0o700)
    return WORKDIR_IN_NS


def _set_limits(cfg):
    def both(which, value):
        resource.setrlimit(which, (value, value))

    # Soft = hard: the kernel SIGKILLs at the limit itself. (A soft limit's SIGXCPU is ignored
    # by pid 1 of a pid namespace and can be caught, which made the limit one second longer.)
    both(resource.RLIMIT_CPU, int(cfg["cpu_seconds"]))
    both(resource.RLIMIT_AS, cfg["memory_mb"] * 1024 * 1024)
    both(resource.RLIMIT_FSIZE, cfg["max_file_mb"] * 1024 * 1024)
    both(resource.RLIMIT_CORE, 0)
    both(resource.RLIMIT_NPROC, cfg["max_processes"])
    both(resource.RLIMIT_NOFILE, 256)


def _park(fd):
    """A close-on-exec copy of ``fd`` above the low numbers the program will see; closes ``fd``."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, HIGH_FD)
    os.close(fd)
    return high


def _bwrap_argv(cfg, program, bwrap_status_fd, homes_hidden):
    """bubblewrap's command line: the same confinement as the native backend, built by bwrap.

    The program reaches bwrap through a memfd (opened here, so the sandbox uid needs no access
    to our private directory). As root the homes are already hidden in our own mount namespace
    (bwrap, running as the sandbox uid, could not enter /root to bind the interpreter back);
    otherwise bwrap hides them itself.
    """
    memfd = _park(os.memfd_create("bayesbench-program", 0))  # above 3 and 4, which the channel takes
    os.write(memfd, program)
    os.lseek(memfd, 0, os.SEEK_SET)
    bwrap_status_fd = _park(bwrap_status_fd)
    tmpfs = str(cfg["tmpfs_mb"] * 1024 * 1024)
    argv = [cfg["bwrap"], "--unshare-all", "--die-with-parent", "--new-session"]
    if cfg["network"]:
        argv.append("--share-net")
    argv += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for target in ("/tmp", "/var/tmp", "/dev/shm"):
        argv += ["--size", tmpfs, "--tmpfs", target]
    if not homes_hidden:
        hidden = [h for h in cfg["hide_paths"] if os.path.isdir(h)]
        for home in hidden:
            argv += ["--size", str(1024 * 1024), "--tmpfs", home]
        for path in cfg["keep_paths"]:
            if os.path.isdir(path) and any(path == h or path.startswith(h.rstrip("/") + "/") for h in hidden):
                argv += ["--ro-bind", path, path]
    argv += ["--dir", WORKDIR_IN_NS, "--chdir", WORKDIR_IN_NS, "--perms", "0444",
             "--ro-bind-data", str(memfd), WORKDIR_IN_NS + "/main.py",
             "--json-status-fd", str(bwrap_status_fd), "--"]
    return argv, [memfd, bwrap_status_fd]


def _bwrap_tags(cfg):
    """What bubblewrap enforces with the command line above (claimed once it reports running)."""
    tags = ["bwrap", "userns", "pidns", "ipcns", "private-tmp", "ro-host", "nosuid", "private-proc"]
    if any(os.path.isdir(h) for h in cfg["hide_paths"]):
        tags.append("hidden-home")
    if not cfg["network"]:
        tags.append("netns")
    return tags


def _bwrap_status(fd):
    """The JSON documents bubblewrap wrote on its status descriptor, merged into one dict."""
    data = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    text, merged, decoder, i = data.decode(errors="replace"), {}, json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return merged
        try:
            doc, i = decoder.raw_decode(text, i)
        except ValueError:
            return merged
        if isinstance(doc, dict):
            merged.update(doc)


def _child(cfg, status_fd, alive_r, flags, applied, bwrap_status_fd):
    """Runs in the forked child; never returns (exec or _exit)."""
    try:
        status_fd = _park(status_fd)
        alive_r = _park(alive_r)
        channel = [_park(fd) for fd in cfg["channel_fds"] or ()]
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
        bwrap = cfg["backend"] == "bwrap"
        if not bwrap and (flags & (CLONE_NEWPID | CLONE_NEWUSER) or os.geteuid() == 0):
            try:
                _unshare(CLONE_NEWNS)
                flags |= CLONE_NEWNS
            except OSError:
                pass
        inherit = []
        if bwrap:
            workdir = WORKDIR_IN_NS
            homes_hidden = False
            if os.geteuid() == 0:
                _unshare(CLONE_NEWNS)
                _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
                _hide_homes(cfg)
                homes_hidden = True
            prefix, inherit = _bwrap_argv(cfg, program, bwrap_status_fd, homes_hidden)
        elif flags & CLONE_NEWNS:
            workdir = _setup_filesystem(cfg, applied)
            if flags & CLONE_NEWPID:
                try:
                    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
                    applied.append("private-proc")
                except OSError:
                    pass
        else:
            workdir = cfg["fallback_workdir"]
        uid = cfg["sandbox_uid"]
        if not bwrap:
            main = os.path.join(workdir, "main.py")
            with open(main, "wb") as f:
                f.write(program)
            if uid is not None:
                os.chown(workdir, uid, uid)
                os.chown(main, uid, uid)
            os.chdir(workdir)
        else:
            os.chdir("/")
        if stdin_fd is not None:
            os.dup2(stdin_fd, 0)
            os.close(stdin_fd)
        _set_limits(cfg)
        applied.append("rlimits")
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            applied.append("uid")
        # No exec from here on can gain privileges (setuid/setgid bits, file capabilities).
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        applied.append("no-new-privs")
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
        main = os.path.join(workdir, "main.py")
        argv = [cfg["python"], "-I", "-S", "-B", "-X", "utf8"]
        if bwrap:
            argv = prefix + argv + [main]
            for fd in inherit:
                os.set_inheritable(fd, True)
        elif flags & CLONE_NEWNET:
            applied.append("netns")
            argv.append(main)
        elif cfg["network"]:
            argv.append(main)
        else:
            applied.append("audit-hook-network")
            argv += ["-c", AUDIT_RUNNER, main]
        _report(status_fd, event="setup", isolation=applied, workdir=workdir)
        for fd, target in zip(channel, CHANNEL_FDS):
            os.dup2(fd, target)  # inheritable: the program's request and reply pipes
        os.execve(argv[0], argv, env)
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
    bwrap = cfg["backend"] == "bwrap"
    flags = 0 if bwrap else _enter_namespaces(cfg, applied)  # bwrap makes its own namespaces
    if flags & CLONE_NEWPID:
        applied.append("pidns")
    if flags & CLONE_NEWIPC:
        applied.append("ipcns")
    bwrap_r, bwrap_w = os.pipe() if bwrap else (-1, -1)
    alive_r, alive_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.close(alive_w)
        if bwrap:
            os.close(bwrap_r)
        _child(cfg, status_fd, alive_r, flags, applied, bwrap_w)
    state["child"] = pid
    for fd in (cfg["channel_fds"] or []) + ([bwrap_w] if bwrap else []):
        os.close(fd)  # the sandbox's ends: its death must be an EOF for the parent
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
    if "cpuacct" in cfg["cgroups"]:
        # Exact (rusage samples at ticks), and bwrap's monitor never collects its pid 1's rusage.
        try:
            with open(os.path.join(cfg["cgroups"]["cpuacct"], "cpuacct.usage")) as f:
                common["cpu_s"] = round(int(f.read()) / 1e9, 4)
        except (OSError, ValueError):
            pass
    if bwrap:
        # bwrap writes "exit-code" only if the program ran; without it (and not killed by us)
        # the sandbox never started. Its stderr, which the program could forge, is not consulted.
        reported = _bwrap_status(bwrap_r)
        code = reported.get("exit-code")
        if not os.WIFSIGNALED(status) and not isinstance(code, int):
            _report(status_fd, event="setup_error", message="bubblewrap could not start the sandbox")
            os._exit(0)
        _report(status_fd, event="setup", isolation=_bwrap_tags(cfg))
        if isinstance(code, int) and not os.WIFSIGNALED(status):
            if code > 128:  # bwrap's pid 1 passes on "killed by signal N" as exit code 128 + N
                _report(status_fd, event="signal", signal=code - 128, **common)
            else:
                _report(status_fd, event="exit", code=code, **common)
            os._exit(0)
    if os.WIFSIGNALED(status):
        _report(status_fd, event="signal", signal=os.WTERMSIG(status), **common)
    else:
        _report(status_fd, event="exit", code=os.WEXITSTATUS(status), **common)
    os._exit(0)


if __name__ == "__main__":
    main()
