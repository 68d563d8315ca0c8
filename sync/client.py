"""The desk's HTTP client for the central platform.

One boundary: every httpx transport failure, HTTP error status, undecodable or invalid JSON
answer becomes a typed :class:`~desk_app.errors.NetworkError` (retry later, work goes on
offline) or :class:`~desk_app.errors.AuthError` (needs someone with rights, e.g. the token was
revoked); nothing from httpx or pydantic leaves this module. TLS is verified by default, with
the hospital's own CA file when the settings name one.

Every answer also tells the desk what time the platform thinks it is (the ``Date`` header):
:attr:`PlatformClient.skew_s` is platform minus desk, used for cache freshness so a desk with a
wrong clock neither hides nor invents a stale blacklist. A ``Date`` more than
``MAX_CLOCK_SKEW_S`` (a year) from the desk's clock (a broken proxy sending 9999-12-31) is no
clock at all: ignored as if absent, and logged once.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from desk_app import __version__
from desk_app.clock import MAX_CLOCK_SKEW_S
from desk_app.errors import AuthError, ConfigError, DeskError, NetworkError, Text
from desk_app.settings import PlatformSection
from sync import protocol
from sync.tokens import TokenStore

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class TokenRevoked(AuthError):
    """The platform no longer accepts this desk's token: an admin must enroll it again."""

    title_text = Text("窗口授权失效", "Desk no longer authorized")
    default_text = Text(
        "中心平台已不再接受本窗口的授权 (令牌被吊销或已过期)。记录仍保存在本机, 请管理员重新登记本窗口。",
        "The platform no longer accepts this desk's authorization (token revoked or expired). "
        "Records stay on this PC; an administrator must enroll the desk again.",
    )


class NotEnrolled(AuthError):
    title_text = Text("窗口未登记", "Desk not enrolled")
    default_text = Text(
        "本窗口尚未在中心平台登记, 请管理员用一次性登记码登记。",
        "This desk is not enrolled with the platform yet. An administrator must enroll it with a "
        "one-time code.",
    )


class Forbidden(AuthError):
    default_text = Text(
        "中心平台拒绝了本窗口的请求 (无权限)。请联系信息科检查本窗口的医院设置。",
        "The platform refused this desk's request (not allowed). Please ask hospital IT to check "
        "the desk's hospital settings.",
    )


class PlatformRefused(ConfigError):
    """A 4xx other than auth: the desk and the platform disagree about the protocol or the data.
    Retrying the same request cannot help; hospital IT must look."""

    default_text = Text(
        "中心平台拒绝了本窗口上传的数据 (版本不符或数据无效)。记录仍保存在本机, 请联系信息科。",
        "The platform refused the data this desk sent (version mismatch or invalid data). "
        "Records stay on this PC. Please call hospital IT.",
    )

    def __init__(self, status: int, detail: str = ""):
        self.status = status
        super().__init__(detail=f"HTTP {status} {detail}".strip())


class InvalidRequest(PlatformRefused):
    """Refused by the desk before sending: the body can never be valid for the platform (e.g. a
    NUL in a person's text). The worker parks the item; nothing went over the network."""

    def __init__(self, model: str):
        super().__init__(422, f"{model} invalid on the desk")


def _body(model: type[BaseModel], **fields: Any) -> dict[str, Any]:
    try:
        return model(**fields).model_dump()
    except ValidationError as exc:  # the detail names the model, never the data
        raise InvalidRequest(model.__name__) from exc


class PlatformUnavailable(NetworkError):
    """The platform answered, but not usefully (5xx, 429, garbled or truncated answer), or not
    at all: retry later (not before ``retry_after`` seconds when the platform said so).
    ``reached`` is False when no answer came at all (no connection, timeout): the desk is
    offline, and the rest of the sync cycle would fail the same way."""

    retry_after: float = 0.0
    reached: bool = True

    @classmethod
    def unreached(cls, detail: str) -> PlatformUnavailable:
        exc = cls(detail=detail)
        exc.reached = False
        return exc


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any  # the decoded JSON (None when not decoded)
    server_time: datetime | None
    raw: bytes = b""


