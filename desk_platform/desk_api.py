"""What a desk sends the console's work through (``/v1``, desk tokens only): an appeal recorded
at the window, and a frozen booking account unfrozen after the person's ID card was checked.

The desk sends the blacklist hash of the card's number (the one it compares with its blacklist
copy), never the number. Mounted with the console (:func:`desk_platform.console.mount_console`); the bodies are
models of :mod:`sync.protocol`, which the desk's client uses too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from desk_platform.errors import Forbidden
from sync.protocol import AppealFiled, AppealRequest, AppealsFiled, Role, UnfreezeRequest, Unfrozen


def desk_router(plat: Any, principal: Any) -> APIRouter:
    """``principal`` is the app's dependency that gives the caller from its bearer token."""
    caller_dep = Depends(principal)
    from desk_platform.anomaly import Anomalies
    from desk_platform.appeals import Appeals

    router = APIRouter(prefix="/v1", tags=["console"])

    def desk_only(principal: Any) -> None:
        if principal.role != Role.DESK:
            raise Forbidden("only desks record appeals and ID checks")

    @router.post("/appeals", response_model=AppealsFiled,
                 summary="An appeal against the blacklist, recorded at a hospital window")
    def file_appeal(body: AppealRequest, caller: Any = caller_dep) -> AppealsFiled:
        desk_only(caller)
        made = Appeals(plat).file(id_hash=body.id_hash, hospital_id=caller.hospital_id,
                                  desk_id=caller.desk_id, clerk=body.clerk,
                                  statement=body.statement)
        return AppealsFiled(appeals=[AppealFiled(appeal_id=a.appeal_id, entry_id=a.entry_id,
                                                 status=a.status) for a in made])

    @router.post("/accounts/unfreeze", response_model=Unfrozen,
                 summary="Unfreeze the booking accounts frozen for this person, whose ID card "
                         "was checked at the window")
    def unfreeze(body: UnfreezeRequest, caller: Any = caller_dep) -> Unfrozen:
        desk_only(caller)
        done = Anomalies(plat).unfreeze_at_desk(body.id_hash, caller.hospital_id, body.clerk)
        from desk_platform.audit import Audit

        Audit(plat.db).record(body.clerk, "desk", "account.unfreeze", ",".join(done)[:200],
                              "desk: ID card checked", hospital_id=caller.hospital_id,
                              address=caller.desk_id or "")
        return Unfrozen(accounts=done)

    return router
