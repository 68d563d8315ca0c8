"""Secrets and privacy on disk: after a realistic flow, the plaintext ID numbers, names, tokens
and passwords used are nowhere in the log files, the database files or the settings; keys,
databases and the data folder are owner-only; the repository holds no secrets.

The flow: file logging through ``desk_app.logs.setup_logging``; the check-in service with a real
store (booking token, card read, declined face -> a recorded visit and its outbox row), a direct
``record_visit`` with an alert carrying photos, service and device log lines that name the
patient, the settings file, the desk's platform token in its file store.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import stat
import subprocess
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from desk_app.booking import Booking, KeySet, booking_claims, new_signing_key, sign_booking_token
from desk_app.clock import CHINA_TZ, FixedClock
from desk_app.identity.hashing import ScryptParams, b64e, slow_hash
from desk_app.identity.testing import make_id_number
from desk_app.logs import setup_logging
from desk_app.services.checkin import PLATFORM_CONFIG_CURSOR, CheckinService
from desk_app.services.security import check_note
from desk_app.services.session import SessionService
from desk_app.settings import Settings, save_settings
from desk_app.storage import AlertInput, Store, StoredKeySet, VisitInput
from devices.idcard import sam
from devices.idcard.serial_reader import card_read_from
from sync.tokens import TokenStore

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 22, 9, 10, tzinfo=CHINA_TZ)
KDF = ScryptParams(n=2**10)
PATIENTS = [(make_id_number("110101", date(1961, 8, 4), 11, sex="M"), "欧阳建国"),
            (make_id_number("320102", date(1942, 11, 20), 21, sex="F"), "司马秀英"),
            (make_id_number("440305", date(1990, 1, 2), 31, sex="M"), "诸葛明亮")]
PASSWORD = "clerk-pass-Zq81!"
DESK_TOKEN = "rnp_" + "Sx3" * 14


def _needles() -> dict[str, list[bytes]]:
    """Every secret of the flow in the encodings a careless write would use."""
    out: dict[str, list[bytes]] = {}
    for number, name in PATIENTS:
        out[number] = [number.encode(), number.encode("utf-16-le"), number[:-4].encode()]
        out[name] = [name.encode(), name.encode("utf-16-le"), name.encode("gb18030")]
    out["password"] = [PASSWORD.encode()]
    out["desk token"] = [DESK_TOKEN.encode()]
    return out


@pytest.fixture
def flow(app_paths, tmp_path):
    handler = setup_logging(app_paths.log_dir, logging.DEBUG)
    store = Store.open(app_paths, clock=FixedClock(NOW))
    try:
        _run_flow(app_paths, store)
    finally:
        store.close()
        logging.getLogger().removeHandler(handler)
        handler.close()
    return app_paths


def _run_flow(paths, store: Store) -> None:
    store.users.create("clerk1", "挂号员一", "clerk", PASSWORD)
    session = SessionService(store.users, store.audit, FixedClock(NOW))
    session.login("clerk1", PASSWORD)
    kid, key = new_signing_key("k1")
    store.keys.save_keyset(StoredKeySet.from_wire(KeySet(()).with_key(kid, key.public_key()).to_wire()))
    store.cursors.set(PLATFORM_CONFIG_CURSOR, json.dumps(
        {"blacklist_salt": b64e(b"platform-salt-16"), "scrypt": KDF.as_dict()}))
    store.cursors.set("blacklist.checked_at", NOW.isoformat())
    settings = Settings()
    service = CheckinService(store, session, lambda: settings, FixedClock(NOW))
    log = logging.getLogger("desk_app.services.checkin")
    for i, (number, name) in enumerate(PATIENTS):
        salt = os.urandom(16)
        b = Booking(booking_id=f"B{i}", reference=f"REF{i:05d}", hospital_id="H001",
                    department_code="CARD", department_name="心内科", doctor_name="李医生",
                    slot_start=NOW + timedelta(minutes=20), slot_end=NOW + timedelta(minutes=50),
                    patient_hash=slow_hash(number, salt, KDF), patient_salt=salt,
                    patient_last4=number[-4:], kdf=KDF)
        store.bookings.apply_delta([b], cursor=str(i))
        token = sign_booking_token(booking_claims(b, NOW - timedelta(days=1),
                                                  NOW + timedelta(hours=8)), key, kid)
        s = service.new_patient()
        s = service.submit_code(s.session_id, token, "camera")
        # the reader path: the chip's text block, decoded (this remembers the name for masking)
        block = sam.encode_text_block(sam.CardText(name, "1", "01", number[6:14], "北京市",
                                                   number, "公安局", "20200101", "20400101"))
        card = card_read_from(sam.decode_text_block(block), b"", None)
        s = service.submit_card(s.session_id, card)
        s = service.decline_face(s.session_id)
        assert s.verdict is not None and s.visit_id
        # careless log lines anywhere in the app: the filter masks them
        log.warning("patient %s with ID %s checked in with token %s", name, number, token)
        logging.getLogger("devices.idcard").info("read card: %r / %s", card, number.lower())
    logging.getLogger("sync.client").info("enrolled, token %s", DESK_TOKEN)
    # a flagged case stored directly, with photos
    number, name = PATIENTS[0]
    store.visits.record(VisitInput(
        visit_id="9c1d7b1e-0000-4000-8000-000000000001", booking_id=None, hospital_id="H001",
        desk_id="desk-01", clerk="clerk1", checked_in_at=NOW, verdict="reject",
        presented_id_last4=number[-4:], id_number=number, person_name=name),
        AlertInput(id_photo=b"\xff\xd8jpeg-card", live_face=b"\xff\xd8jpeg-live",
                   # a note typed by staff goes through the services' check (masks PII)
                   note=check_note(f"flagged: {name} {number} 13812345678", required=True)))
    save_settings(settings, paths.settings_file)
    TokenStore(paths.data_dir, "desk-01", use_keyring=False).set(DESK_TOKEN)
    assert store.outbox.count() >= len(PATIENTS)


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_no_plaintext_secrets_in_logs_database_settings_or_outbox(flow):
    paths = flow
    files = _files(paths.log_dir) + _files(paths.data_dir) + _files(paths.config_dir)
    logs = _files(paths.log_dir)
    assert logs and any(f.stat().st_size for f in logs), "the flow wrote no log"
    assert paths.database_file.exists()
    token_file = paths.data_dir / "keys" / "platform-token-desk-01"
    found = []
    for f in files:
        if f == token_file:
            continue  # the token's own store (owner-only, checked below)
        data = f.read_bytes()
        for what, forms in _needles().items():
            if any(form in data for form in forms):
                found.append(f"{what} in {f.relative_to(paths.data_dir.parent)}")
    assert not found, found
    text = "".join(f.read_text(encoding="utf-8", errors="replace") for f in logs)
    # the log still says what happened, masked
    assert "checked in" in text and "********" in text
    # booking QR tokens and bearer tokens are masked too
    assert "RNB1:***" in text and not re.search(r"RNB1:[A-Za-z0-9_-]{4}", text)
    assert "rnp_***" in text


def test_outbox_payloads_carry_hashes_not_identities(app_paths):
    store = Store.open(app_paths, clock=FixedClock(NOW))
    try:
        _run_flow(app_paths, store)
        items = store.outbox.pending(100)
    finally:
        store.close()
    assert items
    blob = json.dumps([i.payload for i in items], ensure_ascii=False)
    for number, name in PATIENTS:
        assert number not in blob and name not in blob and number[:-4] not in blob


def test_owner_only_permissions(flow):
    paths = flow
    if os.name != "posix":
        pytest.skip("POSIX permissions")

    def mode(p: Path) -> int:
        return stat.S_IMODE(p.stat().st_mode)

    assert mode(paths.data_dir) == 0o700
    assert mode(paths.log_dir) == 0o700 and mode(paths.config_dir) == 0o700
    key_dir = paths.key_file.parent
    assert mode(key_dir) == 0o700
    keys = [p for p in key_dir.iterdir() if p.is_file()]
    assert paths.key_file in keys and len(keys) >= 2  # data key + platform token
    for k in keys:
        assert mode(k) == 0o600, k
    for db in paths.data_dir.glob("desk.sqlite3*"):  # the database and its -wal/-shm
        assert mode(db) & 0o077 == 0, (db, oct(mode(db)))
    assert mode(paths.database_file) == 0o600
    assert mode(paths.settings_file) & 0o077 == 0


# --- the repository --------------------------------------------------------------------------

_DASHES = b"-" * 5  # built from parts so this file does not match itself
PEM = re.compile(_DASHES + rb"BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY" + _DASHES)
ASSIGNED = re.compile(
    r"""(?ix)(secret|token|password|passwd|api[_-]?key|private[_-]?key|fernet|master[_-]?key)
        \w*\s*[:=]\s*["']?([A-Za-z0-9+/_\-=]{24,})""")