def server_time_of(response: httpx.Response, now: float | None = None) -> datetime | None:
    """The platform's time from the ``Date`` header; None when absent, unreadable, or more than
    ``MAX_CLOCK_SKEW_S`` from ``now`` (Unix seconds, default the system clock)."""
    value = response.headers.get("date")
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value)
        dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        off = dt.timestamp() - (time.time() if now is None else now)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return dt if abs(off) <= MAX_CLOCK_SKEW_S else None


def _tls_verify(platform: PlatformSection) -> ssl.SSLContext | bool:
    if not platform.url.startswith("https://"):
        return True
    if not platform.verify_tls:
        log.warning("TLS verification of the platform is switched OFF in the settings")
        return False
    if platform.ca_file:
        try:
            return ssl.create_default_context(cafile=platform.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                Text(
                    f"平台证书文件 {platform.ca_file} 无法读取, 请联系信息科。",
                    f"The platform CA file {platform.ca_file} cannot be read. Please call hospital IT.",
                ),
                detail=type(exc).__name__,
            ) from exc
    return ssl.create_default_context()


class PlatformClient:
    """Typed calls to the platform's desk API. Thread-confined: one per sync worker."""

    def __init__(
        self,
        platform: PlatformSection,
        tokens: TokenStore,
        *,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.platform = platform
        self.tokens = tokens
        self.base_url = (base_url or platform.url).rstrip("/")
        timeout = httpx.Timeout(platform.timeout_s, connect=min(platform.timeout_s, 5.0))
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            verify=_tls_verify(platform),
            transport=transport,
            headers={"user-agent": f"desk-app/{__version__}"},
            follow_redirects=False,
        )
        self.skew_s: float | None = None  # platform clock minus desk clock, last measured
        self.last_contact: datetime | None = None  # platform time of the last answer
        self.last_contact_mono: float = 0.0  # time.monotonic() when the platform said it
        self._bad_date_logged = False  # an absurd Date header is logged once per client

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the one boundary ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        auth: bool = True,
        decode: bool = True,
    ) -> Answer:
        headers = {}
        if auth:
            token = self.tokens.get()
            if not token:
                raise NotEnrolled()
            headers["authorization"] = f"Bearer {token}"
        content = None
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
            headers["content-type"] = "application/json"
        sent_at = time.time()
        try:
            response = self._http.request(method, path, content=content, params=params,
                                          headers=headers)
            body = response.content  # read fully inside the try: truncation shows up here
        except httpx.TimeoutException as exc:
            raise PlatformUnavailable.unreached(
                f"{method} {path}: timeout ({type(exc).__name__})") from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise PlatformUnavailable.unreached(f"{method} {path}: {type(exc).__name__}") from exc
        except httpx.InvalidURL as exc:
            raise ConfigError(
                Text("中心平台地址无效, 请联系信息科。",
                     "The platform address is invalid. Please call hospital IT."),
                detail=type(exc).__name__,
            ) from exc
        server_time = server_time_of(response)
        if server_time is None and response.headers.get("date") and not self._bad_date_logged:
            self._bad_date_logged = True
            log.warning("the platform's Date header %r is unreadable or more than a year off; "
                        "its clock is ignored", response.headers.get("date", "")[:40])
        if server_time is not None:
            # The Date header has whole seconds: +0.5 s is its expected truncation; the middle
            # of the round trip is when the platform read its clock.
            received = time.time()
            self.skew_s = server_time.timestamp() + 0.5 - (sent_at + received) / 2
            self.last_contact = server_time + timedelta(seconds=0.5)
            self.last_contact_mono = time.monotonic() - (received - sent_at) / 2
        status = response.status_code
        if status == 401:
            raise TokenRevoked(detail=f"{method} {path}: 401")
        if status == 403:
            err = _error_body(body)
            if err is not None and err.error == protocol.NOT_OWN_VISIT:  # this call, not the desk
                raise PlatformRefused(status, f"{method} {path}: {_error_code(body)}")
            raise Forbidden(detail=f"{method} {path}: 403")
        if status in (408, 429) or status >= 500:
            exc = PlatformUnavailable(detail=f"{method} {path}: HTTP {status}")
            try:
                exc.retry_after = min(300.0, max(0.0, float(response.headers["retry-after"])))
            except (KeyError, ValueError):
                pass  # no (numeric) Retry-After: the back-off decides
            raise exc
        if status >= 400 or status < 200:
            raise PlatformRefused(status, f"{method} {path}: {_error_code(body)}")
        if status == 204 or not body or not decode:
            return Answer(status, None, server_time, body)
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PlatformUnavailable(detail=f"{method} {path}: undecodable JSON") from exc
        return Answer(status, data, server_time, body)

    def call(self, method: str, path: str, model: type[M], **kw: Any) -> tuple[M, datetime | None]:
        """:meth:`request` and validate the answer with a protocol model."""
        answer = self.request(method, path, decode=False, **kw)
        try:
            # Straight from the bytes (pydantic's JSON parser): 3x faster on 5,000-entry pages;
            # undecodable, truncated and invalid answers all end here as a ValidationError.
            return model.model_validate_json(answer.raw), answer.server_time
        except ValidationError as exc:
            # A proxy or a half-written answer, or a platform of another version: retry later;
            # if it persists the worker shows it (the detail names the model, never the data).
            raise PlatformUnavailable(detail=f"{method} {path}: invalid {model.__name__}") from exc


