"""One change feed per worker process, shared by all its open event streams.

A background thread follows the store's change sequence (api/changes.py: LISTEN on PostgreSQL,
a poll every few hundred milliseconds on SQLite), keeps the recent changes in memory and wakes
the streams that wait for them, whatever event loop they run on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque

from starlette.concurrency import run_in_threadpool

from caseframe.api import Project
from caseframe.api.changes import Change, ChangeSource

log = logging.getLogger("caseframe.web")
KEEP = 5000  # recent changes kept for streams that fall behind or reconnect


class ChangeFeed:
    def __init__(self, project: Project, poll_interval: float = 0.3, fallback: float = 5.0):
        self.project = project
        self.poll_interval = poll_interval
        self.fallback = fallback  # PostgreSQL: read anyway when no notification came this long
        self.latest = 0
        self._floor = 0  # the buffer holds every change after this id
        self._recent: deque[Change] = deque(maxlen=KEEP)
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = set()
        self._lock = threading.Lock()
        self._started = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def ready(self) -> bool:
        """Following the sequence (false while the store cannot be reached at start)."""
        return self._started.is_set() and not self._stop.is_set()

    def latest_in_store(self) -> int:
        return ChangeSource(self.project.store, listen=False).latest()

    def start(self) -> None:
        """Start following (once; the first event stream of the worker calls it)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="caseframe-changes", daemon=True
                )
                self._thread.start()
        self._started.wait(timeout=30)  # every caller: the sequence's current end must be known

    def stop(self) -> None:
        self._stop.set()
        self._wake_all()
        if self._thread is not None:
            self._thread.join(timeout=self.fallback + 2)

    def _run(self) -> None:
        source: ChangeSource | None = None
        while not self._stop.is_set():
            try:
                if source is None:
                    source = ChangeSource(self.project.store, self.poll_interval)
                    if not self._started.is_set():
                        self.latest = self._floor = source.latest()
                        self._started.set()
                source.wait(self.fallback)
                changes, newest = source.read(self.latest)
                if newest > self.latest:
                    self._publish(changes, newest)
            except Exception:  # the database restarted or a connection broke: start again
                log.warning("change feed: reconnecting", exc_info=True)
                if source is not None:
                    try:
                        source.close()
                    except Exception:
                        pass
                source = None
                self._stop.wait(1.0)
        if source is not None:
            source.close()
        self._started.set()

    def _publish(self, changes: list[Change], newest: int) -> None:
        with self._lock:
            for change in changes:
                if len(self._recent) == KEEP:  # the oldest is about to go
                    self._floor = self._recent[0].event_id
                self._recent.append(change)
            self.latest = newest
        self._wake_all()

    def _wake_all(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, set()
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(_settle, future)
            except RuntimeError:  # that loop has closed
                pass

    async def wait(self, after_id: int, timeout: float) -> tuple[list[Change], int]:
        """Changes after `after_id` and the newest id seen; waits up to `timeout` seconds
        when there is nothing new yet."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            ready = self.latest > after_id or self._stop.is_set()
            if not ready:
                self._waiters.add((loop, future))
        if not ready:
            try:
                await asyncio.wait_for(future, timeout)
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self._waiters.discard((loop, future))
        return await self.since(after_id)

    async def since(self, after_id: int) -> tuple[list[Change], int]:
        with self._lock:
            latest = self.latest
            if after_id >= self._floor:
                return [c for c in self._recent if c.event_id > after_id], latest
        # a stream resuming from before what is kept here reads the store
        changes, newest = await run_in_threadpool(
            lambda: ChangeSource(self.project.store, listen=False).read(after_id, limit=KEEP)
        )
        return [c for c in changes if c.event_id <= latest], latest


def _settle(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)
