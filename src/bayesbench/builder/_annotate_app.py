"""The local annotation page: server-rendered HTML (FastAPI + Jinja2, autoescaped, no external assets).

``annotation_router(project)`` is an ``APIRouter`` that the dashboard can mount under any prefix::

    app.include_router(annotation_router(project), prefix="/annotate")

``annotation_app(project)`` wraps it in a small FastAPI app, and ``serve_annotation(path, port=...)`` runs that
app with uvicorn on 127.0.0.1 (``python -m bayesbench.builder._annotate_app PROJECT.sqlite --port 8765``).

Pages: ``/`` (choose who you are), ``/item`` (the next item with the guidelines beside it; a label form that
saves on submit), ``/progress`` (per annotator), ``/progress.json``, ``/export.jsonl`` and ``/export.csv``. The
annotator is remembered in a ``SameSite=Strict`` cookie. Item text is always escaped: an item is data, never
markup. Every submitted label is committed to the project's SQLite file before the next page is sent.
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations (fastapi.Request) at run time.
import argparse
import os
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

from ..errors import ConfigError, missing_dependency
from ._annotate import AnnotationProject

COOKIE = "bayesbench_annotator"

#: The page's style sheet, served at ``/annotate.css`` (no inline styles: the pages run under a strict CSP).
_CSS = """body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
header{background:#1d3557;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center}
header a{color:#fff} main{display:flex;gap:1.2rem;padding:1rem;flex-wrap:wrap}
section{background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:1rem;flex:1 1 24rem}
pre.item{white-space:pre-wrap;word-break:break-word;background:#f0f3f7;padding:.8rem;border-radius:4px}
label.choice{display:block;margin:.3rem 0} table{border-collapse:collapse}
td,th{padding:.3rem .7rem;border-bottom:1px solid #e4e8ee;text-align:left} .err{color:#b00020}
progress{width:100%;height:.7rem}
"""

#: Sent with every page (the dashboard's own policy when mounted there is the same): nothing but this origin.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")

_BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} · bayesbench annotation</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{{ url('annotation_css') }}"></head><body>
<header><strong>{{ project.name }}</strong>
{% if annotator %}<span id="who">annotating as <b>{{ annotator }}</b></span>
<a href="{{ url('annotation_item') }}">next item</a>{% endif %}
<a href="{{ url('annotation_progress') }}">progress</a>
<a href="{{ url('annotation_login_page') }}">switch annotator</a></header>
<main>{% block body %}{% endblock %}</main></body></html>"""

_LOGIN = """{% extends "base" %}{% block body %}<section><h1>Who is annotating?</h1>
{% if error %}<p class="err" id="error">{{ error }}</p>{% endif %}
<form method="post" action="{{ url('annotation_login') }}">
<label for="annotator">Annotator</label>
<select name="annotator" id="annotator">{% for a in project.annotators %}<option value="{{ a }}">{{ a }}</option>
{% endfor %}</select> <button type="submit" id="start">Start</button></form></section>{% endblock %}"""

_ITEM = """{% extends "base" %}{% block body %}
<section id="task">
<p id="progress">{{ mine.done }} / {{ mine.assigned }} done</p>
<progress id="bar" value="{{ mine.done }}" max="{{ mine.assigned }}"></progress>
{% if error %}<p class="err" id="error">{{ error }}</p>{% endif %}
{% if item %}
<h2>Item <code id="item-id">{{ item.id }}</code></h2>
<pre class="item" id="item-text">{{ item.text }}</pre>
{% if item.case.get('references') %}<h3>Reference answer(s)</h3><ul id="references">
{% for r in item.case.references %}<li>{{ r }}</li>{% endfor %}</ul>{% endif %}
<form method="post" action="{{ url('annotation_submit') }}" id="label-form">
<input type="hidden" name="item_id" value="{{ item.id }}">
<fieldset><legend>Label</legend>
{% for lab in project.labels %}<label class="choice"><input type="radio" name="label" value="{{ lab }}" required
 id="label-{{ loop.index0 }}"> <b>{{ lab }}</b>{% if rubric.get(lab) %}: {{ rubric[lab] }}{% endif %}</label>
{% endfor %}</fieldset>
<p><label for="note">Note (optional)</label><br><textarea name="note" id="note" rows="2" cols="50"></textarea></p>
<button type="submit" id="save">Save label</button></form>
{% else %}<h2 id="done">All your items are labelled. Thank you!</h2>{% endif %}
</section>
<section id="guidelines"><h2>Guidelines</h2>
{% if g %}{% if g.task %}<p>{{ g.task }}</p>{% endif %}
{% if g.criteria %}<h3>Criteria</h3><ul>{% for c in g.criteria %}<li>{{ c }}</li>{% endfor %}</ul>{% endif %}
{% if g.rubric %}<h3>Labels</h3><dl>{% for k, v in g.rubric.items() %}<dt><b>{{ k }}</b></dt><dd>{{ v }}</dd>
{% endfor %}</dl>{% endif %}
{% if g.edge_cases %}<h3>Edge cases</h3><ul>{% for c in g.edge_cases %}<li>{{ c }}</li>{% endfor %}</ul>{% endif %}
{% if g.examples %}<h3>Examples</h3><ul>{% for e in g.examples %}<li><q>{{ e.input }}</q> &rarr; <b>{{ e.label }}</b>
{% if e.get('rationale') %} ({{ e.get('rationale') }}){% endif %}</li>{% endfor %}</ul>{% endif %}
{% else %}<p>No guidelines were stored with this project.</p>{% endif %}</section>{% endblock %}"""

_PROGRESS = """{% extends "base" %}{% block body %}<section><h1>Progress</h1>
<table id="progress-table"><tr><th>annotator</th><th>done</th><th>assigned</th><th></th></tr>
{% for p in progress %}<tr data-annotator="{{ p.annotator }}"><td>{{ p.annotator }}</td><td class="done">{{ p.done }}</td>
<td>{{ p.assigned }}</td><td>{{ (100 * p.fraction)|round|int }}%</td></tr>{% endfor %}</table>
<p>Export: <a href="{{ url('annotation_export_jsonl') }}">JSONL</a> · <a href="{{ url('annotation_export_csv') }}">CSV</a>
</p></section>{% endblock %}"""


def _require() -> tuple[Any, Any]:
    try:
        import fastapi
        import jinja2
    except ImportError as exc:
        raise missing_dependency(exc.name or "fastapi", "builder", "the annotation page") from None
    return fastapi, jinja2


def annotation_router(project: AnnotationProject | str | os.PathLike[str]) -> Any:
    """The annotation pages as a FastAPI ``APIRouter`` over ``project`` (an open project or its path)."""
    fastapi, jinja2 = _require()
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse

    proj = project if isinstance(project, AnnotationProject) else AnnotationProject.open(project)
    env = jinja2.Environment(loader=jinja2.DictLoader({"base": _BASE, "login": _LOGIN, "item": _ITEM,
                                                       "progress": _PROGRESS}),
                             autoescape=True)
    router = fastapi.APIRouter()

    def render(request: Any, name: str, status: int = 200, **context: Any) -> Any:
        html = env.get_template(name).render(project=proj, url=lambda n: str(request.url_for(n)),
                                             annotator=context.pop("annotator", None), title=name, **context)
        return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": CSP,
                                                               "X-Content-Type-Options": "nosniff"})

    async def form(request: Any) -> dict[str, str]:
        # the pages post application/x-www-form-urlencoded forms only: parsed here, no multipart parser needed
        body = (await request.body()).decode("utf-8", "replace")
        return {k: v[-1] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}

    def who(request: Any) -> str | None:
        name = request.cookies.get(COOKIE)
        return name if name in proj.annotators else None

    def item_page(request: Any, annotator: str, error: str | None = None, status: int = 200) -> Any:
        mine = next(p for p in proj.progress() if p.annotator == annotator)
        nxt = proj.next_item(annotator)
        g = proj.guidelines
        return render(request, "item", status=status, annotator=annotator, mine=mine, error=error,
                      item=proj.item(nxt) if nxt is not None else None, g=g,
                      rubric=dict(getattr(g, "rubric", {}) or {}))

    @router.get("/annotate.css", name="annotation_css", include_in_schema=False)
    async def css() -> Any:
        return PlainTextResponse(_CSS, media_type="text/css")

    @router.get("/", name="annotation_login_page", response_class=HTMLResponse)
    async def login_page(request: fastapi.Request) -> Any:
        return render(request, "login", annotator=who(request), error=None)

    @router.post("/login", name="annotation_login")
    async def login(request: fastapi.Request) -> Any:
        name = (await form(request)).get("annotator", "")
        if name not in proj.annotators:
            return render(request, "login", status=400, annotator=None,
                          error=f"unknown annotator {name!r}; choose one of the list")
        resp = RedirectResponse(str(request.url_for("annotation_item")), status_code=303)
        resp.set_cookie(COOKIE, name, httponly=True, samesite="strict")
        return resp

    @router.get("/item", name="annotation_item", response_class=HTMLResponse)
    async def item(request: fastapi.Request) -> Any:
        annotator = who(request)
        if annotator is None:
            return RedirectResponse(str(request.url_for("annotation_login_page")), status_code=303)
        return item_page(request, annotator)

    @router.post("/item", name="annotation_submit")
    async def submit(request: fastapi.Request) -> Any:
        annotator = who(request)
        if annotator is None:
            return RedirectResponse(str(request.url_for("annotation_login_page")), status_code=303)
        data = await form(request)
        try:
            proj.submit(annotator, data.get("item_id", ""), data.get("label", ""), note=data.get("note", ""))
        except ConfigError as exc:
            return item_page(request, annotator, error=str(exc), status=400)
        return RedirectResponse(str(request.url_for("annotation_item")), status_code=303)

    @router.get("/progress", name="annotation_progress", response_class=HTMLResponse)
    async def progress(request: fastapi.Request) -> Any:
        return render(request, "progress", annotator=who(request), progress=proj.progress())

    @router.get("/progress.json", name="annotation_progress_json")
    async def progress_json() -> Any:
        return JSONResponse({"project": proj.name, "progress": [p.to_dict() for p in proj.progress()]})

    def export(suffix: str, media: str) -> Any:
        with tempfile.TemporaryDirectory() as tmp:
            text = proj.export(Path(tmp) / f"labels{suffix}").read_text(encoding="utf-8")
        return PlainTextResponse(text, media_type=media,
                                 headers={"Content-Disposition": f'attachment; filename="{proj.name}-labels{suffix}"'})

    @router.get("/export.jsonl", name="annotation_export_jsonl")
    async def export_jsonl() -> Any:
        return export(".jsonl", "application/x-ndjson")

    @router.get("/export.csv", name="annotation_export_csv")
    async def export_csv() -> Any:
        return export(".csv", "text/csv")

    router.project = proj  # type: ignore[attr-defined]
    return router


def annotation_app(project: AnnotationProject | str | os.PathLike[str]) -> Any:
    """A small FastAPI app serving :func:`annotation_router` at ``/``."""
    fastapi, _ = _require()
    app = fastapi.FastAPI(title="bayesbench annotation", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(annotation_router(project))
    return app


def serve_annotation(project: AnnotationProject | str | os.PathLike[str], *, host: str = "127.0.0.1",
                     port: int = 8765) -> None:
    """Serve the annotation page until interrupted (binds 127.0.0.1 unless told otherwise)."""
    try:
        import uvicorn
    except ImportError:
        raise missing_dependency("uvicorn", "builder", "serving the annotation page") from None
    uvicorn.run(annotation_app(project), host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bayesbench.builder._annotate_app",
                                     description="Serve the annotation page of a project file.")
    parser.add_argument("project", help="the annotation project's SQLite file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    serve_annotation(args.project, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
