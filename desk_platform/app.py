"""The platform's HTTP API (FastAPI), versioned under ``/v1``.

Stateless: every request reads and writes the database and nothing else (apart from the
rate-limit buckets, see ``limits.py``), so several processes serve one database. Route functions
are plain ``def``: FastAPI runs them in its thread pool, so a slow query never blocks the event
loop. Request and answer bodies are the models of :mod:`sync.protocol`.

Every error is ``{"error": code, "detail": text}`` (:class:`sync.protocol.ErrorBody`) with the
matching status; validation errors name the field but never echo the input (it may hold an ID
number).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from desk_app import __version__
from desk_platform import alert_photos, office
from desk_platform import staff as staff_api
from desk_platform.authz import Perm, blacklist_source, require
from desk_platform.base import Principal
from desk_platform.console import mount_console
from desk_platform.db import Database
from desk_platform.errors import InvalidData, PlatformError, Unauthorized
from desk_platform.limits import LimitConfig, LimitsMiddleware
from desk_platform.secrets import load_secrets
from desk_platform.service import Platform
from desk_platform.staff import Staff
from sync import protocol as P

log = logging.getLogger(__name__)

ENV_DB = "DESK_PLATFORM_DB"
ENV_LIMITS = "DESK_PLATFORM_LIMITS"  # "token_rate,token_burst,address_rate,address_burst"
ENV_RATE_STORE = "DESK_PLATFORM_RATE_STORE"  # "" or redis://host:6379/0
ENV_ANOMALY_EVERY = "DESK_PLATFORM_ANOMALY_EVERY_MIN"  # minutes between anomaly scans, 0 = off
ENV_PHOTO_DAYS = "DESK_PLATFORM_ALERT_PHOTO_DAYS"  # days a desk alert's photos are kept at most


@dataclass(frozen=True)
class ServerConfig:
    db_url: str
    key_file: str | None = None
    limits: LimitConfig = field(default_factory=LimitConfig)
    pool_size: int = 10
    #: the anomaly rules every this many minutes, in one process of all (0: only on demand)
    anomaly_every_min: float = 0.0
    #: a desk alert's photos are kept at most this many days (less once it is handled)
    alert_photo_days: float = alert_photos.DEFAULT_RETENTION_DAYS


def _limits_from_env(text: str | None, store: str | None = None) -> LimitConfig:
    if not text:
        return LimitConfig(store=store or "")
    tr, tb, ar, ab = (float(x) for x in text.split(","))
    return LimitConfig(token_rate=tr, token_burst=tb, address_rate=ar, address_burst=ab,
                       store=store or "")


def limits_to_env(limits: LimitConfig) -> str:
    return (f"{limits.token_rate},{limits.token_burst},"
            f"{limits.address_rate},{limits.address_burst}")


def create_app_from_env() -> FastAPI:
    """The uvicorn factory for ``--workers N`` (each worker process builds its own app)."""
    db_url = os.environ.get(ENV_DB)
    if not db_url:
        raise RuntimeError(f"{ENV_DB} is not set")
    return create_app(ServerConfig(db_url=db_url, key_file=os.environ.get("DESK_PLATFORM_KEY_FILE"),
                                   limits=_limits_from_env(os.environ.get(ENV_LIMITS),
                                                           os.environ.get(ENV_RATE_STORE)),
                                   anomaly_every_min=float(os.environ.get(ENV_ANOMALY_EVERY)
                                                           or 0),
                                   alert_photo_days=float(
                                       os.environ.get(ENV_PHOTO_DAYS)
                                       or alert_photos.DEFAULT_RETENTION_DAYS)))


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")

Limit = Annotated[int, Query(ge=1, le=P.MAX_PAGE)]
Cursor = Annotated[int, Query(ge=0, le=2**62)]
Ident = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


def principal(request: Request,
              creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
              ) -> Principal:
    """The caller, from its bearer token (checked against the database on every request, so a
    revoked token stops working at once in every process)."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required")
    return request.app.state.platform.enrollment.authenticate(creds.credentials)


Who = Annotated[Principal, Depends(principal)]


