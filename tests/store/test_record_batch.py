"""An engine batch (scores of several problems + the decision after it) is written all or nothing."""

from __future__ import annotations

import pytest

from bayesbench import StoreError
from bayesbench.store import Store


def test_batch_writes_scores_and_decision_together(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    run = store.start_run("r", {"rule": "anytime"}, 0, ["0", "1"])
    store.record_batch(run, {"0": {"a": 1.0, "b": 0.0}, "1": {"a": 0.0, "b": 0.0}},
                       {"n": 2, "status": "CONTINUE", "cs": [-1, 1]})
    assert len(store.scores(run)) == 4
    assert [d["status"] for d in store.decisions(run)] == ["CONTINUE"]
    with pytest.raises(StoreError, match="finite number"):
        store.record_batch(run, {"2": {"a": 1.0}, "3": {"a": float("nan")}}, {"n": 4, "status": "A"})
    assert len(store.scores(run)) == 4 and len(store.decisions(run)) == 1  # nothing of the bad batch
