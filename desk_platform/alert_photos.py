"""A desk alert's two photos for the security office: kept encrypted, shown audited, purged
early.

When a desk raises a security alert (``desk_alert``: the visit came with ``alert: true``), its
outbox sends the card portrait and the live face of that alert only, as small JPEGs. They are
kept here under the platform's data key (Fernet, :mod:`desk_platform.secrets`), never in clear,
until the alert is handled plus :data:`GRACE` or until the alert's time plus the retention
(``serve --alert-photo-days``, default 7: the hospital's face retention), whichever comes first.
Past that time they are not shown even before the purge (:func:`purge`, run at the start of
``serve`` and every few minutes by one process of all: :class:`desk_platform.schedule.PhotoPurge`)
deletes them.

Who may look: security and hospital administrators of the hospital with their own tokens, and
the hospital's desks (the security office runs on a desk token) for the person signed in there,
who is named (``viewer``, ``viewer_role``) and must be security or administrator; a person the
platform knows as an account of the hospital must be active and have that role. Every view is a
row of the platform's audit log (who, which desk, when, from where) written in the same
transaction that reads the photos.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

from sqlalchemy import select

from desk_platform import db as T
from desk_platform.audit import Audit
from desk_platform.base import Principal
from desk_platform.errors import Forbidden, NotFound, PlatformError
from desk_platform.service import Platform
from sync import protocol as P

GRACE = timedelta(days=1)  # after the alert is handled: a colleague may still need to look
DEFAULT_RETENTION_DAYS = 7.0
OFFICE_ROLES = ("security", "admin")  # the desk's roles that may see faces
ACTION_VIEWED = "alert.photos_viewed"
ACTION_PURGED = "alert.photos_purged"


def _jpeg(data: bytes | None, what: str) -> bytes | None:
    if data is None:
        return None
    if len(data) > P.MAX_PHOTO_BYTES or not data.startswith(b"\xff\xd8\xff"):
        raise PlatformError(f"{what}: a JPEG of at most {P.MAX_PHOTO_BYTES} bytes")
    return data


def _expired(alert, keep_until: datetime, now: datetime) -> bool:  # noqa: ANN001 - a row
    handled = alert.handled_at is not None and alert.handled_at + GRACE <= now
    return handled or keep_until <= now


def store(plat: Platform, who: Principal, hospital_id: str, body: P.AlertPhotosUpload,
          retention: timedelta) -> P.AlertPhotosStored:
    """Keep the photos of the alert this desk raised for ``body.visit_id`` (once)."""
    if who.role is not P.Role.DESK or who.hospital_id != hospital_id:
        raise Forbidden("a desk sends the photos of its own alerts only")
    id_photo, live = _jpeg(body.id_photo, "id_photo"), _jpeg(body.live_face, "live_face")
    alert_id = P.made_alert_id(P.AlertKind.DESK_ALERT, hospital_id, body.visit_id)
    a = T.alerts.c
    now = plat.now()
    with plat.db.write() as conn:
        alert = conn.execute(select(T.alerts).where(a.alert_id == alert_id,
                                                    a.hospital_id == hospital_id)).first()
        if alert is None or who.desk_id not in json.loads(alert.desk_ids_json):
            return P.AlertPhotosStored(alert_id=alert_id, status="unknown")
        keep_until = alert.created_at + retention
        if _expired(alert, keep_until, now) or (id_photo is None and live is None):
            return P.AlertPhotosStored(alert_id=alert_id, status="expired")
        blob = plat.secrets.encrypt(json.dumps({
            "id_photo": base64.b64encode(id_photo).decode() if id_photo else None,
            "live_face": base64.b64encode(live).decode() if live else None}).encode())
        done = conn.execute(plat.db.insert(T.alert_photos).values(
            alert_id=alert_id, hospital_id=hospital_id, photos_enc=blob, keep_until=keep_until)
            .on_conflict_do_nothing(index_elements=["alert_id"])
            .returning(T.alert_photos.c.alert_id)).first()
    return P.AlertPhotosStored(alert_id=alert_id, status="stored" if done else "duplicate")


def viewer_of(plat: Platform, who: Principal, viewer: str | None, viewer_role: str | None
              ) -> tuple[str, str]:
    """(actor, role) of a look at the photos; a desk must name its signed-in person."""
    if who.role in (P.Role.SECURITY, P.Role.HOSPITAL_ADMIN):
        return who.name, who.role.value
    if who.role is not P.Role.DESK:
        raise Forbidden(f"{who.role.value} may not see alert photos")
    if not viewer or viewer_role not in OFFICE_ROLES:
        raise Forbidden("a desk shows alert photos to its signed-in security staff or "
                        "administrator only: name them (viewer, viewer_role)")
    s = T.staff.c
    with plat.db.read() as conn:
        known = conn.execute(select(s.role, s.active).where(
            s.username == viewer, s.hospital_id == who.hospital_id)).first()
    if known is not None and (not known.active or known.role not in OFFICE_ROLES):
        raise Forbidden("this account may not see alert photos")
    return viewer, f"desk:{viewer_role}"


def view(plat: Platform, who: Principal, hospital_id: str, alert_id: str, *, viewer: str | None,
         viewer_role: str | None, address: str = "") -> P.AlertPhotos:
    """The photos, 404 once purged (or past their time); the look is audited first."""
    if who.hospital_id != hospital_id:
        raise Forbidden("alert photos are for the hospital's own staff only")
    actor, role = viewer_of(plat, who, viewer, viewer_role)
    p, a = T.alert_photos.c, T.alerts.c
    now = plat.now()
    with plat.db.write() as conn:
        row = conn.execute(select(T.alert_photos, a.handled_at).join(
            T.alerts, a.alert_id == p.alert_id).where(
            p.alert_id == alert_id, p.hospital_id == hospital_id)).first()
        if row is None or _expired(row, row.keep_until, now):
            raise NotFound("the photos of this alert are no longer kept")
        Audit(plat.db).record(actor, role, ACTION_VIEWED, alert_id,
                              f"desk {who.desk_id}" if who.desk_id else "",
                              hospital_id=hospital_id, address=address, conn=conn)
        photos = json.loads(plat.secrets.decrypt(row.photos_enc))
    return P.AlertPhotos(alert_id=alert_id, id_photo=photos["id_photo"],
                         live_face=photos["live_face"], keep_until=row.keep_until)


def purge(plat: Platform, now: datetime | None = None) -> int:
    """Delete the photos past their time (handled + grace, or the retention); returns how
    many alerts' photos went. Recorded in the audit log when any did."""
    now = now or plat.now()
    p, a = T.alert_photos.c, T.alerts.c
    handled = select(a.alert_id).where(a.handled_at.is_not(None), a.handled_at <= now - GRACE)
    with plat.db.write() as conn:
        n = conn.execute(T.alert_photos.delete().where(
            (p.keep_until <= now) | p.alert_id.in_(handled))).rowcount
        if n:
            Audit(plat.db).record("system", "platform", ACTION_PURGED, "", f"{n} alert(s)",
                                  conn=conn)
    return int(n)
