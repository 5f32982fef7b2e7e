"""The dashboard: server-rendered pages and a JSON API over one store (FastAPI + Jinja2, no external assets).

Pages read through a read-only connection (SQLite ``mode=ro``, Postgres read-only transactions), so no
page can change the store; only ``POST /api/runs`` writes, and only with the server's bearer token
(compared in constant time). Every template autoescapes, every value is passed through the secret mask
on its way out, and the Content-Security-Policy forbids scripts altogether: the pages have none.
"""

# no ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations at run time, and
# Request/Response are imported inside create_app (fastapi is an optional extra)
import hmac
import json
import os
import time
from collections.abc import Sequence
from typing import Any

from ..errors import BayesbenchError, ConfigError, StoreError, missing_dependency
from . import _monitors, _views
from ._secrets import mask_secrets, mask_text

__all__ = ["create_app"]

MAX_POST_BYTES = 64 * 1024 * 1024
_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'")
_HERE = os.path.dirname(__file__)


def _imports() -> Any:
    try:
        import fastapi
        import jinja2
    except ImportError as exc:
        raise missing_dependency(exc.name or "fastapi", "serve", "The dashboard (bayesbench serve)") from None
    return fastapi, jinja2


def _environment(jinja2: Any) -> Any:
    from markupsafe import Markup

    from . import _svg

    def finalize(value: Any) -> Any:  # every {{ value }}: key-like strings masked (charts are Markup: kept)
        if isinstance(value, str) and not isinstance(value, Markup):
            return mask_text(value)
        return "" if value is None else value

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(_HERE, "templates")),
                             autoescape=True, finalize=finalize, undefined=jinja2.StrictUndefined)

    def num(x: Any, spec: str = ".3f") -> str:
        return format(x, spec) if isinstance(x, (int, float)) and not isinstance(x, bool) else "–"

    env.filters.update(num=num, when=_views.when,
                       pretty=lambda v: json.dumps(mask_secrets(v), indent=2, sort_keys=True, default=str),
                       flat=_views.flat_items, resource_table=_views.resource_table,
                       resource_series=_views.resource_series)
    env.globals.update(interval_svg=_svg.interval_svg, forest_svg=_svg.forest_svg, path_svg=_svg.path_svg,
                       series_svg=_svg.series_svg,
                       trend_svg=_svg.trend_svg, page_size=_views.PAGE_SIZE, max_items=_views.MAX_ITEMS)
    return env


def _token_ok(header: str | None, token: str) -> bool:
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer "):].strip().encode(), token.encode())


