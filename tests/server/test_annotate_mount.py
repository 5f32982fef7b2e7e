"""`bayesbench serve --annotate ROUND.sqlite`: the builder's labelling pages inside the dashboard (a real server
subprocess): log in, label, and the label is in the round's SQLite file; the dashboard's pages still answer."""

from __future__ import annotations

from pathlib import Path

import httpx

from bayesbench.builder import AnnotationProject

from ._fill import Served


def test_the_dashboard_serves_an_annotation_round(tmp_path: Path) -> None:
    round_path = tmp_path / "round1.sqlite"
    AnnotationProject.create(round_path, [{"id": "a", "text": "2 + 2 = 4"}, {"id": "b", "text": "2 + 2 = 5"}],
                             annotators=["al"], overlap=1, labels=["wrong", "right"])
    served = Served(str(tmp_path / "runs.sqlite"), None, "--annotate", str(round_path))
    try:
        with httpx.Client(base_url=served.url, follow_redirects=True, timeout=30) as client:
            assert client.get("/api/runs").status_code == 200  # the dashboard itself
            login = client.get("/annotate/")
            assert login.status_code == 200 and "/annotate/login" in login.text
            page = client.post("/annotate/login", data={"annotator": "al"})
            assert page.status_code == 200 and ("2 + 2 = 4" in page.text or "2 + 2 = 5" in page.text)
            item = "a" if "2 + 2 = 4" in page.text else "b"
            done = client.post("/annotate/item", data={"item_id": item, "label": "right"})
            assert "1 / 2 done" in done.text
    finally:
        served.stop()
    labels = AnnotationProject.open(round_path).records()
    assert [(r["item_id"], r["annotator"], r["label"]) for r in labels] == [(item, "al", "right")]
