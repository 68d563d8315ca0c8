"""Another window's alert on this window's security screen: the platform words a window's alert
by reason codes; the screen shows them in its own words (the clerk's language), and anything
else as the platform wrote it."""

from __future__ import annotations

from datetime import UTC, datetime

from desk_app.alert_ids import DESK_ALERT_DETAIL, LATE_DESK_ALERT_DETAIL
from desk_app.services.security import LATE_TEXT, office_view
from desk_app.storage.office_alerts import OfficeAlert


def alert(kind: str, detail: str) -> OfficeAlert:
    return OfficeAlert(alert_id="a1", seq=1, kind=kind, booking_id=None, visit_ids=("v1",),
                       desk_ids=("desk-02",), created_at=datetime(2026, 12, 4, tzinfo=UTC),
                       detail=detail)


def texts(a: OfficeAlert) -> list[tuple[str, str]]:
    return [(r.text.zh, r.text.en) for r in office_view(a).reasons[1:]]


def test_a_windows_alert_reads_in_the_screens_words():
    assert texts(alert("desk_alert", DESK_ALERT_DETAIL + "face_mismatch, booking_forged_x")) == [
        ("人脸比对不一致", "Face does not match"),
        ("booking_forged_x", "booking_forged_x")]  # a code this desk does not know: as it is
    assert texts(alert("desk_alert", LATE_DESK_ALERT_DETAIL + "face_judged_different")) == [
        (LATE_TEXT.zh, LATE_TEXT.en),
        ("挂号员核对为非本人", "The clerk judged the face not the same person")]
    assert texts(alert("desk_alert", LATE_DESK_ALERT_DETAIL)) == [(LATE_TEXT.zh, LATE_TEXT.en)]


def test_other_details_are_shown_as_the_platform_wrote_them():
    detail = "blacklist hit at hospital H002; booked here"
    assert texts(alert("blacklist_elsewhere", detail)) == [(detail, detail)]
    assert texts(alert("desk_alert", "something else")) == [("something else", "something else")]
    assert texts(alert("suspect_report", "")) == []