def _error_body(body: bytes) -> protocol.ErrorBody | None:
    try:
        return protocol.ErrorBody.model_validate_json(body)
    except ValueError:
        return None


def _error_code(body: bytes) -> str:
    """The platform's stable error code and detail (never PII, says the protocol), for the log."""
    err = _error_body(body)
    return "(no error body)" if err is None else f"{err.error}: {err.detail[:300]}"


def is_retryable(exc: DeskError) -> bool:
    """Whether the sync loop should back off and try again on its own."""
    return isinstance(exc, NetworkError)


# --- the desk API -----------------------------------------------------------------------------
# Paths live here only; the models are the shared ones of sync.protocol.

P = protocol.API_PREFIX
PATH_HEALTH = f"{P}/health"
PATH_ENROLL = f"{P}/enroll"
PATH_CONFIG = f"{P}/desk/config"
PATH_WHOAMI = f"{P}/whoami"
PATH_VISITS = f"{P}/visits/batch"
PATH_REPORTS = f"{P}/reports"
PATH_KEYS = f"{P}/keys"
PATH_REVOCATIONS = f"{P}/revocations"
PATH_BOOKINGS = P + "/hospitals/{hospital_id}/bookings"
PATH_BLACKLIST = f"{P}/blacklist"
PATH_ALERTS = P + "/hospitals/{hospital_id}/alerts"
PATH_APPEALS = f"{P}/appeals"
PATH_UNFREEZE = f"{P}/accounts/unfreeze"


