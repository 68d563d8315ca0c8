"""The platform as desk-platform serves it, plus a WebSocket twin of the alerts stream, for the
push measurement only (``bench_push``): the same process, the same :class:`AlertWatch`, so the
three transports differ only in how the answer travels. Desks never use this route.

    python -m uvicorn --factory benchmarks.push_server:build --ws wsproto ...
"""

from __future__ import annotations

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from desk_platform import office
from desk_platform.app import create_app_from_env
from desk_platform.authz import Perm, require
from desk_platform.errors import PlatformError
from sync import protocol as P


def build() -> FastAPI:
    app = create_app_from_env()
    plat = app.state.platform
    watch = app.state.alert_watch

    @app.websocket("/v1/hospitals/{hospital_id}/alerts/ws")
    async def alerts_ws(websocket: WebSocket, hospital_id: str, cursor: int = 0) -> None:
        token = websocket.headers.get("authorization", "").removeprefix("Bearer ").strip()
        try:
            who = await run_in_threadpool(plat.enrollment.authenticate, token)
            require(who, Perm.ALERTS_READ, hospital_id)
        except PlatformError:
            await websocket.close(code=1008)
            return
        await websocket.accept()
        cur = cursor
        try:
            while True:
                if await watch.wait_beyond(hospital_id, cur, office.HEARTBEAT_S):
                    d = await run_in_threadpool(office.alerts_delta, plat, hospital_id, cur,
                                                P.DEFAULT_PAGE)
                    cur = d.cursor
                    await websocket.send_text(d.model_dump_json())
        except WebSocketDisconnect:
            return

    return app
