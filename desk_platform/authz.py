"""Who may do what: the authorization matrix, as data (tested cell by cell).

``MATRIX[permission][role]`` is the scope a role has: ``ANY`` hospital, only its ``OWN``
hospital (the one its token belongs to), or absent (refused). Desks act for their own hospital
only; police and platform admins are city-wide.
"""

from __future__ import annotations

from enum import StrEnum

from desk_platform.base import Principal
from desk_platform.errors import Forbidden
from sync.protocol import BlacklistSource, Role


class Perm(StrEnum):
    DESK_CONFIG = "desk.config"
    KEYS_READ = "keys.read"
    KEYS_ROTATE = "keys.rotate"
    REVOCATIONS_READ = "revocations.read"
    BOOKINGS_READ = "bookings.read"
    BOOKINGS_WRITE = "bookings.write"
    BLACKLIST_READ = "blacklist.read"
    BLACKLIST_WRITE = "blacklist.write"
    BLACKLIST_REVEAL = "blacklist.reveal"  # the plaintext ID number behind an entry
    VISITS_WRITE = "visits.write"
    ALERTS_READ = "alerts.read"
    REPORTS_WRITE = "reports.write"
    STATS_READ = "stats.read"
    ENROLL_ISSUE = "enroll.issue"
    DESKS_REVOKE = "desks.revoke"
    ALERTS_HANDLE = "alerts.handle"  # handled once for all desks (the security office)
    INSIDERS_WRITE = "insiders.write"  # a desk's weekly figures per person
    INSIDERS_READ = "insiders.read"
    STAFF_SYNC = "staff.sync"  # the hospital's accounts with their hashes (its desks only)
    STAFF_WRITE = "staff.write"  # add, enable/disable, set a password


class Scope(StrEnum):
    OWN = "own"
    ANY = "any"


D, S, H, A, X = (Role.DESK, Role.SECURITY, Role.HOSPITAL_ADMIN, Role.PLATFORM_ADMIN,
                 Role.POLICE)
OWN, ANY = Scope.OWN, Scope.ANY

MATRIX: dict[Perm, dict[Role, Scope]] = {
    Perm.DESK_CONFIG: {D: OWN},
    Perm.KEYS_READ: {D: ANY, S: ANY, H: ANY, A: ANY, X: ANY},
    Perm.KEYS_ROTATE: {A: ANY},
    Perm.REVOCATIONS_READ: {D: OWN, S: OWN, H: OWN, A: ANY, X: ANY},
    Perm.BOOKINGS_READ: {D: OWN, S: OWN, H: OWN, A: ANY},
    Perm.BOOKINGS_WRITE: {A: ANY},
    Perm.BLACKLIST_READ: {D: ANY, S: ANY, H: ANY, A: ANY, X: ANY},
    Perm.BLACKLIST_WRITE: {A: ANY, X: ANY},
    Perm.BLACKLIST_REVEAL: {X: ANY},
    Perm.VISITS_WRITE: {D: OWN},
    Perm.ALERTS_READ: {D: OWN, S: OWN, H: OWN, A: ANY, X: ANY},
    Perm.REPORTS_WRITE: {D: OWN, S: OWN},
    Perm.STATS_READ: {D: OWN, S: OWN, H: OWN, A: ANY, X: ANY},
    Perm.ENROLL_ISSUE: {H: OWN, A: ANY},
    Perm.DESKS_REVOKE: {H: OWN, A: ANY},
    Perm.ALERTS_HANDLE: {D: OWN, S: OWN, H: OWN, A: ANY},
    Perm.INSIDERS_WRITE: {D: OWN},
    Perm.INSIDERS_READ: {H: OWN, A: ANY},
    Perm.STAFF_SYNC: {D: OWN},
    Perm.STAFF_WRITE: {H: OWN, A: ANY},
}


#: The blacklist has one owner per source: a role adds, renews and removes only the entries of
#: its own source, whatever a request body says. Hospital entries have no API owner yet (a
#: hospital-wide ban is kept by the platform operator's CLI, ``blacklist add --source hospital``).
BLACKLIST_OWNER: dict[Role, BlacklistSource] = {X: BlacklistSource.POLICE,
                                                A: BlacklistSource.PLATFORM}


def blacklist_source(who: Principal, asked: BlacklistSource | None = None) -> BlacklistSource:
    """The source ``who`` writes blacklist entries under; :class:`Forbidden` for another one."""
    require(who, Perm.BLACKLIST_WRITE)
    own = BLACKLIST_OWNER[who.role]
    if asked is not None and asked is not own:
        raise Forbidden(f"{who.role.value} may only add, renew or remove {own.value} "
                        f"blacklist entries, not {asked.value} ones")
    return own


def allowed(role: Role, perm: Perm, *, own: bool) -> bool:
    scope = MATRIX[perm].get(role)
    return scope is ANY or (scope is OWN and own)


def require(who: Principal, perm: Perm, hospital_id: str | None = None) -> None:
    """Raise :class:`Forbidden` unless ``who`` may do ``perm`` (for ``hospital_id``)."""
    own = hospital_id is None or (who.hospital_id is not None and who.hospital_id == hospital_id)
    if not allowed(who.role, perm, own=own):
        raise Forbidden(f"{who.role.value} may not {perm.value}"
                        + (f" for hospital {hospital_id}" if hospital_id else ""))
