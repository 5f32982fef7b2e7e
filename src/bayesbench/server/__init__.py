"""``bayesbench serve``: a local dashboard and JSON API over a results store.

Pages: runs (filter by model, task, tag, kind, date), a run (verdict, interval, stopping path, usage,
resources, answers side by side with the disagreements first), two runs compared item by item,
rankings with intervals and tie groups, monitor trends with baseline and alerts, history estimates.
API: ``GET /api/runs``, ``GET /api/runs/{id}``, ``POST /api/runs`` (bearer token), ``GET /api/monitors``.
Needs the ``serve`` extra: ``pip install "bayesbench[serve]"``. See docs/dashboard.md.
"""

from ._app import create_app
from ._serve import serve

__all__ = ["create_app", "serve"]
