"""Keeping Python's cyclic garbage collector off the store, for flat tail latency.

A full collection walks every tracked container in the process: with a million stored objects that
is a pause of a second or more, and CPython schedules one whenever the old generation grew by a
quarter. Stored objects live until deleted and are freed by reference counting (they form no
cycles), so the collector gains nothing by walking them. Every 50 ms, `gc.freeze()` moves every
tracked object out of the collector's sight; collections then only ever walk what was allocated
since. So often that a young collection, which pauses for as long as the young objects take to walk
(about 5 ms for 10,000 of them), seldom comes at all: under load the young objects are frozen first.

Freezing is process-wide, so only the `mockstripe` command (which owns its process) does it; a
server embedded in a test process leaves the host's collector alone.

What freezing costs: cyclic garbage frozen before a young collection found it, and cycles alive at
a freeze that die later (a connection that was open then), wait for the next full collection. That
runs, after unfreezing, only when the server is idle (no request for a whole second) and its memory
grew by a tenth since the last one: its pause then delays no request. (Where the memory cannot be
read, never.) Serving a request makes no cycles, so there is little such garbage.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Callable

from .memory import rss_bytes

log = logging.getLogger("mockstripe")

FREEZE_EVERY_SECONDS = 0.05
# Whether to collect everything is decided this often: idle means no request for that long.
IDLE_SECONDS = 1.0
# A full collection, when idle, once memory grew by this share since the last one ...
FULL_COLLECTION_GROWTH = 0.1
# ... and by at least this much (below it there is nothing worth the pause).
FULL_COLLECTION_MINIMUM_BYTES = 16 * 1024 * 1024
# Young collections less often than CPython's default of every 700 net allocations: each costs the
# same small amount whatever the store's size, and requests allocate in bursts.
THRESHOLDS = (20_000, 20, 100)


class Collector:
    """The freezing schedule of one process."""

    def __init__(self, requests_served: Callable[[], int], memory: Callable[[], int | None] = rss_bytes) -> None:
        self.requests_served = requests_served
        self.served_at_last_tick = requests_served()
        # How much the process holds, read once a second: its growth since the last full collection
        # estimates what was frozen since (reading the memory is cheap, counting the objects is not).
        self.memory = memory
        self.memory_at_last_full = 0

    def start(self) -> None:
        """Freeze what starting the server allocated (without a full collection first, which would
        delay the first request by tens of milliseconds), and raise the young thresholds."""
        gc.set_threshold(*THRESHOLDS)
        gc.freeze()
        self.memory_at_last_full = self.memory() or 0

    def tick(self) -> None:
        """Once a second: freeze everything (moving the generations' lists, whatever their size), or,
        when the server was idle and has grown enough since the last full collection, collect
        everything."""
        served, self.served_at_last_tick = self.served_at_last_tick, self.requests_served()
        grown = (self.memory() or 0) - self.memory_at_last_full
        if served == self.served_at_last_tick and grown >= max(
            FULL_COLLECTION_MINIMUM_BYTES, FULL_COLLECTION_GROWTH * self.memory_at_last_full
        ):
            self._full()
            return
        # No young collection first: it would cost a pause as long as the interval's survivors are
        # many. The little cyclic garbage frozen with them waits for the next full collection.
        gc.freeze()

    def _full(self) -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.memory_at_last_full = self.memory() or 0
        log.debug("full garbage collection: %d objects frozen", gc.get_freeze_count())

    async def run(self) -> None:
        ticks_per_check = round(IDLE_SECONDS / FREEZE_EVERY_SECONDS)
        while True:
            for _ in range(ticks_per_check - 1):
                await asyncio.sleep(FREEZE_EVERY_SECONDS)
                gc.freeze()
            await asyncio.sleep(FREEZE_EVERY_SECONDS)
            self.tick()