class DeskApi(PlatformClient):
    """The calls a desk makes, each returning a validated :mod:`sync.protocol` model."""

    def health(self) -> protocol.Health:
        return self.call("GET", PATH_HEALTH, protocol.Health, auth=False)[0]

    def enroll(self, code: str, desk_label: str = "") -> protocol.EnrollResponse:
        """Exchange a one-time code for this desk's token and keep the token (keyring/file)."""
        code = code.strip()
        try:
            body = protocol.EnrollRequest(code=code, desk_label=desk_label[:200],
                                          app_version=__version__)
        except ValidationError as exc:
            raise EnrollmentRefused(detail="code format") from exc
        try:
            answer, _ = self.call("POST", PATH_ENROLL, protocol.EnrollResponse,
                                  json_body=body.model_dump(mode="json"), auth=False)
        except (AuthError, PlatformRefused) as exc:
            raise EnrollmentRefused(detail=exc.detail) from exc
        self.tokens.set(answer.token)
        log.info("desk enrolled as %s/%s (token in the %s)", answer.hospital_id, answer.desk_id,
                 self.tokens.backend)
        return answer

    def whoami(self) -> protocol.WhoAmI:
        return self.call("GET", PATH_WHOAMI, protocol.WhoAmI)[0]

    def config(self) -> protocol.DeskConfig:
        return self.call("GET", PATH_CONFIG, protocol.DeskConfig)[0]

    def push_visits(self, visits: list[dict[str, Any]]) -> protocol.BatchResult:
        return self.call("POST", PATH_VISITS, protocol.BatchResult,
                         json_body={"visits": visits})[0]

    def report_suspect(self, report: dict[str, Any]) -> protocol.ReportResult:
        return self.call("POST", PATH_REPORTS, protocol.ReportResult, json_body=report)[0]

    def push_override(self, override: dict[str, Any]) -> protocol.OverrideResult:
        path = f"/v1/visits/{override['visit_id']}/override"
        return self.call("POST", path, protocol.OverrideResult, json_body=override)[0]

    def push_visit_alert(self, alert: dict[str, Any]) -> protocol.VisitAlertResult:
        path = f"/v1/visits/{alert['visit_id']}/alert"
        return self.call("POST", path, protocol.VisitAlertResult, json_body=alert)[0]

    def keys(self) -> protocol.KeySetWire:
        return self.call("GET", PATH_KEYS, protocol.KeySetWire)[0]

    def revocations(self, since: int, limit: int) -> protocol.RevocationsDelta:
        return self.call("GET", PATH_REVOCATIONS, protocol.RevocationsDelta,
                         params={"since": since, "limit": limit})[0]

    def bookings(self, hospital_id: str, cursor: int, limit: int) -> protocol.BookingsDelta:
        return self.call("GET", PATH_BOOKINGS.format(hospital_id=hospital_id),
                         protocol.BookingsDelta,
                         params={"cursor": cursor, "limit": limit})[0]

    def blacklist(self, since: int, limit: int) -> protocol.BlacklistDelta:
        return self.call("GET", PATH_BLACKLIST, protocol.BlacklistDelta,
                         params={"since": since, "limit": limit})[0]

    def alerts(self, hospital_id: str, cursor: int, limit: int) -> protocol.AlertsDelta:
        return self.call("GET", PATH_ALERTS.format(hospital_id=hospital_id), protocol.AlertsDelta,
                         params={"cursor": cursor, "limit": limit})[0]

    def file_appeal(self, id_hash: str, clerk: str, statement: str) -> protocol.AppealsFiled:
        """A person's appeal against the blacklist (the clerk checked their ID card)."""
        body = _body(protocol.AppealRequest, id_hash=id_hash, clerk=clerk, statement=statement)
        return self.call("POST", PATH_APPEALS, protocol.AppealsFiled, json_body=body)[0]

    def unfreeze_accounts(self, id_hash: str, clerk: str) -> protocol.Unfrozen:
        """The person's ID card was checked here: unfreeze their frozen booking accounts."""
        body = _body(protocol.UnfreezeRequest, id_hash=id_hash, clerk=clerk)
        return self.call("POST", PATH_UNFREEZE, protocol.Unfrozen, json_body=body)[0]


class EnrollmentRefused(AuthError):
    title_text = Text("登记失败", "Enrollment failed")
    default_text = Text(
        "登记码无效、已用过或已过期。请向平台管理员索取新的一次性登记码。",
        "The enrollment code is invalid, used or expired. Ask the platform administrator for a "
        "new one-time code.",
    )
