"""The security office on the desk's side of the wire: the hospital's alerts into
``office_alerts`` (from the alerts delta of every sync cycle and, live, from the platform's
push), "handled" sent up (outbox kind ``alert_handled``), and the ``alert`` mark on uploaded
visits that alerted security here.

:class:`AlertPush` owns the push connection on its own thread: a server-sent-events stream
(``GET /v1/hospitals/{id}/alerts/stream?cursor=N``, chosen by measurement, see
docs/architecture.md "The security office"), each ``alerts`` event an
:class:`sync.protocol.AlertsDelta` applied with its cursor in one transaction. It reconnects
with back-off when the stream breaks, sleeps while the desk is not enrolled, and stops within
a second when asked. Listeners (the security screen through a Qt signal) hear of every applied
page on the push thread or the sync thread; the GUI thread never waits on either.
"""

from __future__ import annotations

import base64
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

import cv2
import httpx
import numpy as np
from pydantic import ValidationError

from desk_app.errors import DeskError, NetworkError, PhotosNotHere
from desk_app.settings import PlatformSection
from desk_app.storage import Store
from desk_app.storage.office_alerts import OfficeAlert, OfficeAlerts, OfficeApplied
from sync import protocol
from sync.backoff import Backoff
from sync.client import DeskApi, NotEnrolled, PlatformRefused, TokenRevoked, _tls_verify
from sync.tokens import TokenStore

log = logging.getLogger(__name__)

PATH_HANDLED = protocol.API_PREFIX + "/hospitals/{hospital_id}/alerts/{alert_id}/handled"
PATH_INSIDERS = protocol.API_PREFIX + "/hospitals/{hospital_id}/insiders"
PATH_STREAM = protocol.API_PREFIX + "/hospitals/{hospital_id}/alerts/stream"
PATH_PHOTOS_UP = protocol.API_PREFIX + "/hospitals/{hospital_id}/alerts/photos"
PATH_PHOTOS = protocol.API_PREFIX + "/hospitals/{hospital_id}/alerts/{alert_id}/photos"
PHOTO_HEIGHT, PHOTO_QUALITY = 240, 80  # what the security office needs to recognise a face
READ_TIMEOUT_S = 40.0  # the platform writes a comment line every 15 s: a silent stream is dead

Listener = Callable[[OfficeApplied], Any]


def office_alert(a: protocol.AlertWire) -> OfficeAlert:
    return OfficeAlert(
        alert_id=a.alert_id, seq=a.seq, kind=a.kind.value, booking_id=a.booking_id,
        visit_ids=tuple(a.visit_ids), desk_ids=tuple(a.desk_ids), created_at=a.created_at,
        detail=a.detail, handled_by=a.handled_by, handled_at=a.handled_at,
        handled_note=a.handled_note, handled_desk=a.handled_desk)


