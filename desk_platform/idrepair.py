"""One-time repair of ID numbers stored before the platform used the desk's canonical form.

Until 2026-12 the platform kept an ID number as typed (spaces removed, upper case): a 15-digit
number stayed 15 digits, while the desk turns it into its 18-digit form before hashing. Two
kinds of stored rows are affected:

* **blacklist entries**: ``id_hash`` is the scrypt of the number as typed, so a ban made with a
  15-digit number never matched the 18-digit card at the window. The plaintext is kept
  encrypted (``id_number_enc``, for the police's reveal), so the entry can be rebuilt: the old
  entry becomes a tombstone (desks drop it in their next delta) and the canonical one is added
  (or, when the same person was also banned under the 18-digit form by the same source, that
  entry keeps the later end of the two bans).
* **bookings**: ``patient_hash`` (scrypt, salt per booking, also signed into the QR token the
  patient holds) and ``patient_key`` (HMAC, for counting a patient's bookings) cannot be
  rebuilt: the platform never stores the number. The desk instead also tries the 15-digit form
  of the card's number against a booking (:func:`desk_app.booking.codes.patient_matches`), so
  QR codes issued before the change still admit their patient. Booking counts of such a patient
  stay split between the two forms until those bookings age out of the 30-day risk window.

Why not an Alembic migration: the schema does not change, and rebuilding a hash needs the data
key, which by design is kept out of the database and out of the migration environment. The
repair runs from :meth:`desk_platform.service.Platform.initialize` (``desk-platform init``,
``serve``, every CLI command), once per database (meta ``id_form``), and is idempotent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from desk_app.identity.idnumber import InvalidIdNumber, canonical_id_number
from desk_platform import db as T
from desk_platform.db import next_seq
from desk_platform.secrets import KeyMissing

if TYPE_CHECKING:
    from desk_platform.service import Platform

log = logging.getLogger(__name__)

#: The meta value once stored ID numbers are in the canonical form.
ID_FORM = "canonical-2026-12"


@dataclass(frozen=True)
class RepairResult:
    checked: int  # active blacklist entries looked at
    rebuilt: int  # entries moved to the canonical hash (the old one is a tombstone)
    merged: int  # of those, folded into an entry that already had the canonical hash
    invalid: int  # stored numbers that are not ID numbers, or unreadable (left as they are)


def repair_needed(plat: Platform) -> bool:
    with plat.db.read() as conn:
        value = conn.execute(select(T.meta.c.value).where(T.meta.c.key == "id_form")).scalar()
    return value != ID_FORM


def canonicalize_blacklist(plat: Platform) -> RepairResult:
    """Rebuild every active blacklist entry whose stored number is not canonical; then mark the
    database as repaired. Numbers and hashes never reach the log (counts only)."""
    bl = T.blacklist.c
    with plat.db.read() as conn:
        rows = conn.execute(select(bl.entry_id, bl.id_number_enc).where(
            bl.deleted.is_(False))).all()
    checked = rebuilt = merged = invalid = 0
    for entry_id, enc in rows:
        checked += 1
        try:
            stored = plat.secrets.decrypt(enc).decode("ascii", "replace")
            number = canonical_id_number(stored)
        except (InvalidIdNumber, KeyMissing):  # not a number, or not sealed with this key
            invalid += 1
            continue
        if number == stored:
            continue
        new_hash = plat.blacklist_hash(number)  # ~60 ms, outside the transaction
        now = plat.now()
        with plat.db.write() as conn:
            old = conn.execute(select(T.blacklist).where(bl.entry_id == entry_id,
                                                         bl.deleted.is_(False))).first()
            if old is None:  # lifted meanwhile
                continue
            same = conn.execute(select(T.blacklist).where(
                bl.id_hash == new_hash, bl.source == old.source)).first()
            conn.execute(update(T.blacklist).where(bl.entry_id == entry_id).values(
                deleted=True, version=next_seq(plat.db, conn, "blacklist"), updated_at=now))
            values = dict(last4=number[-4:], id_number_enc=plat.secrets.encrypt(number.encode()),
                          version=next_seq(plat.db, conn, "blacklist"), deleted=False,
                          updated_at=now)
            if same is not None:
                keep_old = same.deleted or old.valid_to > same.valid_to
                conn.execute(update(T.blacklist).where(bl.entry_id == same.entry_id).values(
                    **values, **(dict(valid_from=old.valid_from, valid_to=old.valid_to,
                                      reason=old.reason) if keep_old else {})))
                merged += 1
            else:
                conn.execute(T.blacklist.insert().values(
                    entry_id="BL" + uuid.uuid4().hex[:20].upper(), id_hash=new_hash,
                    source=old.source, reason=old.reason, valid_from=old.valid_from,
                    valid_to=old.valid_to, created_by=old.created_by, **values))
            rebuilt += 1
    with plat.db.write() as conn:
        conn.execute(plat.db.insert(T.meta).values(key="id_form", value=ID_FORM)
                     .on_conflict_do_update(index_elements=[T.meta.c.key],
                                            set_={"value": ID_FORM}))
    result = RepairResult(checked, rebuilt, merged, invalid)
    if rebuilt or invalid:
        log.warning("blacklist ID numbers put in the canonical form: %d of %d entries rebuilt "
                    "(%d merged into an existing entry); %d stored numbers are not valid ID "
                    "numbers or cannot be read with this data key and were left as they are", rebuilt, checked, merged, invalid)
    return result
