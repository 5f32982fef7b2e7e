"""One local Ray cluster shared by the Ray tests (``ray_cluster`` fixture, session-scoped): starting Ray
takes 10-30 s on a loaded machine, so it is started once, by the first test that needs it."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._shared import require_or_skip

ROOT = Path(__file__).resolve().parents[2]


def _pythonpath() -> str:
    """Workers import the test modules (model functions are pickled by reference) and this bayesbench."""
    import bayesbench

    src = Path(bayesbench.__file__).resolve().parents[1]
    return os.pathsep.join(dict.fromkeys([str(src), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """A 2-CPU local Ray cluster; yields its GCS address (for a second driver, e.g. a subprocess)."""
    require_or_skip(importlib.util.find_spec("ray") is not None, 'ray is not installed: pip install "bayesbench[ray]"')
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": _pythonpath()}})
    yield ray.get_runtime_context().gcs_address
    if started:
        ray.shutdown()
