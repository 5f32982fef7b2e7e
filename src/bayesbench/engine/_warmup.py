"""Load scipy.stats in the background when a run starts.

``import bayesbench`` does not import scipy (it took most of the 1.7-2 s of the import); a run needs it only
for its result (posterior intervals, P(A>B)). Imported on the event loop's thread at that point, it would
stall the loop (and every async model call) for about a second, so a run starts loading it in a thread.
"""

from __future__ import annotations

import importlib
import sys
import threading


def prefetch_scipy() -> None:
    if "scipy.stats" not in sys.modules:
        threading.Thread(target=importlib.import_module, args=("scipy.stats",), name="bayesbench-warmup",
                         daemon=True).start()


async def scipy_ready() -> None:
    """Wait, without blocking the event loop, until scipy.stats is imported (a run's result needs it)."""
    if "scipy.stats" not in sys.modules:
        import asyncio

        await asyncio.to_thread(importlib.import_module, "scipy.stats")