def create_app(store: Any, *, token: str | None = None, allowed_hosts: Sequence[str] | None = None,
               annotate: Any = None) -> Any:
    """The dashboard's ASGI app over ``store`` (a SQLite path or a database URL).

    ``annotate``: an annotation round (``bayesbench.builder.AnnotationProject`` or its SQLite path) whose
    labelling pages are served under ``/annotate`` (docs/builder.md).

    ``token``: the bearer token ``POST /api/runs`` requires (None: posting is disabled, 403).
    ``allowed_hosts``: accepted ``Host`` headers (``bayesbench serve`` passes the loopback names when it binds
    to loopback, against DNS rebinding); None accepts any.
    """
    fastapi, jinja2 = _imports()
    from fastapi import FastAPI, Query, Request
    from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
    from starlette.concurrency import run_in_threadpool

    from ..store import Store

    if token is not None and (not isinstance(token, str) or len(token) < 8):
        raise ConfigError("`token` must be a string of at least 8 characters (e.g. from `python -c \"import secrets; "
                          "print(secrets.token_urlsafe())\"`), or None to disable posting")
    location = os.fspath(store) if not isinstance(store, Store) else store.url
    writer = store if isinstance(store, Store) else Store(location)  # creates or migrates the schema
    reader = Store(writer.url, read_only=True)
    env = _environment(jinja2)
    app = FastAPI(title="bayesbench dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store, app.state.reader = writer, reader
    if allowed_hosts is not None:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Any:
        started = time.perf_counter()
        response = await call_next(request)
        # the server's own time (routing, queries, rendering) for perf/dashboard_load.py and browser devtools
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(store_name=mask_text(writer._safe_url()), **context)
        return HTMLResponse(html, status_code=status)

    @app.exception_handler(BayesbenchError)
    async def bad_input(request: Request, exc: BayesbenchError) -> Response:
        status = 400 if isinstance(exc, ConfigError) else 500
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": mask_text(str(exc))}, status_code=status)
        return page("error.html", status, title="Error", message=str(exc))

    def not_found(what: str, api: bool) -> Response:
        if api:
            return JSONResponse({"error": what}, status_code=404)
        return page("error.html", 404, title="Not found", message=what)

    # ------------------------------------------------------------------ pages
    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return RedirectResponse("/runs", status_code=307)

    @app.get("/static/app.css", include_in_schema=False)
    def css() -> Response:
        with open(os.path.join(_HERE, "static", "app.css"), encoding="utf-8") as f:
            return Response(f.read(), media_type="text/css")

    def listing(model: str | None, task: str | None, tag: str | None, kind: str | None, since: str | None,
                until: str | None, limit: int, offset: int) -> dict[str, Any]:
        return _views.runs_page(reader, model=model, task=task, tag=tag, kind=kind, since=since, until=until,
                                limit=limit, offset=offset)

    @app.get("/runs", response_class=HTMLResponse)
    def runs_html(model: str | None = None, task: str | None = None, tag: str | None = None,
                  kind: str | None = None, since: str | None = None, until: str | None = None,
                  page_: int = Query(1, alias="page", ge=1)) -> Response:
        data = listing(model, task, tag, kind, since, until, _views.PAGE_SIZE, (page_ - 1) * _views.PAGE_SIZE)
        filters = {"model": model or "", "task": task or "", "tag": tag or "", "kind": kind or "",
                   "since": since or "", "until": until or ""}
        return page("runs.html", title="Runs", data=data, filters=filters, options=reader.run_filters(),
                    page=page_)

    def load(run_id: str) -> dict[str, Any] | None:
        return reader.run_record(run_id)

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_html(run_id: str) -> Response:
        run = load(run_id)
        if run is None:
            return not_found(f"no run with id {run_id!r} in this store", api=False)
        view = _views.run_view(run)
        others, _ = reader.list_runs(task=run["name"], limit=50)
        return page("run.html", title=run["name"], run=view,
                    others=[_views.run_row(o) for o in others if o["id"] != run_id])

    @app.get("/compare", response_class=HTMLResponse)
    def compare_html(a: str | None = None, b: str | None = None, ma: str | None = None,
                     mb: str | None = None) -> Response:
        if not a or not b:
            raise ConfigError("choose two runs to compare: one as A and one as B (the radio buttons on the runs page)")
        run_a, run_b = load(a), load(b)
        if run_a is None or run_b is None:
            return not_found(f"no run with id {a if run_a is None else b!r} in this store", api=False)
        return page("compare.html", title="Compare", view=_views.compare_view(run_a, run_b, ma, mb))

    @app.get("/rankings", response_class=HTMLResponse)
    def rankings_html() -> Response:
        rows, _ = reader.list_runs(kind="rank", limit=_views.PAGE_SIZE)
        return page("rankings.html", title="Rankings",
                    rankings=[(_views.run_row(r), mask_secrets(r["summary"] or {})) for r in rows])

    @app.get("/history", response_class=HTMLResponse)
    def history_html() -> Response:
        rows, _ = reader.list_runs(kind="suite", limit=500)
        found = []
        for r in rows:
            est = (((r.get("summary") or {}).get("settings") or {}).get("history") or {}).get("estimate")
            if est:
                found.append((_views.run_row(r), mask_secrets(est)))
        return page("history.html", title="History estimates", estimates=found)

    @app.get("/monitors", response_class=HTMLResponse)
    def monitors_html() -> Response:
        return page("monitors.html", title="Monitors", monitors=_monitors.monitor_list(reader),
                    available=_monitors.available(reader))

    @app.get("/monitors/{name}", response_class=HTMLResponse)
    def monitor_html(name: str) -> Response:
        view = _monitors.monitor_view(reader, name)
        if view is None:
            return not_found(f"no monitor named {name!r} in this store", api=False)
        return page("monitor.html", title=f"Monitor {name}", monitor=view)

    # ------------------------------------------------------------------ JSON API
    @app.get("/api/runs")
    def api_runs(model: str | None = None, task: str | None = None, tag: str | None = None,
                 kind: str | None = None, since: str | None = None, until: str | None = None,
                 limit: int = Query(_views.PAGE_SIZE, ge=1, le=500), offset: int = Query(0, ge=0)) -> Response:
        return JSONResponse(listing(model, task, tag, kind, since, until, limit, offset))

    @app.get("/api/runs/{run_id}")
    def api_run(run_id: str) -> Response:
        run = load(run_id)
        if run is None:
            return not_found(f"no run with id {run_id!r} in this store", api=True)
        view = _views.run_view(run)
        view.pop("comparison", None), view.pop("item_tables", None)
        view["items"] = mask_secrets(run.get("items", []) + run.get("call_answers", []))
        view["scores"] = _views.scores_view(run)
        return JSONResponse(view)

    @app.get("/api/monitors")
    def api_monitors() -> Response:
        return JSONResponse({"monitors": _monitors.monitor_list(reader)})

    @app.get("/api/monitors/{name}")
    def api_monitor(name: str) -> Response:
        view = _monitors.monitor_view(reader, name)
        if view is None:
            return not_found(f"no monitor named {name!r} in this store", api=True)
        return JSONResponse(view)

    @app.post("/api/runs", status_code=201)
    async def api_post(request: Request) -> Response:
        if token is None:
            return JSONResponse({"error": "posting is disabled: start the server with --token (or BAYESBENCH_TOKEN)"},
                                status_code=403)
        if not _token_ok(request.headers.get("authorization"), token):
            return JSONResponse({"error": "a valid bearer token is required (Authorization: Bearer <token>)"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_POST_BYTES:
            return JSONResponse({"error": f"the run is larger than {MAX_POST_BYTES} bytes"}, status_code=413)
        body = await request.body()
        if len(body) > MAX_POST_BYTES:
            return JSONResponse({"error": f"the run is larger than {MAX_POST_BYTES} bytes"}, status_code=413)
        try:
            doc = await run_in_threadpool(json.loads, body)  # up to 64 MB: off the event loop
        except ValueError as exc:
            return JSONResponse({"error": f"the body must be a JSON run document: {exc}"}, status_code=400)
        try:
            run_id = await run_in_threadpool(writer.put_posted_run, doc)
        except StoreError as exc:
            return JSONResponse({"error": mask_text(str(exc))}, status_code=400)
        return JSONResponse({"id": run_id, "url": f"/runs/{run_id}"}, status_code=201)

    if annotate is not None:
        from ..builder._annotate_app import annotation_router

        app.include_router(annotation_router(annotate), prefix="/annotate")
    return app