def handled_payload(payload: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """(hospital, alert id, body) of an ``alert_handled`` outbox item, None when invalid."""
    try:
        body = protocol.AlertHandled(handled_by=payload["handled_by"],
                                     note=payload.get("note", ""))
        return str(payload["hospital_id"]), str(payload["alert_id"]), body.model_dump()
    except (KeyError, ValueError):
        return None


def small_jpeg(image: bytes | None, height: int = PHOTO_HEIGHT,
               quality: int = PHOTO_QUALITY) -> bytes | None:
    """A stored photo (PNG) as a JPEG at most ``height`` pixels high (None if unreadable)."""
    if not image:
        return None
    img = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        return None
    h, w = img.shape[:2]
    if h > height:
        img = cv2.resize(img, (max(1, round(w * height / h)), height),
                         interpolation=cv2.INTER_AREA)
    for q in (quality, quality - 20, quality - 40):  # within what the platform takes
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok and len(buf) <= protocol.MAX_PHOTO_BYTES:
            return buf.tobytes()
    return None


def fetch_photos(api: DeskApi, hospital_id: str, alert_id: str, viewer: str, viewer_role: str
                 ) -> tuple[bytes | None, bytes | None]:
    """Another window's alert photos from the platform, for the person signed in here (who is
    named: the platform audits the look). In memory only. :class:`PhotosNotHere` when the
    platform no longer keeps them (``gone``) or cannot be reached (``offline``)."""
    try:
        got, _ = api.call("GET", PATH_PHOTOS.format(hospital_id=hospital_id, alert_id=alert_id),
                          protocol.AlertPhotos,
                          params={"viewer": viewer, "viewer_role": viewer_role})
    except PlatformRefused as exc:
        if exc.status == 404:
            raise PhotosNotHere.gone() from None
        raise
    except (NetworkError, NotEnrolled, TokenRevoked):  # no way to the platform now
        raise PhotosNotHere.offline() from None
    return got.id_photo, got.live_face


class OfficeSync:
    """The office's part of the sync worker: apply alert pages, send handled marks and alert
    photos."""

    def __init__(self, store: Store):
        self.store = store
        self.alerts = OfficeAlerts(store)
        #: privacy.share_alert_photos, read when sending (the composition root sets it)
        self.share_photos: Callable[[], bool] = lambda: True
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()  # the push thread and the sync thread both apply

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def apply(self, d: protocol.AlertsDelta, *, move_cursor: bool) -> OfficeApplied:
        with self._lock:
            applied = self.alerts.apply([office_alert(a) for a in d.alerts],
                                        d.cursor if move_cursor else None)
        if applied.new_open or applied.handled:
            for fn in list(self._listeners):
                try:
                    fn(applied)
                except Exception:  # noqa: BLE001 - a listener's bug must not stop sync
                    log.exception("office alert listener failed")
        return applied

    def mark_alerts(self, visits: list[tuple[Any, dict[str, Any]]]) -> None:
        """Set ``alert`` on the visit payloads that alerted security at this desk."""
        alerting = self.alerts.alerting_visits(p["visit_id"] for _, p in visits)
        for _, p in visits:
            p["alert"] = p["visit_id"] in alerting

    def send_photos(self, api: DeskApi, payload: dict[str, Any]) -> bool:
        """POST one alert's photos (``alert_photos`` item: read from the case now, shrunk to
        small JPEGs); False when the item can never be sent. Done without sending when the site
        keeps photos on the desk or they are purged here already."""
        try:
            hospital, visit_id = str(payload["hospital_id"]), str(payload["visit_id"])
            alert_id = str(payload["alert_id"])
        except KeyError:
            return False
        if not self.share_photos():
            log.info("alert photos kept on this desk (privacy.share_alert_photos is off)")
            return True
        id_photo, live = self.store.alerts.photos_to_share(alert_id)
        id_jpeg, live_jpeg = small_jpeg(id_photo), small_jpeg(live)
        if id_jpeg is None and live_jpeg is None:
            return True
        body = protocol.AlertPhotosUpload(
            visit_id=visit_id, id_photo=base64.b64encode(id_jpeg) if id_jpeg else None,
            live_face=base64.b64encode(live_jpeg) if live_jpeg else None)
        try:
            got, _ = api.call("POST", PATH_PHOTOS_UP.format(hospital_id=hospital),
                              protocol.AlertPhotosStored, json_body=body.model_dump(mode="json"))
        except PlatformRefused as exc:
            log.warning("alert photos refused by the platform (HTTP %s)", exc.status)
            return False
        log.info("alert photos sent: %s", got.status)
        return True

    @staticmethod
    def send_handled(api: DeskApi, payload: dict[str, Any]) -> bool:
        """POST one handled mark; False when the item can never be sent (invalid). An alert the
        platform does not know (404: the visit went up before alerts did) is done, too."""
        parsed = handled_payload(payload)
        if parsed is None:
            return False
        hospital, alert_id, body = parsed
        try:
            api.call("POST", PATH_HANDLED.format(hospital_id=hospital, alert_id=alert_id),
                     protocol.AlertWire, json_body=body)
        except PlatformRefused as exc:
            if exc.status != 404:
                raise
            log.info("handled mark for an alert the platform does not have: dropped")
        return True


def send_insiders(api: DeskApi, payload: dict[str, Any]) -> bool:
    """POST one week of insider figures; False when the item can never be sent (invalid)."""
    try:
        body = protocol.InsiderWeekReport.model_validate(payload)
    except ValueError:
        return False
    api.call("POST", PATH_INSIDERS.format(hospital_id=body.hospital_id),
             protocol.InsiderStored, json_body=body.model_dump(mode="json"))
    return True


class AlertPush:
    """The push connection's owner (one thread). ``start()``/``stop()`` from the composition
    root; ``connected`` says whether the stream is open now."""

    def __init__(self, office: OfficeSync, platform: PlatformSection, tokens: TokenStore,
                 hospital_id: str, *, backoff: Backoff | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.office = office
        self.platform = platform
        self.tokens = tokens
        self.hospital_id = hospital_id
        self.backoff = backoff or Backoff(base_s=1.0, max_s=30.0)
        self._transport = transport
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: httpx.Response | None = None
        self._paused = threading.Event()
        self.connected = threading.Event()
        self.events = 0

    def set_paused(self, paused: bool) -> None:
        """Sync paused by the user: no network traffic at all, so the stream closes too (and
        opens again on resume; the pulls catch up what came meanwhile)."""
        if paused:
            self._paused.set()
            self._close_response()
        else:
            self._paused.clear()

    def _close_response(self) -> None:
        """Ends the stream from another thread. Closing a socket does not wake a thread
        blocked reading it (Linux); shutting it down does, so the read returns at once instead
        of at the platform's next heartbeat (15 s)."""
        r = self._response
        if r is not None:
            try:
                stream = r.extensions.get("network_stream")
                sock = stream.get_extra_info("socket") if stream is not None else None
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)
                r.close()
            except Exception:  # noqa: BLE001 - closing from another thread may race; logged
                log.debug("closing the push stream raced", exc_info=True)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="alert-push", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._close_response()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("alert push did not stop within %.0f s", timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._paused.is_set():
                self._stop.wait(1.0)
                continue
            try:
                self._stream_once()
                self.backoff.reset()
                wait = 0.5
            except (httpx.HTTPError, DeskError, ValidationError, OSError) as exc:
                wait = self.backoff.next_delay()
                log.info("alert push: %s; again in %.1f s", type(exc).__name__, wait)
            except Exception:  # noqa: BLE001 - a bug must not kill the thread; logged
                log.exception("alert push failed unexpectedly")
                wait = self.backoff.next_delay()
            finally:
                self.connected.clear()
            self._stop.wait(wait)

    def _stream_once(self) -> None:
        token = self.tokens.get()
        if not token:
            self._stop.wait(5.0)  # not enrolled (yet): nothing to listen to
            return
        timeout = httpx.Timeout(READ_TIMEOUT_S, connect=min(self.platform.timeout_s, 5.0))
        url = self.platform.url.rstrip("/") + PATH_STREAM.format(hospital_id=self.hospital_id)
        with httpx.Client(timeout=timeout, verify=_tls_verify(self.platform),
                          transport=self._transport) as http:
            with http.stream("GET", url, params={"cursor": self.office.alerts.cursor()},
                             headers={"authorization": f"Bearer {token}",
                                      "accept": "text/event-stream"}) as r:
                self._response = r
                try:
                    if r.status_code != 200:
                        raise httpx.HTTPStatusError(f"HTTP {r.status_code}", request=r.request,
                                                    response=r)
                    self.connected.set()
                    self._read_events(r.iter_lines())
                finally:
                    self._response = None

    def _read_events(self, lines: Iterable[str]) -> None:
        data: list[str] = []
        for line in lines:
            if self._stop.is_set() or self._paused.is_set():
                return
            if line.startswith("data:"):
                data.append(line[5:].lstrip())
            elif line == "" and data:
                d = protocol.AlertsDelta.model_validate_json("\n".join(data))
                data = []
                self.office.apply(d, move_cursor=True)
                self.events += 1
