"""Helpers shared by several test files (not fixtures): AnnoMI datasets and a served workspace."""

from __future__ import annotations

import csv
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

ANNOMI_CLASSES = [
    "reflection",
    "question",
    "therapist_input",
    "other",
    "change",
    "neutral",
    "sustain",
]


def write_csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def annomi_dataset(
    shared: Path, folder: Path, conversations: list[int]
) -> tuple[pd.DataFrame, list[str]]:
    """Write AnnoMI conversations as a coded-segment dataset (one label per turn, one coder per
    expert) into `folder`; returns the labelled rows (unit, annotator_id, label) and the unit ids
    in conversation order."""
    frame = pd.read_csv(shared / "data" / "annomi" / "AnnoMI-full.csv")
    frame = frame[frame["transcript_id"].isin(conversations)].copy()
    frame["label"] = frame["main_therapist_behaviour"].fillna(frame["client_talk_type"])
    frame["unit"] = frame["transcript_id"].astype(str) + ":" + frame["utterance_id"].astype(str)
    folder.mkdir(parents=True, exist_ok=True)
    turns = frame.drop_duplicates("unit").sort_values(["transcript_id", "utterance_id"])
    write_csv(folder / "codebook.csv", ["code"], [[c] for c in ANNOMI_CLASSES])
    write_csv(
        folder / "segments.csv",
        ["id", "text", "document"],
        [[r.unit, r.utterance_text, f"mi{r.transcript_id}"] for r in turns.itertuples()],
    )
    labelled = frame.dropna(subset=["label"])
    write_csv(
        folder / "codings.csv",
        ["segment_id", "coder", "code"],
        [[r.unit, f"expert{r.annotator_id}", r.label] for r in labelled.itertuples()],
    )
    return labelled, turns["unit"].tolist()


@contextmanager
def served(app) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port in a thread; yields its URL."""
    import pytest
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("the workspace did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
