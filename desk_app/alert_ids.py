"""Ids of the alerts the platform makes once per thing (a desk's alert per visit ...): the same
on the desk and on the platform, so a desk can name the platform's alert of its own visit; and
how the platform words a desk's alert (a prefix, then the verdict's reason codes), so every
window can show it in its own words."""

from __future__ import annotations

import uuid

_ALERT_NS = uuid.UUID("7d2f4a8e-31c4-4f0a-9d55-0f0c3c1e2b71")

DESK_ALERT = "desk_alert"
DESK_ALERT_DETAIL = "desk alert: "  # + the reason codes, comma-separated
LATE_DESK_ALERT_DETAIL = "desk alert after check-in: "  # flagged after the upload (VisitAlert)


def made_alert_id(kind: str, hospital_id: str, key: str) -> str:
    """``made_alert_id("desk_alert", hospital, visit_id)`` is the platform's alert of that
    visit's security alert."""
    return str(uuid.uuid5(_ALERT_NS, f"{kind}:{hospital_id}:{key}"))