def create_app(config: ServerConfig, platform: Platform | None = None) -> FastAPI:
    if platform is None:
        db = Database(config.db_url, pool_size=config.pool_size)
        platform = Platform(db, load_secrets(config.db_url, config.key_file))
    plat = platform

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from desk_platform.schedule import PeriodicScan, PhotoPurge

        scan = PeriodicScan(plat, config.anomaly_every_min)
        _app.state.anomaly_scan = scan
        scan.start()  # a thread of its own: requests never wait for a scan
        purge = PhotoPurge(plat)  # alert photos past their time: at the start, then every 10 min
        _app.state.photo_purge = purge
        purge.start()
        try:
            yield
        finally:
            scan.stop()
            purge.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="desk-platform",
        version=__version__,
        description="Reference central platform for real-name hospital check-in desks: "
                    "enrollment, booking keys, bookings and blacklist deltas, visit ingest, "
                    "alerts, suspect reports and statistics.",
        # The API description is behind a token like every endpoint but health and enroll
        # (served below); no browsable docs page (it could not send the token). Integrators
        # fetch the document with their token or print it: `desk-platform openapi`.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.platform = plat
    staff = Staff(plat.db)
    app.state.staff = staff
    watch = office.AlertWatch(lambda hid: office.head(plat, hid))
    app.state.alert_watch = watch
    app.add_middleware(LimitsMiddleware, config=config.limits)

    # --- errors -----------------------------------------------------------------------------------

    def _err(status: int, code: str, detail: str, headers: dict[str, str] | None = None
             ) -> JSONResponse:
        return JSONResponse(P.ErrorBody(error=code, detail=detail[:1000]).model_dump(),
                            status_code=status, headers=headers)

    @app.exception_handler(PlatformError)
    async def _platform_error(_r: Request, exc: PlatformError) -> JSONResponse:
        headers = {"www-authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return _err(exc.status, exc.code, exc.detail, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for e in exc.errors()[:10]:
            loc = ".".join(str(x) for x in e.get("loc", ()))
            parts.append(f"{loc}: {e.get('msg', 'invalid')}")
        return _err(422, "invalid_request", "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized",
                403: "forbidden"}.get(exc.status_code, "invalid_request")
        return _err(exc.status_code, code, str(exc.detail))

    @app.exception_handler(DBAPIError)
    async def _db_error(r: Request, exc: DBAPIError) -> JSONResponse:
        # Only what may succeed when sent again is a 503 (a desk resends it until it does): a
        # lost connection, a serialization failure, a deadlock (OperationalError on both
        # databases; rolled back). A value or a constraint the database refuses fails the same
        # way every time: 422 invalid_data / 409, and a desk parks the item. Logged by kind and
        # SQLSTATE only: the message and the parameters may hold an ID number or a name.
        why = f"{type(exc.orig).__name__} {getattr(exc.orig, 'sqlstate', None) or ''}".strip()
        if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
            log.warning("database unavailable or busy: %s", why)
            return _err(503, "unavailable", "database unavailable or busy, retry later",
                        {"retry-after": "2"})
        if isinstance(exc, DataError):
            log.warning("%s %s: the database refused a value (%s)", r.method, r.url.path, why)
            return _err(InvalidData.status, InvalidData.code, "the database refused a value of "
                        "this request (a NUL character in a text, ...): it fails every time")
        if isinstance(exc, IntegrityError):
            log.warning("%s %s: a database constraint refused the change (%s %s)", r.method,
                        r.url.path, why, getattr(getattr(exc.orig, "diag", None),
                                                 "constraint_name", None) or "")
            return _err(409, "conflict", "the change conflicts with data already stored")
        log.error("%s %s: database error (%s)", r.method, r.url.path, why)
        return _err(500, "internal", "internal error")

    @app.exception_handler(Exception)
    async def _bug(_r: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return _err(500, "internal", "internal error")

    # --- public -----------------------------------------------------------------------------------

    v1 = P.API_PREFIX

    @app.get(f"{v1}/health", response_model=P.Health, tags=["public"])
    def health() -> P.Health:
        return P.Health(version=__version__, server_time=plat.now())

    @app.post(f"{v1}/enroll", response_model=P.EnrollResponse, tags=["public"],
              summary="Exchange a one-time enrollment code for a desk token")
    def enroll(body: P.EnrollRequest) -> P.EnrollResponse:
        return plat.enrollment.enroll(body)

    # --- any token --------------------------------------------------------------------------------

    @app.get(f"{v1}/openapi.json", include_in_schema=False)
    def openapi_document(_who: Who) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(f"{v1}/whoami", response_model=P.WhoAmI, tags=["auth"])
    def whoami(who: Who) -> P.WhoAmI:
        return P.WhoAmI(role=who.role, name=who.name, hospital_id=who.hospital_id,
                        desk_id=who.desk_id)

    @app.get(f"{v1}/desk/config", response_model=P.DeskConfig, tags=["desk"])
    def desk_config(who: Who) -> P.DeskConfig:
        require(who, Perm.DESK_CONFIG)
        return plat.enrollment.desk_config(who)

    @app.get(f"{v1}/keys", response_model=P.KeySetWire, tags=["keys"])
    def keys(who: Who) -> P.KeySetWire:
        require(who, Perm.KEYS_READ)
        return plat.keys.keyset()

    @app.post(f"{v1}/keys/rotate", response_model=P.KeyRotated, tags=["keys"])
    def keys_rotate(who: Who) -> P.KeyRotated:
        require(who, Perm.KEYS_ROTATE)
        return plat.keys.rotate()

    @app.get(f"{v1}/revocations", response_model=P.RevocationsDelta, tags=["keys"])
    def revocations(who: Who, since: Cursor = 0, limit: Limit = P.DEFAULT_PAGE
                    ) -> P.RevocationsDelta:
        require(who, Perm.REVOCATIONS_READ)
        return plat.keys.revocations_delta(who, since, limit)

    # --- bookings ---------------------------------------------------------------------------------

    @app.get(f"{v1}/hospitals/{{hospital_id}}/bookings", response_model=P.BookingsDelta,
             tags=["bookings"], summary="Bookings of a hospital changed after a cursor")
    def bookings(who: Who, hospital_id: Ident, cursor: Cursor = 0,
                 limit: Limit = P.DEFAULT_PAGE, day: date | None = None) -> P.BookingsDelta:
        require(who, Perm.BOOKINGS_READ, hospital_id)
        return plat.bookings.delta(hospital_id, cursor, limit, day)

    @app.post(f"{v1}/bookings", response_model=P.IssuedBooking, tags=["bookings"],
              summary="Book a slot for a patient (the booking platform)")
    def book(who: Who, body: P.BookingRequest) -> P.IssuedBooking:
        require(who, Perm.BOOKINGS_WRITE, body.hospital_id)
        return plat.bookings.book(body)

    @app.post(f"{v1}/bookings/{{booking_id}}/cancel", response_model=P.CancelResult,
              tags=["bookings"])
    def cancel(who: Who, booking_id: Ident) -> P.CancelResult:
        require(who, Perm.BOOKINGS_WRITE)
        return plat.bookings.cancel(booking_id)

    # --- blacklist --------------------------------------------------------------------------------

    @app.get(f"{v1}/blacklist", response_model=P.BlacklistDelta, tags=["blacklist"],
             summary="Blacklist entries (hashes) changed after a version, tombstones included")
    def blacklist(who: Who, since: Cursor = 0, limit: Limit = P.DEFAULT_PAGE
                  ) -> P.BlacklistDelta:
        require(who, Perm.BLACKLIST_READ)
        return plat.blacklist.delta(since, limit)

    @app.post(f"{v1}/blacklist", response_model=P.BlacklistEntryWire, tags=["blacklist"])
    def blacklist_add(who: Who, body: P.BlacklistAddRequest) -> P.BlacklistEntryWire:
        source = blacklist_source(who, body.source)  # the caller's own: 403 for another
        return plat.blacklist.add(body.id_number, source=source, reason=body.reason,
                                  days=body.days, created_by=who.name)

    @app.delete(f"{v1}/blacklist/{{entry_id}}", response_model=P.BlacklistEntryWire,
                tags=["blacklist"])
    def blacklist_remove(who: Who, entry_id: Ident) -> P.BlacklistEntryWire:
        return plat.blacklist.remove(entry_id, source=blacklist_source(who))

    @app.get(f"{v1}/blacklist/{{entry_id}}/plain", response_model=P.BlacklistPlain,
             tags=["blacklist"], summary="The plaintext ID number of an entry (police; audited)")
    def blacklist_reveal(request: Request, response: Response, who: Who,
                         entry_id: Ident) -> P.BlacklistPlain:
        require(who, Perm.BLACKLIST_REVEAL)
        response.headers["cache-control"] = "no-store"  # a plaintext ID number
        return plat.blacklist.reveal(entry_id, viewer=who,  # audited with the read
                                     address=request.client.host if request.client else "")

    # --- visits, alerts, reports, stats ----------------------------------------------------------

    @app.post(f"{v1}/visits/batch", response_model=P.BatchResult, tags=["visits"],
              summary="Idempotent batch upload of visit records (keyed by visit_id)")
    def visits_batch(who: Who, body: P.VisitBatch) -> P.BatchResult:
        require(who, Perm.VISITS_WRITE, who.hospital_id)
        for v in body.visits:
            require(who, Perm.VISITS_WRITE, v.hospital_id)
        result = plat.visits.ingest(who, body)
        office.after_ingest(plat, who, body, result)  # desk alerts, blacklist hits elsewhere
        return result

    @app.post(f"{v1}/visits/{{visit_id}}/override", response_model=P.OverrideResult,
              tags=["visits"], summary="An override of a visit uploaded before it was overridden")
    def visit_override(who: Who, visit_id: str, body: P.VisitOverride) -> P.OverrideResult:
        return plat.visits.override(own_visit(who, visit_id, body), body)

    @app.post(f"{v1}/visits/{{visit_id}}/alert", response_model=P.VisitAlertResult,
              tags=["visits"], summary="A desk flagged its visit for security after uploading it")
    def visit_alert(who: Who, visit_id: str, body: P.VisitAlert) -> P.VisitAlertResult:
        return office.alert_after_visit(plat, own_visit(who, visit_id, body), body)

    def own_visit(who: Principal, visit_id: str, body: P.VisitOverride | P.VisitAlert
                  ) -> Principal:
        """A later call on one uploaded visit: the caller may write visits, path and body agree
        (whose visit it is, the call itself checks)."""
        require(who, Perm.VISITS_WRITE, who.hospital_id)
        if body.visit_id != visit_id:
            raise PlatformError("visit_id in the path and the body differ")
        return who

    @app.get(f"{v1}/hospitals/{{hospital_id}}/alerts", response_model=P.AlertsDelta,
             tags=["visits"], summary="Conflicts and alerts of a hospital after a cursor")
    def alerts(who: Who, hospital_id: Ident, cursor: Cursor = 0,
               limit: Limit = P.DEFAULT_PAGE) -> P.AlertsDelta:
        require(who, Perm.ALERTS_READ, hospital_id)
        return office.alerts_delta(plat, hospital_id, cursor, limit)

    @app.post(f"{v1}/hospitals/{{hospital_id}}/alerts/{{alert_id}}/handled",
              response_model=P.AlertWire, tags=["visits"],
              summary="Mark an alert handled, once for all desks of the hospital")
    def alert_handled(who: Who, hospital_id: Ident, alert_id: Ident,
                      body: P.AlertHandled) -> P.AlertWire:
        require(who, Perm.ALERTS_HANDLE, hospital_id)
        return office.handle(plat, who, hospital_id, alert_id, body)

    photo_retention = timedelta(days=config.alert_photo_days)

    @app.post(f"{v1}/hospitals/{{hospital_id}}/alerts/photos",
              response_model=P.AlertPhotosStored, tags=["visits"],
              summary="A desk's alert: its two photos (small JPEGs), kept encrypted until "
                      "handled + 1 day or the retention")
    def alert_photos_post(who: Who, hospital_id: Ident,
                          body: P.AlertPhotosUpload) -> P.AlertPhotosStored:
        require(who, Perm.VISITS_WRITE, hospital_id)
        return alert_photos.store(plat, who, hospital_id, body, photo_retention)

    @app.get(f"{v1}/hospitals/{{hospital_id}}/alerts/{{alert_id}}/photos",
             response_model=P.AlertPhotos, tags=["visits"],
             summary="An alert's photos for the security office (audited; 404 once purged). "
                     "A desk names its signed-in person: `viewer`, `viewer_role`")
    def alert_photos_get(request: Request, response: Response, who: Who, hospital_id: Ident,
                         alert_id: Ident,
                         viewer: Annotated[str | None, Query(max_length=64)] = None,
                         viewer_role: Annotated[str | None, Query(max_length=16)] = None
                         ) -> P.AlertPhotos:
        require(who, Perm.ALERTS_READ, hospital_id)
        response.headers["cache-control"] = "no-store"  # faces: no proxy or client cache
        return alert_photos.view(plat, who, hospital_id, alert_id, viewer=viewer,
                                 viewer_role=viewer_role,
                                 address=request.client.host if request.client else "")

    @app.get(f"{v1}/hospitals/{{hospital_id}}/alerts/wait", response_model=P.AlertsDelta,
             tags=["visits"], summary="Long-poll: the alerts after a cursor, as soon as there "
                                      "are any (or an empty page after `timeout` s)")
    async def alerts_wait(who: Who, hospital_id: Ident, cursor: Cursor = 0,
                          timeout: Annotated[float, Query(ge=0, le=60)] = 25.0
                          ) -> P.AlertsDelta:
        require(who, Perm.ALERTS_READ, hospital_id)
        await watch.wait_beyond(hospital_id, cursor, timeout)
        return await run_in_threadpool(office.alerts_delta, plat, hospital_id, cursor,
                                       P.DEFAULT_PAGE)

    @app.get(f"{v1}/hospitals/{{hospital_id}}/alerts/stream", tags=["visits"],
             summary="Server-sent events: one `alerts` event (an AlertsDelta) whenever the "
                     "hospital's alerts change, a comment line every 15 s meanwhile")
    async def alerts_stream(request: Request, who: Who, hospital_id: Ident,
                            cursor: Cursor = 0) -> StreamingResponse:
        require(who, Perm.ALERTS_READ, hospital_id)
        token = who.token_hash

        checked = time.monotonic()  # the token was checked for this request just now

        async def still_valid(due: bool = False) -> bool:
            """The token, checked again at each heartbeat (``due``) and whenever the last check
            is HEARTBEAT_S old: a revoked token ends the stream within 15 s whether alerts keep
            coming or not."""
            nonlocal checked
            if not due and time.monotonic() - checked < office.HEARTBEAT_S:
                return True
            checked = time.monotonic()
            return await run_in_threadpool(office.token_valid, plat, token)

        async def events():  # noqa: ANN202 - an async generator of text
            cur = cursor
            yield ": connected\n\n"
            while not await request.is_disconnected():
                if not await watch.wait_beyond(hospital_id, cur, office.HEARTBEAT_S):
                    if not await still_valid(due=True):
                        return
                    yield ": keep-alive\n\n"
                    continue
                while True:
                    d = await run_in_threadpool(office.alerts_delta, plat, hospital_id, cur,
                                                P.DEFAULT_PAGE)
                    if not await still_valid():  # checked before an event too, if due
                        return
                    cur = d.cursor
                    yield f"id: {cur}\nevent: alerts\ndata: {d.model_dump_json()}\n\n"
                    if not d.more:
                        break

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store",
                                          "x-accel-buffering": "no"})

    @app.post(f"{v1}/reports", response_model=P.ReportResult, tags=["visits"])
    def report(who: Who, body: P.SuspectReport) -> P.ReportResult:
        require(who, Perm.REPORTS_WRITE, body.hospital_id)
        return plat.alerts.report(who, body)

    @app.get(f"{v1}/hospitals/{{hospital_id}}/stats", response_model=P.DayStats,
             tags=["stats"])
    def stats(who: Who, hospital_id: Ident, day: date) -> P.DayStats:
        require(who, Perm.STATS_READ, hospital_id)
        return plat.stats.day(hospital_id, day)

    # --- insiders -------------------------------------------------------------------------------

    @app.post(f"{v1}/hospitals/{{hospital_id}}/insiders", response_model=P.InsiderStored,
              tags=["stats"], summary="A desk's figures of one week per person (overrides, "
                                      "undecided faces confirmed within a second)")
    def insiders_post(who: Who, hospital_id: Ident, body: P.InsiderWeekReport
                      ) -> P.InsiderStored:
        require(who, Perm.INSIDERS_WRITE, hospital_id)
        if body.hospital_id != hospital_id:
            raise PlatformError("hospital_id in the path and the body differ")
        return office.store_insiders(plat, who, body)

    @app.get(f"{v1}/hospitals/{{hospital_id}}/insiders", response_model=P.InsiderWeek,
             tags=["stats"], summary="Each person's week over every desk of the hospital, "
                                     "with who is far above their colleagues")
    def insiders_get(who: Who, hospital_id: Ident,
                     week: Annotated[str, Query(min_length=1, max_length=8,
                                                description="ISO week, e.g. 2026-W49")]
                     ) -> P.InsiderWeek:
        require(who, Perm.INSIDERS_READ, hospital_id)  # before the week's form: 403 first
        if not re.fullmatch(r"[0-9]{4}-W[0-9]{2}", week):
            raise PlatformError("week: an ISO week such as 2026-W49")
        return office.insider_week(plat, hospital_id, week)

    # --- staff accounts (desks cache them; the hospital's administrator manages them) -----------

    @app.get(f"{v1}/hospitals/{{hospital_id}}/staff", response_model=P.StaffDelta,
             tags=["staff"], summary="The hospital's accounts changed after a version, with "
                                     "their argon2 hashes (its desks only)")
    def staff_delta(who: Who, hospital_id: Ident, since: Cursor = 0,
                    limit: Limit = P.DEFAULT_PAGE) -> P.StaffDelta:
        require(who, Perm.STAFF_SYNC, hospital_id)
        return staff_api.delta_wire(staff, hospital_id, since, limit)

    @app.post(f"{v1}/hospitals/{{hospital_id}}/staff", response_model=P.StaffMemberWire,
              tags=["staff"], summary="Create a clerk, guard or administrator account")
    def staff_add(who: Who, hospital_id: Ident, body: P.StaffAddRequest) -> P.StaffMemberWire:
        require(who, Perm.STAFF_WRITE, hospital_id)
        return staff_api.member_wire(staff_api.add_for_hospital(staff, hospital_id, body,
                                                                who.name))

    @app.post(f"{v1}/hospitals/{{hospital_id}}/staff/{{username}}/active",
              response_model=P.StaffMemberWire, tags=["staff"],
              summary="Enable or disable an account (every desk follows at its next sync)")
    def staff_active(who: Who, hospital_id: Ident, username: Ident,
                     body: P.StaffActiveRequest) -> P.StaffMemberWire:
        require(who, Perm.STAFF_WRITE, hospital_id)
        m = staff_api.hospital_member(staff, hospital_id, username)
        return staff_api.member_wire(staff.set_active(m.username, body.active, actor=who.name))

    @app.post(f"{v1}/hospitals/{{hospital_id}}/staff/{{username}}/password",
              response_model=P.StaffMemberWire, tags=["staff"], summary="Set a new password")
    def staff_password(who: Who, hospital_id: Ident, username: Ident,
                       body: P.StaffPasswordRequest) -> P.StaffMemberWire:
        require(who, Perm.STAFF_WRITE, hospital_id)
        m = staff_api.hospital_member(staff, hospital_id, username)
        try:
            changed = staff.set_password(m.username, body.password, actor=who.name)
        except ValueError as exc:
            raise PlatformError(str(exc)) from None
        return staff_api.member_wire(changed)

    # --- administration ---------------------------------------------------------------------------

    @app.post(f"{v1}/admin/enrollments", response_model=P.EnrollmentCode, tags=["admin"],
              summary="A one-time enrollment code for one desk")
    def enrollment_code(who: Who, body: P.EnrollmentCodeRequest) -> P.EnrollmentCode:
        require(who, Perm.ENROLL_ISSUE, body.hospital_id)
        return plat.enrollment.create_code(body.hospital_id, body.desk_id, created_by=who.name,
                                           ttl=timedelta(hours=body.ttl_hours))

    @app.post(f"{v1}/admin/hospitals/{{hospital_id}}/desks/{{desk_id}}/revoke",
              response_model=P.DeskRevoked, tags=["admin"])
    def desk_revoke(who: Who, hospital_id: Ident, desk_id: Ident) -> P.DeskRevoked:
        require(who, Perm.DESKS_REVOKE, hospital_id)
        return plat.enrollment.revoke_desk(hospital_id, desk_id)

    mount_console(app, plat)  # the task force's console under /console/
    return app
