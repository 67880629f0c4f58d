"""A transcribed document's recording and timings: audio streamed with HTTP range requests
(RFC 9110 §14), the passages' times for the player, and relabelling a speaker turn.

The audio is sent in blocks as it is read (never the whole file in memory), to any role that may
read the document; relabelling needs the coder role and is written to the audit log.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field

from caseframe.api.users import User
from caseframe.web.auth import coder, viewer
from caseframe.web.routes.api import Strict

router = APIRouter()

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


class Unsatisfiable(Exception):
    pass


class Relabel(Strict):
    speaker: str = Field(..., min_length=1, max_length=200)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end) asked for by a Range header, or None for the whole file.

    A header that is not a single byte range is ignored (the whole file is sent, as RFC 9110
    allows); one that asks for nothing inside the file raises Unsatisfiable (416).
    """
    if not header:
        return None
    m = _RANGE.match(header)
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if not first and not last:
        return None
    if not first:  # the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise Unsatisfiable()
        return max(0, size - n), size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        raise Unsatisfiable()
    return start, end


@router.api_route("/media/{doc_id}", methods=["GET", "HEAD"])
def audio(doc_id: int, request: Request, user: User = Depends(viewer)):
    project = request.app.state.web.project
    info = project.media(doc_id)
    headers = {
        "accept-ranges": "bytes",
        "content-type": info.mime_type,
        "cache-control": "private, max-age=0",
        "etag": f'"{info.sha256[:32]}"',
    }
    try:
        wanted = parse_range(request.headers.get("range"), info.size)
    except Unsatisfiable:
        return Response(
            status_code=416, headers={**headers, "content-range": f"bytes */{info.size}"}
        )
    if_range = request.headers.get("if-range")
    if wanted is not None and if_range and if_range != headers["etag"]:
        wanted = None  # the client's copy is of another version: send the whole file
    start, end = wanted if wanted is not None else (0, info.size)
    headers["content-length"] = str(end - start)
    status = 200
    if wanted is not None:
        status = 206
        headers["content-range"] = f"bytes {start}-{end - 1}/{info.size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    body = project.media_bytes(doc_id, start, end)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=info.mime_type)


@router.get("/api/documents/{doc_id}/timeline")
def timeline(doc_id: int, request: Request, user: User = Depends(viewer)):
    """The recording (if any), each timed passage and each turn, for the audio player."""
    line = request.app.state.web.project.timeline(doc_id)
    media = line.media
    return {
        "media": None
        if media is None
        else {
            "url": f"/media/{doc_id}",
            "name": media.name,
            "mime_type": media.mime_type,
            "duration_ms": media.duration_ms,
        },
        "segments": [
            {"start": s.start, "end": s.end, "start_ms": s.start_ms, "end_ms": s.end_ms}
            for s in line.segments
        ],
        "turns": [
            {"index": tr.index, "speaker": tr.speaker, "start": tr.start, "end": tr.end}
            for tr in line.turns
        ],
    }


@router.post("/api/documents/{doc_id}/turns/{index}")
def relabel_turn(
    doc_id: int, index: int, body: Relabel, request: Request, user: User = Depends(coder)
):
    turn = request.app.state.web.project.relabel_turn(doc_id, index, body.speaker, actor=user.name)
    return {"index": turn.index, "speaker": turn.speaker, "start": turn.start, "end": turn.end}
