"""Sending webhooks, off the request path, for as long as the app runs.

`Deliveries` listens to the server's events: each event queues one delivery per target
(`domain/webhooks.py` says which), and returns at once. One worker per target sends its queue in
event order over one kept-alive connection, so a slow or dead receiver holds up only its own
deliveries. A failed attempt is retried on the configured schedule, after the deliveries queued
meanwhile.

The HTTP client is a lean one on asyncio streams rather than aiohttp's: aiohttp's client costs
more per request than the receiver does, and its sequential rate stays far below the target. It
sends POSTs only, follows no redirects, and reads at most `MAX_ANSWER_BYTES` of an answer: a
larger one, or one of unknown length, is left unread and its connection closed. Once a receiver
has kept a connection alive, the worker pipelines up to `PIPELINE_DEPTH` requests on it (answers
come back in request order, so the order holds).
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from .config import Config
from .domain.events import Events
from .domain.webhooks import (
    DeliveryLog,
    Forwarding,
    Outcome,
    Signer,
    Target,
    Undelivered,
    destination,
    pending,
    target,
    targets,
)
from .store import Account, Store

log = logging.getLogger("mockstripe.webhooks")

Obj = dict[str, Any]

PIPELINE_DEPTH = 64
# A target's worker waits this long before sending what is queued, so that events recorded close
# together go out in one write (one wake-up of the worker and of the receiver for several, rather
# than one each). Invisible next to the seconds Stripe itself takes to deliver.
COALESCE_SECONDS = 0.002
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
_HEADERS = (
    "User-Agent: " + USER_AGENT + "\r\n"
    "Accept: */*; q=0.5, application/xml\r\n"
    "Cache-Control: no-cache\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
)


@dataclass(slots=True)
class Delivery:
    target: Target
    event: Obj
    attempt: int = 1


class NoAnswer(Exception):
    """The connection closed before any byte of an answer arrived."""


class Connection:
    """One kept-alive HTTP/1.1 connection to a receiver's origin."""

    def __init__(self, origin: tuple[str, str, int], reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.answered = False  # at least one answer came back on it: it may be stale now, not refused

    def close(self) -> None:
        self.writer.close()

    async def _head(self) -> bytes:
        try:
            return await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if not error.partial:
                raise NoAnswer() from None
            raise ConnectionError("the connection closed in the middle of the answer") from None
        except asyncio.LimitOverrunError:
            raise ConnectionError(f"the answer's headers exceed {MAX_ANSWER_BYTES} bytes") from None

    async def answer(self) -> tuple[int, bool]:
        """The next answer's status, and whether the connection stays usable after it."""
        while True:
            head = await self._head()
            status_line = _STATUS_LINE.match(head)
            if status_line is None:
                first_line = head.split(b"\r\n", 1)[0]
                raise ConnectionError(f"not an HTTP answer: {first_line[:80]!r}")
            status = int(status_line[2])
            if not 100 <= status < 200 or status == 101:
                break  # an interim answer (100 Continue, 103 Early Hints) precedes the real one
        headers = head.lower()
        length_text = _header(headers, b"\r\ncontent-length:")
        length = int(length_text) if length_text is not None and length_text.isdigit() else None
        chunked = _header(headers, b"\r\ntransfer-encoding:") is not None
        connection = _header(headers, b"\r\nconnection:")
        keep_alive = connection == b"keep-alive" or (status_line[1] == b"1" and connection != b"close")
        if status in (101, 204, 304):
            length = 0
            keep_alive = keep_alive and status != 101
        if chunked or length is None or length > MAX_ANSWER_BYTES:
            return status, False  # the body is left unread: the connection cannot be reused
        if length:
            try:
                await self.reader.readexactly(length)
            except asyncio.IncompleteReadError:
                raise ConnectionError("the connection closed in the middle of the answer") from None
        self.answered = True
        return status, keep_alive


_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})[ \r]")


def _header(lowered_head: bytes, name: bytes) -> bytes | None:
    """The value of one header in an answer's lower-cased head; `name` is the lower-case name
    after its line break and before its colon."""
    start = lowered_head.find(name)
    if start < 0:
        return None
    start += len(name)
    return lowered_head[start : lowered_head.index(b"\r\n", start)].strip()


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname or "", parts.port or (443 if scheme == "https" else 80)


