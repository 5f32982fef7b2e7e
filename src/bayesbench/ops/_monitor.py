"""A background thread that samples what a run uses: CPU (the process and its children, and the system),
resident memory, and GPU utilisation/memory when NVML answers.

psutil is imported when a monitor starts, NVML (``pynvml`` from ``nvidia-ml-py``, extra ``gpu``) only then too;
a missing ``pynvml``, a machine without a GPU or a failing NVML call all give "no GPU data" (``None`` fields),
never an error. Memory stays bounded: past :attr:`ResourceMonitor.max_samples` samples every other one is
dropped and the interval doubles (so a long run keeps an even picture of its whole length).

This module imports nothing from the engine: the engine starts and stops a monitor around every run.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, MissingDependencyError

SAMPLE_KEYS = ("t_s", "process_cpu_percent", "system_cpu_percent", "rss_bytes", "gpu_util_percent",
               "gpu_memory_bytes")


@dataclass(frozen=True)
class ResourceReport:
    """What a run used, sampled every ``interval_s`` seconds (the last interval the monitor used).

    ``samples`` are dicts with the keys of :data:`SAMPLE_KEYS`: ``t_s`` (seconds since the start),
    ``process_cpu_percent`` (the process and its children since the previous sample; 100 = one core busy),
    ``system_cpu_percent`` (all cores, 0..100), ``rss_bytes`` (the process plus its live children) and the
    GPU fields (None without GPU data). ``gpu`` is None without GPU data, else the devices and their peaks.
    ``cpu_seconds`` is the CPU time the process and its children used between start and stop.
    """

    interval_s: float
    samples: list[dict[str, Any]]
    duration_s: float
    cpu_seconds: float
    gpu: dict[str, Any] | None = None
    pid: int = 0
    method: str = field(default="psutil sampling thread", repr=False)

    @property
    def peak_rss_bytes(self) -> int | None:
        values = [s["rss_bytes"] for s in self.samples if s["rss_bytes"] is not None]
        return max(values) if values else None

    @property
    def mean_process_cpu_percent(self) -> float | None:
        """CPU seconds over wall seconds (x100): the time-weighted mean of the samples."""
        if self.duration_s <= 0:
            return None
        return 100.0 * self.cpu_seconds / self.duration_s

    @property
    def n(self) -> int:
        return len(self.samples)

    def to_dict(self) -> dict[str, Any]:
        """The shape the plots render: interval_s, samples, peak_rss_bytes, mean_process_cpu_percent, gpu."""
        return {
            "interval_s": float(self.interval_s),
            "samples": [dict(s) for s in self.samples],
            "peak_rss_bytes": self.peak_rss_bytes,
            "mean_process_cpu_percent": self.mean_process_cpu_percent,
            "gpu": None if self.gpu is None else dict(self.gpu),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResourceReport:
        """Back from :meth:`to_dict` (e.g. a stored run); ``cpu_seconds`` from the mean and the last ``t_s``."""
        samples = [dict(s) for s in data.get("samples") or []]
        duration = float(samples[-1]["t_s"]) if samples else 0.0
        mean = data.get("mean_process_cpu_percent")
        return cls(interval_s=float(data["interval_s"]), samples=samples, duration_s=duration,
                   cpu_seconds=0.0 if mean is None else float(mean) * duration / 100.0, gpu=data.get("gpu"))

    def summary(self) -> str:
        peak = self.peak_rss_bytes
        mean = self.mean_process_cpu_percent
        text = (f"resources: {self.n} samples over {self.duration_s:.1f} s (every {self.interval_s:g} s), "
                f"process CPU mean {'-' if mean is None else f'{mean:.0f}'} % ({self.cpu_seconds:.2f} CPU s), "
                f"peak RSS {'-' if peak is None else f'{peak / 2**20:.0f} MiB'}")
        if self.gpu is None:
            return text + ", no GPU data"
        return (text + f", GPU util peak {self.gpu.get('peak_util_percent')} %, "
                f"GPU memory peak {(self.gpu.get('peak_memory_bytes') or 0) / 2**20:.0f} MiB")

    def to_dataframe(self) -> Any:
        from ..engine._results import _dataframe

        return _dataframe(self.to_dict()["samples"], "ResourceReport.to_dataframe()")

    @staticmethod
    def merged(reports: list[ResourceReport]) -> ResourceReport | None:
        """One report over runs that followed each other (times shifted to continue), or None if none."""
        reports = [r for r in reports if r is not None]
        if not reports:
            return None
        if len(reports) == 1:
            return reports[0]
        samples: list[dict[str, Any]] = []
        offset = 0.0
        for r in reports:
            samples.extend(dict(s, t_s=s["t_s"] + offset) for s in r.samples)
            offset += r.duration_s
        gpus = [r.gpu for r in reports if r.gpu is not None]
        return ResourceReport(interval_s=max(r.interval_s for r in reports), samples=samples, duration_s=offset,
                              cpu_seconds=sum(r.cpu_seconds for r in reports), gpu=_merge_gpu(gpus))


def _merge_gpu(gpus: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not gpus:
        return None
    return {"devices": gpus[0].get("devices", []),
            "peak_util_percent": max((g.get("peak_util_percent") or 0) for g in gpus),
            "peak_memory_bytes": max((g.get("peak_memory_bytes") or 0) for g in gpus)}


class _Gpu:
    """NVML, or nothing: every failure turns the GPU fields off for the rest of the run."""

    def __init__(self) -> None:
        self.handles: list[Any] = []
        self.devices: list[dict[str, Any]] = []
        self.error: str | None = None
        self._nvml: Any = None
        try:
            import pynvml  # nvidia-ml-py, extra "gpu"
        except ImportError:
            self.error = 'nvidia-ml-py is not installed (pip install "bayesbench[gpu]")'
            return
        try:
            pynvml.nvmlInit()
            self._nvml = pynvml
            for i in range(pynvml.nvmlDeviceGetCount()):
                handle = pynvml.nvmlDeviceGetHandleByIndex(i)
                name = pynvml.nvmlDeviceGetName(handle)
                total = pynvml.nvmlDeviceGetMemoryInfo(handle).total
                self.handles.append(handle)
                self.devices.append({"index": i, "name": name.decode() if isinstance(name, bytes) else str(name),
                                     "memory_total_bytes": int(total)})
        except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ... : no GPU data
            self.error = f"NVML unavailable: {exc}"
            self.handles = []
            self.devices = []
            self.close()

    @property
    def available(self) -> bool:
        """NVML found devices when the monitor started (even if it failed later)."""
        return bool(self.devices)

    def sample(self) -> tuple[float | None, int | None]:
        """(mean utilisation % over the devices, memory used in bytes summed over them), or (None, None)."""
        if not self.handles:
            return None, None
        try:
            utils = [self._nvml.nvmlDeviceGetUtilizationRates(h).gpu for h in self.handles]
            used = [self._nvml.nvmlDeviceGetMemoryInfo(h).used for h in self.handles]
        except Exception as exc:  # a GPU that fails mid-run: no more GPU data, the run goes on
            self.error = f"NVML failed during the run: {exc}"
            self.handles = []  # the devices stay known; the samples from now on have no GPU data
            return None, None
        return float(sum(utils)) / len(utils), int(sum(used))

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass
            self._nvml = None


class ResourceMonitor:
    """Sample CPU, memory and GPU use of a process (default: this one) in a background thread.

    ``monitor.start()`` ... ``report = monitor.stop()``, or ``with ResourceMonitor() as m: ...`` then
    ``m.report``. A sample is always taken at start and at stop, so even a run shorter than one interval has
    two. Parameters: ``interval_s`` between samples (default 0.5), ``pid`` the process to watch (default this
    one), ``children`` (default True: count its child processes' CPU and memory too), ``gpu`` (default True:
    ask NVML), ``max_samples`` kept before thinning (default 2000).
    """

    def __init__(self, *, interval_s: float = 0.5, pid: int | None = None, children: bool = True,
                 gpu: bool = True, max_samples: int = 2000) -> None:
        if isinstance(interval_s, bool) or not isinstance(interval_s, (int, float)) or not (
                math.isfinite(interval_s) and interval_s > 0):
            raise ConfigError(f"`interval_s` must be a positive number of seconds, got {interval_s!r}")
        if isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 4:
            raise ConfigError(f"`max_samples` must be an integer >= 4, got {max_samples!r}")
        self.interval_s = float(interval_s)
        self.pid = os.getpid() if pid is None else int(pid)
        self.children = bool(children)
        self.gpu_enabled = bool(gpu)
        self.max_samples = max_samples
        self.report: ResourceReport | None = None
        self._samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ResourceMonitor:
        try:
            import psutil
        except ImportError:  # a core dependency: only a broken install lacks it
            raise MissingDependencyError(
                "The resource monitor needs the package 'psutil' (a dependency of bayesbench), which is not "
                'installed. Install it with: pip install "psutil==7.2.2" (or reinstall bayesbench)') from None
        if self._thread is not None:
            raise ConfigError("this ResourceMonitor was already started; make a new one per run")
        self._psutil = psutil
        try:
            self._proc = psutil.Process(self.pid)
        except psutil.Error as exc:
            raise ConfigError(f"`pid` must be a running process, got {self.pid}: {exc}") from None
        self._gpu = _Gpu() if self.gpu_enabled else None
        self._seen: dict[int, tuple[Any, float]] = {}  # live child pid -> (Process, its CPU seconds last seen)
        self._fast_children = os.path.exists(f"/proc/{self.pid}/task/{self.pid}/children")
        self._reaped = self._reaped_cpu()
        self._cpu_total = 0.0
        psutil.cpu_percent(interval=None)  # the system figure is relative to the previous call
        self._t0 = self._t_last = time.monotonic()
        self._sample(first=True)
        self._thread = threading.Thread(target=self._loop, name="bayesbench-resource-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> ResourceReport:
        """Take a last sample, stop the thread and return the :class:`ResourceReport` (idempotent)."""
        if self.report is not None:
            return self.report
        if self._thread is None:
            raise ConfigError("this ResourceMonitor was never started; call start() first")
        self._stop.set()
        self._thread.join()
        try:
            self._sample()
        except Exception:  # the watched process ended: the report keeps the samples taken while it ran
            pass
        gpu = None
        if self._gpu is not None:
            if self._gpu.available:
                utils = [s["gpu_util_percent"] for s in self._samples if s["gpu_util_percent"] is not None]
                mem = [s["gpu_memory_bytes"] for s in self._samples if s["gpu_memory_bytes"] is not None]
                gpu = {"devices": self._gpu.devices, "peak_util_percent": max(utils) if utils else None,
                       "mean_util_percent": sum(utils) / len(utils) if utils else None,
                       "peak_memory_bytes": max(mem) if mem else None, "error": self._gpu.error}
            self._gpu.close()
        self.report = ResourceReport(interval_s=self.interval_s, samples=list(self._samples),
                                     duration_s=self._t_last - self._t0, cpu_seconds=self._cpu_total, gpu=gpu,
                                     pid=self.pid)
        return self.report

    def __enter__(self) -> ResourceMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ sampling
    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self._sample()
            except Exception:  # the watched process ended, or psutil hiccuped: the run must go on
                pass

    def _child_pids(self) -> list[int]:
        """The process's descendants. On Linux read from /proc/PID/task/TID/children (a few small files);
        psutil's children() scans every process of the machine, ~100x slower on a busy one."""
        if self._fast_children:
            try:
                out: list[int] = []
                todo = [self.pid]
                while todo:
                    pid = todo.pop()
                    for tid in os.listdir(f"/proc/{pid}/task"):
                        with open(f"/proc/{pid}/task/{tid}/children") as f:
                            kids = [int(k) for k in f.read().split()]
                        out.extend(kids)
                        todo.extend(kids)
                return out
            except (OSError, ValueError):
                if not os.path.exists(f"/proc/{self.pid}/task"):  # the process itself is gone
                    return []
                self._fast_children = False  # a kernel without the children files: psutil from now on
        try:
            return [p.pid for p in self._proc.children(recursive=True)]
        except self._psutil.Error:
            return []

    def _reaped_cpu(self) -> float:
        """CPU seconds of children that ended and were waited for (psutil puts them on the parent)."""
        try:
            t = self._proc.cpu_times()
            return float(t.children_user + t.children_system)
        except self._psutil.Error:
            return 0.0

    def _cpu_delta(self) -> tuple[float, int]:
        """CPU seconds used since the previous sample by the process and its children, and their RSS."""
        ps = self._psutil
        with self._proc.oneshot():
            t = self._proc.cpu_times()
            own = float(t.user + t.system)
            reaped = float(t.children_user + t.children_system)
            rss = int(self._proc.memory_info().rss)
        delta = own - self._seen.get(self.pid, (None, 0.0))[1] if self.pid in self._seen else own
        seen: dict[int, tuple[Any, float]] = {self.pid: (self._proc, own)}
        if self.children:
            for kid_pid in self._child_pids():
                prev = self._seen.get(kid_pid)
                try:
                    # keep the Process object: its create time guards against a reused pid
                    proc = prev[0] if prev is not None else ps.Process(kid_pid)
                except ps.Error:
                    continue
                try:
                    with proc.oneshot():
                        kt = proc.cpu_times()
                        cpu = float(kt.user + kt.system)
                        rss += int(proc.memory_info().rss)
                except ps.Error:
                    continue
                delta += cpu - (prev[1] if prev is not None else 0.0)
                seen[kid_pid] = (proc, cpu)
        # children that ended since: their time moved into children_user/system; what we had already
        # counted of it must not count twice
        gone = sum(cpu for pid, (_, cpu) in self._seen.items() if pid not in seen and pid != self.pid)
        delta += max(0.0, (reaped - self._reaped) - gone)
        self._reaped = reaped
        self._seen = seen
        return max(0.0, delta), rss

    def _sample(self, first: bool = False) -> None:
        with self._lock:
            cpu, rss = self._cpu_delta()
            # the time of the reading, taken after it: reading the processes can take a long time on a busy
            # machine, and a timestamp taken before it let that lag turn 0.5 s of one core into "324 %"
            now = time.monotonic()
            if first:
                self._t0 = self._t_last = now
            dt = now - self._t_last
            if first:
                process_pct = 0.0
                cpu = 0.0
            else:
                process_pct = 100.0 * cpu / dt if dt > 0 else 0.0
            self._cpu_total += cpu
            self._t_last = now
            util, mem = self._gpu.sample() if self._gpu is not None else (None, None)
            self._samples.append({
                "t_s": now - self._t0,
                "process_cpu_percent": process_pct,
                "system_cpu_percent": float(self._psutil.cpu_percent(interval=None)),
                "rss_bytes": rss,
                "gpu_util_percent": util,
                "gpu_memory_bytes": mem,
            })
            if len(self._samples) > self.max_samples:
                self._thin()

    def _thin(self) -> None:
        """Keep every other sample (the first and the newest always) and double the interval."""
        kept = self._samples[::2]
        if kept[-1] is not self._samples[-1]:
            kept.append(self._samples[-1])
        self._samples = kept
        self.interval_s *= 2