CONFIG_SUFFIXES = {".toml", ".ini", ".cfg", ".env", ".json", ".yaml", ".yml", ".conf", ".txt"}


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values())


def _tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / p for p in out.stdout.decode().split("\0") if p]


def test_repository_holds_no_secrets():
    files = _tracked()
    assert len(files) > 50
    problems = []
    for f in files:
        if f.suffix in (".key", ".pem", ".p12", ".pfx", ".keystore") or f.name in (
                ".env", "id_rsa", "id_ed25519", "master.key"):
            problems.append(f"key file committed: {f.relative_to(ROOT)}")
        try:
            data = f.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            continue  # deleted in the working tree, or a submodule
        if PEM.search(data):
            problems.append(f"private key PEM in {f.relative_to(ROOT)}")
        if f.suffix in CONFIG_SUFFIXES or f.name.startswith(".env"):
            text = data.decode("utf-8", errors="replace")
            for m in ASSIGNED.finditer(text):
                value = m.group(2)
                if _entropy(value) > 4.0:
                    problems.append(f"high-entropy {m.group(1)} in {f.relative_to(ROOT)}")
    assert not problems, problems


def test_the_repository_scan_would_catch_a_committed_key(tmp_path):
    """The patterns above find what they are meant to find."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    assert PEM.search(pem)
    m = ASSIGNED.search('platform_token = "' + b64e(os.urandom(32)) + '"')
    assert m and _entropy(m.group(2)) > 4.0
    assert not ASSIGNED.search('token = "x"')