def _request_head(url: str) -> bytes:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"POST {target} HTTP/1.1\r\nHost: {parts.netloc.rpartition('@')[2]}\r\n{_HEADERS}".encode()


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "timed out connecting"
    if isinstance(error, NoAnswer):
        return "the connection closed without an answer"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__


class Deliveries:
    """The webhook sender of one app: started and stopped with it."""

    def __init__(self, events: Events, store: Store, config: Config) -> None:
        self.events = events
        self.store = store
        self.schedule = config.webhook_retry_schedule
        self.timeout = config.webhook_timeout
        self.forwarding = (
            Forwarding(config.forward_to, Signer(config.webhook_secret or "")) if config.forward_to else None
        )
        self.queues: dict[str, deque[Delivery]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.connections: dict[str, Connection] = {}
        self.retries: set[asyncio.TimerHandle] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.events.listeners.append(self.on_event)
        if self.store.journal is not None:
            self._resume()

    def _resume(self) -> None:
        """Queue again the deliveries a restart interrupted (the server persists its state)."""
        for account in list(self.store.accounts.values()):
            undelivered = account.services.get(Undelivered)
            if undelivered is None:
                continue
            events = account.collection("event").objects
            for event_id, endpoint_id in list(undelivered.pending):
                event = events.get(event_id)
                if event is None or (endpoint_id is None and self.forwarding is None):
                    self._settled(account, event_id, endpoint_id)
                else:
                    self._queue(Delivery(target(account, endpoint_id), event))

    def _settled(self, account: Account, event_id: str, endpoint_id: str | None) -> None:
        journal = self.store.journal
        if journal is not None:
            journal.delivery_settled(account, event_id, endpoint_id)

    async def stop(self) -> None:
        if self.on_event in self.events.listeners:
            self.events.listeners.remove(self.on_event)
        for timer in self.retries:
            timer.cancel()
        self.retries.clear()
        workers = list(self.workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()
        self.queues.clear()

    def on_event(self, account: Account, event: Obj) -> None:
        """Queue the event for each of its targets (called while the event is recorded)."""
        if self.forwarding is None and "webhook_endpoint" not in account.collections:
            return  # the common case, decided without building an empty list of targets
        journal = self.store.journal
        for found in targets(account, event["type"], self.forwarding):
            pending(event)
            self._queue(Delivery(found, event))
            if journal is not None:
                journal.delivery_pending(account, event["id"], found.endpoint_id)

    def _queue(self, delivery: Delivery) -> None:
        key = delivery.target.key
        queue = self.queues.get(key)
        if queue is None:
            queue = self.queues[key] = deque()
        queue.append(delivery)
        if key not in self.workers and self.loop is not None:
            self.workers[key] = self.loop.create_task(self._work(key, queue))

    def _retry_later(self, delivery: Delivery, delay: float) -> None:
        assert self.loop is not None

        def due() -> None:
            self.retries.discard(timer)
            self._queue(delivery)

        timer = self.loop.call_later(delay, due)
        self.retries.add(timer)

    async def _work(self, key: str, queue: deque[Delivery]) -> None:
        try:
            while queue:
                if len(queue) < PIPELINE_DEPTH:
                    await asyncio.sleep(COALESCE_SECONDS)
                await self._send_some(key, queue)
        except Exception:
            log.exception("webhook delivery to %s failed unexpectedly", key)
        finally:
            # Whatever is left waits for the target's next delivery to start a new worker.
            del self.workers[key]
            if not queue:
                self.queues.pop(key, None)

    async def _send_some(self, key: str, queue: deque[Delivery]) -> None:
        """Send the next deliveries of one target: one on a new connection, a pipelined batch on
        one the receiver has kept alive."""
        # Every delivery queued for one target goes to the same place, whatever it is now.
        found = destination(self.store, queue[0].target, self.forwarding)
        if found is None:
            # The endpoint went away or was disabled: nothing left to deliver to, or to keep open.
            for delivery in queue:
                self._settled(delivery.target.account, delivery.event["id"], delivery.target.endpoint_id)
            queue.clear()
            self._drop_connection(key)
            return
        url, signer = found
        origin = _origin(url)
        connection = self.connections.get(key)
        if connection is not None and connection.origin != origin:
            self._drop_connection(key)
            connection = None
        if connection is None:
            # A new connection carries one request until the receiver shows it keeps connections alive.
            delivery = queue.popleft()
            started = time.perf_counter()
            try:
                connection = await self._connect(origin)
            except Exception as error:  # whatever stops the connection (DNS, TLS, ...) fails the attempt
                self._settle(delivery, url, started, None, _describe(error))
                return
            self.connections[key] = connection
            batch = [delivery]
        else:
            batch = [queue.popleft() for _ in range(min(len(queue), PIPELINE_DEPTH))]
        await self._exchange(key, connection, url, signer, batch, queue)

    async def _connect(self, origin: tuple[str, str, int]) -> Connection:
        scheme, host, port = origin
        context = ssl.create_default_context() if scheme == "https" else None
        async with asyncio.timeout(self.timeout):
            reader, writer = await asyncio.open_connection(host, port, ssl=context, limit=MAX_ANSWER_BYTES)
        return Connection(origin, reader, writer)

    async def _exchange(
        self, key: str, connection: Connection, url: str, signer: Signer, batch: list[Delivery], queue: deque[Delivery]
    ) -> None:
        """Write the batch at once, then read the answers in order. Deliveries left unanswered when
        the connection ends go back to the front of the queue, not counted as attempts."""
        timestamp = int(time.time())
        head = _request_head(url)
        chunks = []
        for delivery in batch:
            body = orjson.dumps(delivery.event)
            chunks.append(head)
            signature = signer.header(timestamp, body).encode()
            chunks.append(b"Stripe-Signature: %s\r\nContent-Length: %d\r\n\r\n" % (signature, len(body)))
            chunks.append(body)
        started = time.perf_counter()
        connection.writer.write(b"".join(chunks))
        loop = asyncio.get_running_loop()
        # Each answer has `timeout` seconds from the one before it: one timer, moved along.
        deadline = asyncio.timeout_at(loop.time() + self.timeout)
        index = 0
        try:
            async with deadline:
                await connection.writer.drain()
                for index, delivery in enumerate(batch):
                    if index:
                        deadline.reschedule(loop.time() + self.timeout)
                    status, keep_alive = await connection.answer()
                    self._settle(delivery, url, started, status, None)
                    started = time.perf_counter()
                    if not keep_alive:
                        self._drop_connection(key)
                        queue.extendleft(reversed(batch[index + 1 :]))
                        return
        except NoAnswer:
            if connection.answered:
                # A kept-alive connection the receiver has since closed: send again on a new one.
                self._drop_connection(key)
                queue.extendleft(reversed(batch[index:]))
                return
            self._fail_rest(key, url, batch, index, queue, started, _describe(NoAnswer()))
        except TimeoutError:
            self._fail_rest(key, url, batch, index, queue, started, f"timed out after {self.timeout:g} s")
        except Exception as error:  # a broken connection or a garbled answer fails the attempt
            self._fail_rest(key, url, batch, index, queue, started, _describe(error))

    def _fail_rest(
        self, key: str, url: str, batch: list[Delivery], index: int, queue: deque[Delivery], started: float, error: str
    ) -> None:
        """The attempt at `batch[index]` failed and the connection with it: the later ones go back."""
        self._drop_connection(key)
        self._settle(batch[index], url, started, None, error)
        queue.extendleft(reversed(batch[index + 1 :]))

    def _drop_connection(self, key: str) -> None:
        connection = self.connections.pop(key, None)
        if connection is not None:
            connection.close()

    def _settle(self, delivery: Delivery, url: str, started: float, status: int | None, error: str | None) -> None:
        """Record one attempt and schedule the retry a failure earns."""
        outcome = Outcome(status, error, (time.perf_counter() - started) * 1000)
        now = time.time()
        retry_in = None
        if not outcome.succeeded and delivery.attempt <= len(self.schedule):
            retry_in = self.schedule[delivery.attempt - 1]
        account = delivery.target.account
        account.service(DeliveryLog).record(
            delivery.target, delivery.event, url, delivery.attempt, outcome, int(now),
            None if retry_in is None else int(now + retry_in),
        )
        if retry_in is not None:
            self._retry_later(Delivery(delivery.target, delivery.event, delivery.attempt + 1), retry_in)
        else:
            self._settled(account, delivery.event["id"], delivery.target.endpoint_id)
