"""Delivery to v2 event destinations: signed POSTs sent in the background, so they never hold up
the request that caused them, and the meter error reports sent when their window closes.

Each attempt is made once; an answer other than 2xx, a refused connection or a timeout is logged
and dropped (no retries: v1 webhook endpoints have those, in `delivery.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
import orjson

from .domain import thin_events
from .domain.metering import Metering
from .domain.webhooks import Signer
from .store import BY_THE_SERVER, Account, Store

log = logging.getLogger("mockstripe.delivery")

Obj = dict[str, Any]

TIMEOUT_SECONDS = 10
HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
}


class Courier:
    """Sends events to the event destinations that take them; owned by one server."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._sending: set[asyncio.Task[None]] = set()

    def thin(self, account: Account, event: Obj) -> None:
        """Send a thin event's notification to every enabled `thin` destination listing its type."""
        body = thin_events.notification(event)
        for destination in thin_events.recipients(account, event["type"], "thin"):
            self.post(account, destination, body)

    def snapshot(self, account: Account, event: Obj) -> None:
        """Send a v1 event to every enabled `snapshot` destination listing its type (an `Events` listener)."""
        body = b""
        for destination in thin_events.recipients(account, event["type"], "snapshot"):
            body = body or orjson.dumps(event)
            self.post(account, destination, body)

    def report_meter_errors(self, store: Store, *, window: float | None = None, account: Account | None = None) -> list[Obj]:
        """Report the dropped meter events whose window (seconds) has closed, or all of them when
        `window` is None, for every account or only `account`; returns the thin events sent."""
        due_by = None if window is None else time.monotonic() - window
        sent = []
        for holder in [account] if account is not None else list(store.accounts.values()):
            metering = holder.services.get(Metering)
            if metering is None or not metering.error_reports:
                continue
            batches = metering.error_reports.take(due_by)
            if not batches:
                continue
            with holder.caused_by(BY_THE_SERVER):
                events = thin_events.report(holder, batches)
            for event in events:
                self.thin(holder, event)
            sent.extend(events)
        return sent

    async def close(self) -> None:
        for task in list(self._sending):
            task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def post(self, account: Account, destination: Obj, body: bytes) -> None:
        """Send `body` to one destination, signed with its secret, in the background."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving: nowhere to send from
            return
        private = account.collection(thin_events.DESTINATION_TYPE).private[destination["id"]]
        task = loop.create_task(self._send(private["url"], private["signing_secret"], body))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, url: str, secret: str, body: bytes) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))
        # Signed with wall-clock time, whatever time the account lives in: verifiers check it is recent.
        headers = {**HEADERS, "Stripe-Signature": Signer(secret).header(int(time.time()), body)}
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                await response.read()
                if not 200 <= response.status < 300:
                    log.info("event destination %s answered %s", url, response.status)
        except (TimeoutError, aiohttp.ClientError, ValueError) as error:
            log.info("event destination %s unreachable: %s", url, error)
