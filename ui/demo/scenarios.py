"""The demo's scripted patients: who books, whose card is put down, whose face looks up.

Photos come from a folder given by ``--photos`` (``make demo`` points it at
``../shared/data/faces``); they are read from there, never copied. Without photos only the
scenarios that need no face run.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from desk_app.errors import Text


@dataclass(frozen=True)
class Scenario:
    name: str
    title: Text
    expected: str  # "admit" | "review" | "reject"
    booking_of: str  # the demo patient whose booking QR is shown
    card_of: str | None = None  # whose ID card is put down (None: no card)
    card_photo: str | None = None  # photo on the card (file in the photo folder)
    live_photo: str | None = None  # the face that looks at the camera
    forge: bool = False  # the QR is edited after signing
    twice: bool = False  # the same booking is presented twice (the second verdict counts)
    outage: bool = False  # the platform goes down; three patients are checked in offline
    alert: bool = False  # security must be alerted
    # a presentation attack: the card holder's live_photo on a phone held up to the camera by
    # the person in holder_photo (who walks up and shows the QR)
    on_phone: bool = False
    holder_photo: str | None = None

    @property
    def needs_photos(self) -> bool:
        return (self.live_photo is not None or self.card_photo is not None
                or self.holder_photo is not None)


OFFLINE_PATIENTS = (("p_offline_1", "obama.jpg", "obama2.jpg"),
                    ("p_offline_2", "alex_lacamoire1.jpg", "alex_lacamoire_img1.jpg"),
                    ("p_offline_3", "rose_leslie_img1.jpg", "rose_leslie_img2.jpg"))

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("genuine", Text("本人就诊, 全部一致", "Genuine patient, everything matches"),
             "admit", "normal", "normal", "obama.jpg", "obama2.jpg"),
    Scenario("impostor", Text("冒名顶替: 预约和证件是甲, 人脸是乙", "Impostor: booking and card of "
                              "one person, the face of another"),
             "reject", "p_impostor_face", "p_impostor_face", "biden2.jpg", "obama2.jpg",
             alert=True),
    Scenario("blacklisted", Text("黑名单号贩子持本人预约", "Blacklisted scalper with a booking in "
                                 "their own name"),
             "reject", "blacklisted_police", "blacklisted_police", "alex_lacamoire1.jpg",
             "alex_lacamoire_img1.jpg", alert=True),
    Scenario("forged_qr", Text("伪造二维码 (签名后被改)", "Forged QR (edited after signing)"),
             "reject", "p_forged", forge=True),
    Scenario("cancelled", Text("已取消的预约", "A cancelled booking"), "reject", "cancelled"),
    Scenario("duplicate", Text("同一预约重复签到", "The same booking presented twice"),
             "reject", "p_twice", "p_twice", "rose_leslie_img1.jpg", "rose_leslie_img2.jpg",
             twice=True),
    Scenario("cancel_rebook", Text("边退边买: 退号后几分钟被重新约走", "Cancel-and-rebook: the slot "
                                   "was re-issued minutes after a cancellation"),
             "review", "cancel_rebook", "cancel_rebook", "kit_harington_john2.jpeg",
             "johnsnow_test1.jpg"),
    Scenario("wrong_card", Text("证件不是预约本人", "A card whose ID is not the booking's patient"),
             "reject", "impostor", "p_wrong_card_holder", "biden.jpg", "biden2.jpg"),
    Scenario("legacy_15_digit", Text("旧15位号码预约, 证件为18位", "Booked with the old 15-digit "
                                     "number, the card says 18 digits"),
             "admit", "legacy_15_booked", "legacy_15_booked", "alex_lacamoire_img1.jpg",
             "alex_lacamoire1.jpg"),
    Scenario("legacy_15_digit_blacklisted", Text("黑名单登记为旧15位号码, 证件为18位",
                                                 "Blacklisted under the old 15-digit number, the "
                                                 "card says 18 digits"),
             "reject", "legacy_15_blacklisted", "legacy_15_blacklisted",
             "rose_leslie_img2.jpg", "rose_leslie_img1.jpg", alert=True),
    Scenario("photo_attack", Text("他人手持机主照片 (手机屏幕) 对准摄像头", "Someone else holds "
                                  "the card holder's photo on a phone up to the camera"),
             "review", "p_photo_attack", "p_photo_attack", "obama.jpg", "obama3.jpg",
             on_phone=True, holder_photo="biden.jpg"),
    Scenario("outage", Text("断网: 离线核验三位患者, 恢复后补传", "Network outage: three patients "
                            "checked in offline, then the queue drains"),
             "admit", "p_offline_1", outage=True, card_of="p_offline_1",
             card_photo="obama.jpg", live_photo="obama2.jpg"),
)

BY_NAME = {s.name: s for s in SCENARIOS}


def forge(token: str) -> str:
    """The token with its doctor changed after signing: the signature no longer fits."""
    prefix, jws = token.split(":", 1)
    head, payload, sig = jws.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["doc"] = "王主任"
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{prefix}:{head}.{edited}.{sig}"
