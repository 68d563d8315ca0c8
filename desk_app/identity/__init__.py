"""Identity documents: ID numbers parsed and checked (:mod:`.idnumber`), their hashes
(:mod:`.hashing`), and a builder of valid numbers for tests and the demo (:mod:`.testing`)."""

from desk_app.identity.idnumber import (
    KIND_TEXT,
    IdKind,
    IdNumber,
    InvalidIdNumber,
    canonical_id_number,
    check_char,
    parse_id_number,
)

__all__ = ["KIND_TEXT", "IdKind", "IdNumber", "InvalidIdNumber", "canonical_id_number", "check_char",
           "parse_id_number"]
