"""The check-in decision: ADMIT, REVIEW or REJECT with reasons (:mod:`.engine`) over frozen
inputs (:mod:`.model`); policy is :class:`desk_app.settings.PolicySection`."""

from desk_app.checkin.engine import (
    RULES,
    OverrideNotAllowed,
    OverrideReasonInvalid,
    apply_override,
    decide,
    evaluate,
    may_override,
    override_rights,
    prior_visit,
)
from desk_app.checkin.model import (
    BlacklistHit,
    CheckinInput,
    ClerkOverride,
    Decision,
    FaceCheck,
    History,
    IdDocument,
    PriorVisit,
    Reason,
    Verdict,
)

__all__ = [
    "RULES", "BlacklistHit", "CheckinInput", "ClerkOverride", "Decision", "FaceCheck", "History",
    "IdDocument", "OverrideNotAllowed", "OverrideReasonInvalid", "PriorVisit", "Reason",
    "Verdict", "apply_override", "decide", "evaluate", "may_override", "override_rights",
    "prior_visit",
]
