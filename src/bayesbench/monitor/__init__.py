"""Watch models over time: named monitors, regression alerts that hold their error rate over unlimited checks,
benchmark rotation with a holdout and exposure counts, and alert sinks. Reads and writes the store.

See docs/monitoring.md (the statistical argument is there).
"""

from ._config import MonitorConfig, MonitorFile, load_monitors, parse_duration, redact_url
from ._detector import DetectorState, RegressionDetector, baseline_noise_margin, e_bh
from ._monitor import CheckResult, Monitor, RunOutcome, check_monitors, run_monitors
from ._rotation import ExposureReport, Rotation
from ._sinks import AlertSink, LogSink, WebhookSink, alert_text

__all__ = [
    "AlertSink",
    "CheckResult",
    "DetectorState",
    "ExposureReport",
    "LogSink",
    "Monitor",
    "MonitorConfig",
    "MonitorFile",
    "RegressionDetector",
    "Rotation",
    "RunOutcome",
    "WebhookSink",
    "alert_text",
    "baseline_noise_margin",
    "check_monitors",
    "e_bh",
    "load_monitors",
    "parse_duration",
    "redact_url",
    "run_monitors",
]
