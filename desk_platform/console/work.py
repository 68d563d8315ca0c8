"""The console's review queues: appeals (police) and booking anomalies (police, platform)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from desk_platform.appeals import Appeals


def add_routes(app: FastAPI, plat: Any, *, viewer: Any, check_csrf: Any, record: Any,
               page: Any, see_other: Any) -> None:
    appeals = Appeals(plat)

    @app.get("/appeals", response_class=HTMLResponse)
    def appeals_page(request: Request, status: str = "pending", done: str = "") -> HTMLResponse:
        v = viewer(request, "appeals")
        items = appeals.list(status=status if status in ("pending", "lifted", "upheld") else None)
        record(v, "view.appeals", status, f"{len(items)} appeals")
        return page(request, "appeals.html", v, appeals=items, shown=status, done=done,
                    tz=plat.tz)

    @app.get("/appeals/{appeal_id}", response_class=HTMLResponse)
    def appeal_page(request: Request, appeal_id: str) -> HTMLResponse:
        v = viewer(request, "appeals")
        a = appeals.get(appeal_id)
        text = appeals.statement(appeal_id)
        record(v, "view.appeal", appeal_id, f"entry={a.entry_id} last4={a.id_last4}")
        return page(request, "appeal.html", v, a=a, statement=text, tz=plat.tz)

    @app.post("/appeals/{appeal_id}/decide")
    def appeal_decide(request: Request, appeal_id: str, csrf: Annotated[str, Form()] = "",
                      decision: Annotated[str, Form()] = "",
                      note: Annotated[str, Form()] = "") -> Response:
        v = viewer(request, "appeals")
        check_csrf(v, csrf)
        a = appeals.decide(appeal_id, v.name, lift=decision == "lift", note=note)
        record(v, "appeal.decide", appeal_id, f"{a.status} entry={a.entry_id}")
        return see_other(f"/console/appeals?done={a.status}")
