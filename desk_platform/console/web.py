"""The console's pages (FastAPI + Jinja2, no JavaScript needed).

Every page but sign-in needs a live console session (:mod:`.sessions`) and a role that may see
it (``PAGES``); every form carries the session's CSRF token; every page that shows personal data
and every change writes an audit row (:mod:`desk_platform.audit`) before it answers. Bad input
is answered with the same form, the input kept and the problem said in words.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from desk_app.errors import Text
from desk_platform import figures, taskforce
from desk_platform.audit import Audit
from desk_platform.cases import DEFAULT_BAN_DAYS, Cases
from desk_platform.console import svg
from desk_platform.console.i18n import LANGS, translate
from desk_platform.console.sessions import CONSOLE_ROLES, COOKIE, ConsoleSession, Sessions
from desk_platform.errors import NotFound, PlatformError, Unauthorized
from desk_platform.staff import Staff, StaffRole
from desk_platform.worded import Worded, number

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "desk_console_lang"
LOGIN_COOKIE = "desk_console_login"
POLICE, PLATFORM, COMMISSION, ADMIN = (StaffRole.POLICE, StaffRole.PLATFORM,
                                       StaffRole.COMMISSION, StaffRole.ADMIN)

#: page -> the roles that may open it (hospital admins see their own hospital only).
PAGES: dict[str, frozenset[StaffRole]] = {
    "blacklist": frozenset({POLICE}),
    "anomalies": frozenset({POLICE, PLATFORM}),
    "appeals": frozenset({POLICE}),
    "stats": frozenset({POLICE, PLATFORM, COMMISSION, ADMIN}),
    "taskforce": frozenset({POLICE, COMMISSION, PLATFORM}),
    "taskforce.edit": frozenset({POLICE, COMMISSION}),
    "audit": frozenset({POLICE, COMMISSION}),
    "staff": frozenset({ADMIN}),  # their own hospital's accounts only (console/accounts.py)
}
NAV = (("blacklist", "Blacklist", "b"), ("appeals", "Appeals", "p"),
       ("anomalies", "Booking anomalies", "n"), ("stats", "Statistics", "s"),
       ("taskforce", "Summary table", "t"), ("audit", "Audit log", "u"),
       ("staff", "Staff accounts", "r"))

ROLE_NAMES = {"police": "Police", "platform": "Booking platform",
              "commission": "Health commission", "admin": "Hospital administrator"}


class NeedLogin(Exception):
    pass


class Refused(Exception):
    pass


@dataclass(frozen=True)
class Viewer:
    session: ConsoleSession
    token: str
    lang: str
    address: str

    @property
    def name(self) -> str:
        return self.session.member.username

    @property
    def role(self) -> StaffRole:
        return self.session.member.role

    @property
    def hospital_id(self) -> str | None:
        return self.session.member.hospital_id

    def may(self, page: str) -> bool:
        return self.role in PAGES[page]


def _lang(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "zh")
    return lang if lang in LANGS else "zh"


def _day(text: str | None, default: date) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Worded(Text("日期格式应为 2026-12-01。", "Dates are written 2026-12-01.")) from None


def create_console(plat: Any) -> FastAPI:  # plat: desk_platform.service.Platform
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    staff = Staff(plat.db)
    sessions = Sessions(plat.db)
    audit = Audit(plat.db)
    cases = Cases(plat)

    def today() -> date:
        return datetime.now(plat.tz).date()

    # --- plumbing ---------------------------------------------------------------------------

    def viewer(request: Request, page: str | None = None) -> Viewer:
        token = request.cookies.get(COOKIE)
        s = sessions.resume(token)
        if s is None:
            raise NeedLogin()
        v = Viewer(s, token or "", _lang(request),
                   request.client.host if request.client else "")
        if page is not None and not v.may(page):
            raise Refused(page)
        return v

    def check_csrf(v: Viewer, csrf: str) -> None:
        if not hmac.compare_digest(csrf.encode(), v.session.csrf.encode()):
            raise Refused("csrf")

    def record(v: Viewer, action: str, target: str = "", detail: str = "") -> None:
        audit.record(v.name, v.role.value, action, target, detail,
                     hospital_id=v.hospital_id, address=v.address)

    def page(request: Request, name: str, v: Viewer | None, status: int = 200,
             **ctx: Any) -> HTMLResponse:
        lang = v.lang if v else _lang(request)

        def _(text: str) -> str:
            return translate(text, lang)

        def worded(t: Text) -> str:
            return t.en if lang == "en" else t.zh

        resp = templates.TemplateResponse(request, name, {
            "_": _, "lang": lang, "v": v, "csrf": v.session.csrf if v else "",
            "nav": [(key, label, key_) for key, label, key_ in NAV if v and v.may(key)],
            "role_name": _(ROLE_NAMES.get(v.role.value, v.role.value)) if v else "",
            "worded": worded, "path": request.url.path, "query": request.url.query,
            **ctx}, status_code=status)
        resp.headers["cache-control"] = "no-store"
        resp.headers["x-frame-options"] = "DENY"
        resp.headers["content-security-policy"] = (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'")
        resp.headers["referrer-policy"] = "no-referrer"
        return resp

    def see_other(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(NeedLogin)
    async def _need_login(request: Request, _exc: NeedLogin) -> Response:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            nxt = "/console/"
        return see_other(f"/console/login?next={quote(nxt, safe='')}")

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        return page(request, "error.html", None, 403,
                    message=Text("您的账号无权进行此操作（或表单已过期，请刷新后重试）。",
                                 "Your account may not do this (or the form expired: reload "
                                 "and try again)."))

    @app.exception_handler(Worded)
    async def _worded(request: Request, exc: Worded) -> Response:
        return page(request, "error.html", None, exc.status, message=exc.text)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, _exc: NotFound) -> Response:
        return page(request, "error.html", None, 404,
                    message=Text("没有找到该记录。", "No such record."))

    @app.exception_handler(PlatformError)
    async def _platform_error(request: Request, exc: PlatformError) -> Response:
        return page(request, "error.html", None, exc.status,
                    message=Text("操作未能完成：" + exc.detail, "Not done: " + exc.detail))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.error("console error", exc_info=exc)
        return page(request, "error.html", None, 500,
                    message=Text("发生了意外错误，请稍后重试或联系平台管理员。",
                                 "Something went wrong. Try again later or call the platform's "
                                 "administrators."))

    # --- sign-in, language ------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/console/") -> HTMLResponse:  # noqa: A002
        token = secrets.token_urlsafe(24)
        resp = page(request, "login.html", None, login_csrf=token, next=_safe_next(next),
                    username="", error=None)
        _cookie(resp, request, LOGIN_COOKIE, token, max_age=1800)
        return resp

    @app.post("/login")
    def login(request: Request, username: Annotated[str, Form()] = "",
              password: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "",
              next: Annotated[str, Form()] = "/console/") -> Response:  # noqa: A002
        expected = request.cookies.get(LOGIN_COOKIE, "")
        error = None
        member = None
        if not expected or not hmac.compare_digest(expected.encode(), csrf.encode()):
            error = Text("登录表单已过期，请重新输入。", "The sign-in form expired; please try again.")
        else:
            try:
                member = staff.authenticate(username, password)
            except Unauthorized:
                error = Text("用户名或密码错误，或账号已被锁定。",
                             "Wrong user name or password, or the account is locked.")
            if member is not None and member.role not in CONSOLE_ROLES:
                error = Text("该账号用于挂号窗口，不能登录工作台。",
                             "This account is for the registration desk, not the console.")
                member = None
        if member is None:
            token = secrets.token_urlsafe(24)
            resp = page(request, "login.html", None, 401, login_csrf=token,
                        next=_safe_next(next), username=username[:64], error=error)
            _cookie(resp, request, LOGIN_COOKIE, token, max_age=1800)
            audit.record(username.strip().lower()[:64] or "?", "-", "console.login_failed",
                         address=request.client.host if request.client else "")
            return resp
        token = sessions.start(member)
        audit.record(member.username, member.role.value, "console.login",
                     hospital_id=member.hospital_id,
                     address=request.client.host if request.client else "")
        resp = see_other(_safe_next(next))
        _cookie(resp, request, COOKIE, token, max_age=None)
        resp.delete_cookie(LOGIN_COOKIE, path="/console", httponly=True, samesite="strict")
        return resp

    @app.post("/logout")
    def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        v = viewer(request)
        check_csrf(v, csrf)
        sessions.end(v.token)
        record(v, "console.logout")
        resp = see_other("/console/login")
        resp.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")
        return resp

    @app.get("/lang")
    def set_lang(request: Request, to: str = "zh", next: str = "/console/") -> Response:  # noqa: A002
        resp = see_other(_safe_next(next))
        _cookie(resp, request, LANG_COOKIE, to if to in LANGS else "zh",
                max_age=365 * 86400, http_only=False)
        return resp

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        v = viewer(request)
        return page(request, "home.html", v, expires=v.session.expires_at, tz=plat.tz)

    # --- police: blacklist ------------------------------------------------------------------

    def blacklist_page(request: Request, v: Viewer, *, status: int = 200,
                       error: Text | None = None, form: dict[str, str] | None = None,
                       done: str = "", last4: str = "", lifted: bool = False) -> HTMLResponse:
        entries = cases.entries(include_lifted=lifted, last4=last4)
        record(v, "view.blacklist", f"last4={last4}" if last4 else "list",
               f"{len(entries)} entries")
        return page(request, "blacklist.html", v, status, entries=entries, error=error,
                    form=form or {"days": str(DEFAULT_BAN_DAYS)}, done=done, last4=last4,
                    lifted=lifted, now=plat.now(), tz=plat.tz)

    @app.get("/blacklist", response_class=HTMLResponse)
    def blacklist(request: Request, last4: str = "", lifted: bool = False,
                  done: str = "") -> HTMLResponse:
        v = viewer(request, "blacklist")
        return blacklist_page(request, v, done=done, last4=last4[:4], lifted=lifted)

    @app.post("/blacklist")
    def blacklist_add(request: Request, csrf: Annotated[str, Form()] = "",
                      id_number: Annotated[str, Form()] = "",
                      case_number: Annotated[str, Form()] = "",
                      county: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                      evidence: Annotated[str, Form()] = "",
                      days: Annotated[str, Form()] = str(DEFAULT_BAN_DAYS)) -> Response:
        v = viewer(request, "blacklist")
        check_csrf(v, csrf)
        form = dict(id_number=id_number, case_number=case_number, county=county, reason=reason,
                    evidence=evidence, days=days)
        try:
            n = number(days, "限制天数", "ban period (days)", low=1, high=3 * 366)
            entry = cases.add(v.name, id_number, case_number=case_number, county=county,
                              reason=reason, evidence=evidence, days=n)
        except Worded as exc:
            return blacklist_page(request, v, status=400, error=exc.text, form=form)
        record(v, "blacklist.add", entry.entry_id,
               f"last4={entry.last4} case={entry.case_number} days={n}")
        return see_other(f"/console/blacklist/{entry.entry_id}?done=added")

    @app.get("/blacklist/{entry_id}", response_class=HTMLResponse)
    def blacklist_entry(request: Request, entry_id: str, done: str = "") -> HTMLResponse:
        v = viewer(request, "blacklist")
        entry = cases.get(entry_id)
        evidences = cases.evidences(entry_id)
        record(v, "view.blacklist_entry", entry_id, f"last4={entry.last4}")
        return page(request, "entry.html", v, entry=entry, evidences=evidences, done=done,
                    error=None, now=plat.now(), tz=plat.tz, appeals=_appeals_of(entry_id))

    def _appeals_of(entry_id: str) -> list[Any]:
        from desk_platform.appeals import Appeals

        return Appeals(plat).of_entry(entry_id)

    @app.post("/blacklist/{entry_id}/extend")
    def blacklist_extend(request: Request, entry_id: str, csrf: Annotated[str, Form()] = "",
                         days: Annotated[str, Form()] = "") -> Response:
        v = viewer(request, "blacklist")
        check_csrf(v, csrf)
        n = number(days, "延长天数", "days to extend by", low=1, high=3 * 366)
        entry = cases.extend(v.name, entry_id, n)
        record(v, "blacklist.extend", entry_id,
               f"last4={entry.last4} +{n}d to {entry.valid_to.date()}")
        return see_other(f"/console/blacklist/{entry_id}?done=extended")

    @app.post("/blacklist/{entry_id}/lift")
    def blacklist_lift(request: Request, entry_id: str, csrf: Annotated[str, Form()] = "",
                       reason: Annotated[str, Form()] = "") -> Response:
        v = viewer(request, "blacklist")
        check_csrf(v, csrf)
        entry = cases.lift(v.name, entry_id, reason)
        record(v, "blacklist.lift", entry_id, f"last4={entry.last4} reason={reason[:200]}")
        return see_other(f"/console/blacklist/{entry_id}?done=lifted")

    @app.get("/blacklist/{entry_id}/seen", response_class=HTMLResponse)
    def where_seen(request: Request, entry_id: str) -> HTMLResponse:
        v = viewer(request, "blacklist")
        entry = cases.get(entry_id)
        sightings = cases.where_seen(entry_id)
        record(v, "view.where_seen", entry_id,
               f"last4={entry.last4} {len(sightings)} sightings")
        return page(request, "seen.html", v, entry=entry, sightings=sightings, tz=plat.tz)

    # --- statistics -------------------------------------------------------------------------

    @app.get("/stats", response_class=HTMLResponse)
    def stats_page(request: Request, day_from: Annotated[str, Query(alias="from")] = "",
                   day_to: Annotated[str, Query(alias="to")] = "",
                   hospital: str = "") -> HTMLResponse:
        v = viewer(request, "stats")
        end = _day(day_to, today())
        start = _day(day_from, end - timedelta(days=29))
        hid = v.hospital_id if v.role is ADMIN else (hospital.strip() or None)
        s = figures.stats(plat.db, plat.tz, start, end, hid)
        record(v, "view.stats", hid or "all", f"{start}..{end}")

        def _(text: str) -> str:
            return translate(text, v.lang)

        days = s.days()
        hospitals = sorted(s.by_hospital)
        charts = [
            svg.bars(_("Check-ins per day"), [d[5:] for d in days], [s.by_day[d] for d in days],
                     label_every=max(1, len(days) // 10)),
            svg.bars(_("Check-ins by hour of day"), [str(h) for h in range(24)],
                     [s.by_hour[h] for h in range(24)], color=svg.PALETTE[3]),
            svg.stacked(_("Verdicts per hospital"), hospitals,
                        [(_(name), [s.by_hospital[h][key] for h in hospitals])
                         for key, name in (("admit", "Admitted"), ("review", "Review"),
                                           ("reject", "Rejected"))]),
            svg.hbars(_("Check-ins per department"), *_top(s.by_department, 12)),
            svg.hbars(_("Rejections by reason"), *_translated(_top(s.reasons, 12), _),
                      color=svg.PALETTE[2]),
            svg.hbars(_("Overrides per person"), *_top(s.overrides_by_person, 12),
                      color=svg.PALETTE[4]),
        ]
        return page(request, "stats.html", v, s=s, charts=charts, day_from=start, day_to=end,
                    hospital=hid or "", hospitals=hospitals,
                    departments=s.by_department.most_common(),
                    reasons=s.reasons.most_common(), people=s.overrides_by_person.most_common())

    # --- the task force's summary table ------------------------------------------------------

    def period(day_from: str, day_to: str) -> tuple[date, date]:
        end = _day(day_to, today())
        return _day(day_from, end.replace(day=1)), end

    @app.get("/taskforce", response_class=HTMLResponse)
    def taskforce_page(request: Request, day_from: Annotated[str, Query(alias="from")] = "",
                       day_to: Annotated[str, Query(alias="to")] = "",
                       county: str = "", done: str = "") -> HTMLResponse:
        v = viewer(request, "taskforce")
        start, end = period(day_from, day_to)
        current = taskforce.figures(plat.db, county, start, end) if county else {}
        return taskforce_view(request, v, start, end, county, current, done=done)

    def taskforce_view(request: Request, v: Viewer, start: date, end: date, county: str,
                       current: dict[str, Any], *, done: str = "", error: Text | None = None,
                       status: int = 200) -> HTMLResponse:
        summary = taskforce.summary(plat.db, plat.tz, start, end)
        record(v, "view.taskforce", f"{start}..{end}")
        counties = [r.county for r in summary.rows]
        chart = svg.hbars(translate("Cases handled per county", v.lang), counties,
                          [r.values["cases"] for r in summary.rows], color=svg.PALETTE[0])
        return page(request, "taskforce.html", v, status, summary=summary,
                    columns=taskforce.COLUMNS, title=taskforce.TITLE, day_from=start,
                    day_to=end, county=county, current=current, counties=counties, done=done,
                    error=error, chart=chart, can_edit=v.may("taskforce.edit"))

    @app.post("/taskforce/figures")
    async def taskforce_figures(request: Request) -> Response:
        form = await request.form()
        return await _in_thread(_save_figures, request, {k: str(v) for k, v in form.items()})

    def _save_figures(request: Request, form: dict[str, str]) -> Response:
        v = viewer(request, "taskforce.edit")
        check_csrf(v, form.get("csrf", ""))
        start, end = period(form.get("from", ""), form.get("to", ""))
        county = form.get("county", "")
        try:
            values = {c.key: number(form.get(c.key, "0") or "0", c.zh, c.en, low=0,
                                    high=10_000_000)
                      for c in taskforce.COLUMNS if not c.from_records}
            taskforce.set_figures(plat.db, county, start, end, values, v.name)
        except Worded as exc:  # the same form again, everything typed kept
            typed = {c.key: form.get(c.key, "") for c in taskforce.COLUMNS}
            return taskforce_view(request, v, start, end, county, typed, error=exc.text,
                                  status=400)
        record(v, "taskforce.figures", county[:64], f"{start}..{end} {values}")
        return see_other(f"/console/taskforce?from={start}&to={end}"
                         f"&county={quote(county.strip())}&done=saved")

    @app.get("/taskforce.xlsx")
    def taskforce_xlsx(request: Request, day_from: Annotated[str, Query(alias="from")] = "",
                       day_to: Annotated[str, Query(alias="to")] = "") -> Response:
        import tempfile

        v = viewer(request, "taskforce")
        start, end = period(day_from, day_to)
        summary = taskforce.summary(plat.db, plat.tz, start, end)
        with tempfile.TemporaryDirectory() as tmp:
            data = taskforce.write_xlsx(summary, Path(tmp) / "t.xlsx").read_bytes()
        record(v, "export.taskforce", f"{start}..{end}")
        return Response(data, media_type="application/vnd.openxmlformats-officedocument."
                                          "spreadsheetml.sheet",
                        headers={"content-disposition":
                                 f'attachment; filename="taskforce-{start}-{end}.xlsx"',
                                 "cache-control": "no-store"})

    # --- audit ------------------------------------------------------------------------------

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request, actor: str = "", action: str = "") -> HTMLResponse:
        v = viewer(request, "audit")
        entries = audit.entries(actor=actor.strip() or None, action=action.strip() or None)
        record(v, "view.audit", actor[:64])
        return page(request, "audit.html", v, entries=entries, actor=actor, action=action,
                    tz=plat.tz)

    @app.get("/style.css")
    def style() -> Response:
        return Response((HERE / "static" / "console.css").read_bytes(), media_type="text/css",
                        headers={"cache-control": "max-age=3600"})

    from desk_platform.console import accounts, work

    for add in (work.add_routes, work.add_anomaly_routes, accounts.add_routes):
        add(app, plat, viewer=viewer, check_csrf=check_csrf, record=record, page=page,
            see_other=see_other)
    return app


async def _in_thread(func: Any, *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func, *args)


def _top(counter: Any, n: int) -> tuple[list[str], list[int]]:
    items = counter.most_common(n)
    return [str(k) for k, _ in items], [int(c) for _, c in items]


def _translated(top: tuple[list[str], list[int]], _: Any) -> tuple[list[str], list[int]]:
    return [_(k) for k in top[0]], top[1]


def _safe_next(url: str) -> str:
    """Only a path inside the console (no open redirect)."""
    if url.startswith("/console/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/console/"


def _cookie(resp: Response, request: Request, name: str, value: str, *, max_age: int | None,
            http_only: bool = True) -> None:
    resp.set_cookie(name, value, max_age=max_age, path="/console", httponly=http_only,
                    samesite="strict", secure=request.url.scheme == "https")
