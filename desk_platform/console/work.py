"""The console's review queues: appeals (police) and booking anomalies (police, platform)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from desk_app.errors import Text
from desk_platform.appeals import Appeals
from desk_platform.worded import Worded


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
        if decision not in ("lift", "uphold"):
            raise Worded(Text("请选择解除或维持限制。", "Choose to lift or to keep the ban."))
        a = appeals.decide(appeal_id, v.name, lift=decision == "lift", note=note)
        record(v, "appeal.decide", appeal_id, f"{a.status} entry={a.entry_id}")
        return see_other(f"/console/appeals?done={a.status}")


def add_anomaly_routes(app: FastAPI, plat: Any, *, viewer: Any, check_csrf: Any, record: Any,
                       page: Any, see_other: Any) -> None:
    from desk_platform.anomaly import Anomalies

    anomalies = Anomalies(plat)

    @app.get("/anomalies", response_class=HTMLResponse)
    def anomalies_page(request: Request, status: str = "open", done: str = "") -> HTMLResponse:
        v = viewer(request, "anomalies")
        shown = status if status in ("open", "confirmed", "dismissed") else "open"
        items = anomalies.candidates(status=shown)
        frozen = anomalies.frozen_accounts()
        record(v, "view.anomalies", shown, f"{len(items)} candidates")
        return page(request, "anomalies.html", v, items=items, shown=shown, frozen=frozen,
                    done=done, tz=plat.tz, may_unfreeze=v.role.value == "police")

    @app.post("/anomalies/scan")
    def anomalies_scan(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        v = viewer(request, "anomalies")
        check_csrf(v, csrf)
        found = anomalies.scan()
        record(v, "anomaly.scan", "", f"{len(found)} new candidates")
        return see_other(f"/console/anomalies?done=scanned-{len(found)}")

    @app.post("/anomalies/{candidate_id}/review")
    def anomalies_review(request: Request, candidate_id: str, csrf: Annotated[str, Form()] = "",
                         decision: Annotated[str, Form()] = "") -> Response:
        v = viewer(request, "anomalies")
        check_csrf(v, csrf)
        if decision == "confirm":
            c = anomalies.confirm(candidate_id, v.name)
        else:
            c = anomalies.dismiss(candidate_id, v.name)
        record(v, f"anomaly.{c.status}", candidate_id,
               f"{c.rule} account={c.account_id} last4={c.patient_last4} entry={c.entry_id}")
        return see_other(f"/console/anomalies?done={c.status}")

    @app.post("/accounts/{account_id}/unfreeze")
    def account_unfreeze(request: Request, account_id: str,
                         csrf: Annotated[str, Form()] = "") -> Response:
        v = viewer(request, "appeals")  # the police
        check_csrf(v, csrf)
        anomalies.unfreeze(account_id, v.name, via="police")
        record(v, "account.unfreeze", account_id, "police")
        return see_other("/console/anomalies?done=unfrozen")
