"""Live updates: `GET /api/events`, a Server-Sent Events stream of other users' changes.

Each event is one `data:` line of JSON naming the change (`kind`: coding, memo, code or
document; `action`; the item's `id`; its `document_id`; the `actor`; `event_id`) with the
event's `id:` (the audit entry's id), so that a browser reconnecting sends `Last-Event-ID` and
gets what it missed. A comment line every 15 s keeps proxies from closing an idle stream; the
session is checked again at the same pace, so a stream ends soon after its session does.
"""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from caseframe.api.users import User
from caseframe.web.auth import viewer

router = APIRouter()
KEEPALIVE = 15.0
RETRY_MS = 2000


def _start_after(request: Request, latest: int) -> int:
    """Where the stream starts: after Last-Event-ID (a reconnect) or `?after=`, else now."""
    for value in (request.headers.get("last-event-id"), request.query_params.get("after")):
        if value and value.strip().isdigit():
            return int(value.strip())
    return latest


def _still_signed_in(request: Request) -> bool:
    web = request.app.state.web
    session = web.sessions.read(request, check_age=False)
    if session is None or session.token is None:
        return False
    found = web.project.check_session(session.token, web.sessions.limits(), touch=False)
    return found is not None and found.session.state == "active" and found.user.role is not None


@router.get("/api/events")
async def events(request: Request, user: User = Depends(viewer)):
    feed = request.app.state.web.feed
    await run_in_threadpool(feed.start)
    latest = feed.latest if feed.ready else await run_in_threadpool(feed.latest_in_store)
    last = _start_after(request, latest)

    async def stream():
        nonlocal last
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        next_check = time.monotonic() + KEEPALIVE
        while not feed.stopped:
            changes, newest = await feed.wait(last, timeout=KEEPALIVE)
            out = []
            for change in changes:
                if change.actor != user.name:
                    data = json.dumps(change.payload(), separators=(",", ":"))
                    out.append(f"id: {change.event_id}\ndata: {data}\n\n")
            last = max(last, newest)
            if out:
                yield "".join(out)
            if time.monotonic() >= next_check:
                if not await run_in_threadpool(_still_signed_in, request):
                    yield "event: signed-out\ndata: {}\n\n"
                    return
                next_check = time.monotonic() + KEEPALIVE
                if not out:
                    yield ": keepalive\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
