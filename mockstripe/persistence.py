"""Opt-in persistence (`--data-dir`): the state survives a restart, a `kill -9` included.

The data directory holds `snapshot.N` files (the whole store, pickled) and `journal.N` files (what
changed since). `snapshot.N` is the state as of the start of `journal.N`; a restart loads the
newest snapshot and replays the journals from its number on.

Changes are gathered while a request runs (`Journal` is the store's `store.Journal`: told of every
object touched, and of the services' own books) and written at its end, before its answer is sent,
as one frame (`length, crc32, pickled records`) copied into the journal file mapped in memory. Only
the operating system's page cache holds it then, which a killed process does not lose; there is no
fsync per request (a power cut may lose the last writes). A frame cut short by a kill is ignored on
replay, and overwritten by the next.

Objects are journaled as they are at the end of the request, once each however often it changed.
Services that keep large books journal each step instead (meter events, idempotency records,
webhook deliveries); the small ones are journaled whole whenever a request used them. The request
log, injected faults and rate-limit buckets (`devtools`) are not kept.

Once the journal passes `snapshot_after_bytes`, a forked child writes a new snapshot from its
copy-on-write view of the store while the server goes on serving (and writing a new journal); the
files it makes useless go once it is done.
"""

from __future__ import annotations

import asyncio
import fcntl
import gc
import io
import itertools
import logging
import mmap
import os
import pickle
import re
import struct
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson

from .clock import FrozenClock
from .config import SNAPSHOT_AFTER_BYTES
from .domain.collection import InvoicePayments
from .domain.events import EventLog
from .domain.metering import Metering
from .domain.webhooks import DeliveryLog, Undelivered
from .idempotency import IdempotencyRecords, Recorded
from .store import Account, Store, _ignore
from .wire.errors import StripeError
from .wire.retained import retained

log = logging.getLogger("mockstripe")


_FRAME = struct.Struct("<II")  # payload length, its crc32
_MAX_CLEARED = 1024 * 1024
_NAME = re.compile(r"(snapshot|journal)\.([0-9]+)")
# Services journaled step by step (by the calls below), or made again from the objects after a
# restart (`_derive`), rather than journaled whole.
_STEPWISE: frozenset[Any] = frozenset({Metering, IdempotencyRecords, EventLog, DeliveryLog, Undelivered, InvoicePayments})
# orjson fragments (an event's encoded `data`) pickle as their bytes.
_DISPATCH: dict[type, Callable[[Any], Any]] = {orjson.Fragment: lambda f: (orjson.Fragment, (orjson.dumps(f),))}

Record = tuple[Any, ...]


def _ephemeral(kind: Any) -> bool:
    """State of the developer tools (request log, faults, throttle), not worth keeping."""
    return getattr(kind, "__module__", "").startswith("mockstripe.devtools")


class _ServicePickler(pickle.Pickler):
    """Pickles one service, naming the stored objects and accounts it refers to rather than
    copying them, so that they are the same objects again once it is loaded."""

    def __init__(self, file: io.BytesIO, account: Account | None) -> None:
        super().__init__(file, protocol=5)
        self.dispatch_table = _DISPATCH
        self.account = account

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is dict and self.account is not None:
            object_type, object_id = obj.get("object"), obj.get("id")
            if (
                type(object_type) is str
                and type(object_id) is str
                and self.account.find_including_deleted(object_type, object_id) is obj
            ):
                return ("o", object_type, object_id)
        elif type(obj) is Account:
            return ("a", obj.key, obj.connected)
        return None


class _ServiceUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, store: Store, account: Account | None) -> None:
        super().__init__(io.BytesIO(data))
        self.store = store
        self.account = account

    def persistent_load(self, pid: Any) -> Any:
        if pid[0] == "a":
            return self.store.account(pid[1], pid[2])
        assert self.account is not None
        return self.account.find_including_deleted(pid[1], pid[2])


def _pickle_service(state: Any, account: Account | None) -> bytes:
    buffer = io.BytesIO()
    _ServicePickler(buffer, account).dump(state)
    return buffer.getvalue()


class _Segment:
    """One journal file, mapped into memory: appending a frame is a copy into the operating
    system's page cache, with no system call (a write() call now and then waits milliseconds for
    the file system's own journal). Its space is allocated up front, so that a full disk is an
    error here rather than a crash later; the zeros after the last frame end the replay. Frames
    go on from `end` (where the valid ones end), over whatever a kill cut short there."""

    def __init__(self, path: Path, size: int, end: int) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            used = os.fstat(fd).st_size
            size = max(size, used)
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(fd, 0, size)
            else:  # macOS: sparse, the space taken as it is written
                os.ftruncate(fd, size)
            self.map = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        self.path = path
        self.position = end
        if used >= end + _FRAME.size:
            # A frame a kill cut short: cleared, so that no remnant of it follows the next frames.
            torn = min(used, end + _FRAME.size + _FRAME.unpack_from(self.map, end)[0], end + _MAX_CLEARED)
            self.map[end:torn] = bytes(torn - end)

    def room(self) -> int:
        return len(self.map) - self.position

    def append(self, frame: bytes) -> None:
        end = self.position + len(frame)
        self.map[self.position : end] = frame
        self.position = end

    def close(self) -> None:
        """Unmap, and give back the space after the last frame."""
        self.map.close()
        os.truncate(self.path, self.position)


class Journal:
    """Gathers one request's changes and appends them to the journal file (see the module's doc)."""

    def __init__(
        self, directory: Path, store: Store, sequence: int, end: int, snapshot_after_bytes: int,
        account_state: bool = False,
    ) -> None:
        self.directory = directory
        # Whether accounts have a frozen clock or a seeded id source to keep.
        self.account_state = account_state
        self.store = store
        self.snapshot_after_bytes = snapshot_after_bytes
        self.sequence = sequence
        # Sized so that a snapshot starts before it is full (and while one is being written, the
        # journal goes on in it).
        self.segment = _Segment(directory / f"journal.{sequence}", 2 * snapshot_after_bytes, end)
        self.closed = False
        self.lock: int | None = None  # the file whose lock claims the directory (`_lock`)
        self.child: int | None = None  # the process writing a snapshot, if any
        self.child_sequence = 0  # the number of the snapshot it writes
        # Steps recorded as they happen, in order.
        self.records: list[Record] = []
        # Objects changed since the last write: (key, connected, type, id) -> their account.
        self.objects: dict[tuple[str, str | None, str, str], Account] = {}
        # Events recorded since the last write -> when.
        self.recorded_at: dict[str, int] = {}
        # Whole services used since the last write: (id of the account or 0, kind) -> the account.
        self.services: dict[tuple[int, Any], Account | None] = {}
        self.whole: dict[Any, bool] = {}  # kind -> whether it is journaled whole
        self.metered_accounts: dict[int, Account] = {}
        # The clock and id source last written of each account that has them.
        self.headers: dict[tuple[str, str | None], Record] = {}
        self.scheduled = False

    def handling(self) -> None:
        """A request is being handled: it writes its changes itself when it ends."""
        self.scheduled = True

    def _schedule(self) -> None:
        """Write what changed outside a request (webhook deliveries, hosted pages) soon."""
        self.scheduled = True
        try:
            asyncio.get_running_loop().call_soon(self.flush)
        except RuntimeError:  # not serving: written by the next flush
            pass

    # What the store and the services tell (`store.Journal`)

    def touch(self, account: Account, object_type: str, object_id: str) -> None:
        self.objects[(account.key, account.connected, object_type, object_id)] = account
        if not self.scheduled:
            self._schedule()

    def service(self, account: Account | None, kind: Any) -> None:
        whole = self.whole.get(kind)
        if whole is None:
            whole = self.whole[kind] = kind not in _STEPWISE and not _ephemeral(kind)
        if whole:
            self.services[(id(account) if account is not None else 0, kind)] = account
            if not self.scheduled:
                self._schedule()

    def _step(self, record: Record) -> None:
        self.records.append(record)
        if not self.scheduled:
            self._schedule()

    def account_made(self, account: Account, ordinal: int) -> None:
        self._step(("new", account.key, account.connected, ordinal))

    def account_forgotten(self, key: str, connected: str | None) -> None:
        self.headers.pop((key, connected), None)
        self._step(("forget", key, connected))

    def reset(self, key: str | None) -> None:
        self.headers = {name: header for name, header in self.headers.items() if key is not None and name[0] != key}
        self._step(("reset", key))

    def event_recorded(self, account: Account, event: dict[str, Any], at: int) -> None:
        self.recorded_at[event["id"]] = at
        self.touch(account, "event", event["id"])

    def idempotent(self, account: Account, key: str, record: Recorded) -> None:
        self._step(("idem", account.key, account.connected, key, record))

    def metered(
        self, account: Account, metering: Metering, event: Any, meter: dict[str, Any] | None, value: str | None,
        problem: StripeError | None, now: int,
    ) -> None:
        self.metered_accounts[id(account)] = account
        self._step(
            (
                "meter", account.key, account.connected, metering.identifier_prefix,
                tuple(event), None if meter is None else meter["id"], value,
                None if problem is None else (problem.code, problem.message), now,
            )
        )

    def meter_event_cancelled(self, account: Account, identifier: str, now: int) -> None:
        self._step(("cancel", account.key, account.connected, identifier, now))

    def delivery_pending(self, account: Account, event_id: str, endpoint_id: str | None) -> None:
        account.service(Undelivered).pending[(event_id, endpoint_id)] = None
        self._step(("deliver", account.key, account.connected, event_id, endpoint_id))

    def delivery_settled(self, account: Account, event_id: str, endpoint_id: str | None) -> None:
        if not self.store.holds(account):
            return
        account.service(Undelivered).pending.pop((event_id, endpoint_id), None)
        self._step(("delivered", account.key, account.connected, event_id, endpoint_id))

    def delivery_attempted(self, account: Account, attempt: dict[str, Any], target_key: str, succeeded: bool) -> None:
        if not self.store.holds(account):
            return
        self._step(("attempt", account.key, account.connected, attempt, target_key, succeeded))

    # Writing

    def flush(self, account: Account | None = None) -> None:
        """Write what changed since the last flush as one frame. `account`: the request's, whose
        clock and id source are kept too when they have state."""
        if self.closed:
            return
        frame = self._frame(account)
        if frame is None:
            return
        if len(frame) > self.segment.room():
            self._next_segment(len(frame))
        self.segment.append(frame)
        if self.child is not None:
            self._reap()
        elif self.segment.position >= self.snapshot_after_bytes:
            self.snapshot()

    def _next_segment(self, room: int) -> None:
        self.segment.close()
        self.sequence += 1
        self.segment = _Segment(self.directory / f"journal.{self.sequence}", max(room, 2 * self.snapshot_after_bytes), 0)

    def _frame(self, account: Account | None) -> bytes | None:
        """What changed since the last frame, as one frame (None if nothing did)."""
        self.scheduled = False
        header = None if account is None or not self.account_state else self._changed_header(account)
        if not (self.records or self.objects or self.services or header):
            return None
        records = self.records
        self.records = []
        holds = self.store.holds
        accounts: dict[int, Account] = {}
        for (key, connected, object_type, object_id), owner in self.objects.items():
            if not holds(owner):
                continue  # reset or forgotten since
            if self.account_state:
                accounts[id(owner)] = owner
            collection = owner.collections.get(object_type)
            obj = None if collection is None else collection.objects.get(object_id)
            if object_type == "event" and obj is not None:
                # As JSON: an event's `data` and `request` are encoded already (orjson fragments).
                encoded = orjson.dumps(obj)
                if object_id in self.recorded_at:
                    records.append(("event", key, connected, encoded, self.recorded_at[object_id]))
                else:
                    records.append(("event_update", key, connected, encoded))
            else:
                private = None if obj is None or collection is None else collection.private.get(object_id)
                records.append(("object", key, connected, object_type, object_id, obj, private))
        self.objects.clear()
        self.recorded_at.clear()
        for owner in self.metered_accounts.values():
            # Watchers of usage (alerts, thresholds) change their books without being asked for.
            for watchers in owner.services[Metering].watchers.values():
                for watcher in watchers:
                    kind = type(getattr(watcher, "__self__", None))
                    if owner.services.get(kind) is not None:
                        self.services[(id(owner), kind)] = owner
        self.metered_accounts.clear()
        for (_, kind), user in self.services.items():
            if user is None:
                records.append(("store_service", kind, _pickle_service(self.store.services[kind], None)))
            elif holds(user) and kind in user.services:
                accounts[id(user)] = user
                records.append(self._whole_service(user, kind))
        self.services.clear()
        for owner in accounts.values():
            changed = self._changed_header(owner)
            if changed is not None:
                records.append(changed)
        if header is not None:
            records.append(header)
        payload = pickle.dumps(records, protocol=5)
        return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload

    def _changed_header(self, account: Account) -> Record | None:
        """The account's frozen time and seeded id source, if it has them and they changed since
        they were last written."""
        frozen = account.clock.frozen_time if isinstance(account.clock, FrozenClock) else None
        ids = getattr(account.ids, "__self__", None)
        if frozen is None and ids is None:
            return None
        header = ("account", account.key, account.connected, frozen, None if ids is None else ids.getstate())
        if self.headers.get((account.key, account.connected)) == header:
            return None
        self.headers[(account.key, account.connected)] = header
        return header

    def _whole_service(self, account: Account, kind: Any) -> Record:
        metering = account.services.get(Metering)
        # The meters it watches, by the name of each watcher's method: the bound methods would
        # otherwise be pickled with a copy of their service.
        watchers = None
        if metering is not None:
            watchers = {
                meter_id: [(type(w.__self__), w.__name__) for w in found if hasattr(w, "__self__")]
                for meter_id, found in metering.watchers.items()
            }
        state = _pickle_service(account.services[kind], account)
        return ("service", account.key, account.connected, kind, state, watchers)

    # Snapshots

    def snapshot(self) -> None:
        """Start a new journal and write the state as of now (all the journals before it hold) to
        a snapshot, from a forked child."""
        self._next_segment(0)
        self.child_sequence = self.sequence
        pid = os.fork()
        if pid == 0:  # the child: write, and leave without running anything of the parent's
            code = 1
            try:
                gc.disable()
                write_snapshot(self.directory, self.sequence, self.store)
                code = 0
            finally:
                os._exit(code)
        self.child = pid

    def _reap(self) -> None:
        """Settle the snapshot's child if it is done."""
        assert self.child is not None
        pid, status = os.waitpid(self.child, os.WNOHANG)
        if pid == 0:
            return
        self.child = None
        if os.waitstatus_to_exitcode(status) == 0:
            _remove_older(self.directory, self.child_sequence)
        else:
            log.warning("writing a snapshot failed (exit status %d): the journal keeps everything", status)

    def close(self) -> None:
        """Write what is left. A snapshot still being written is not waited for (it may take
        seconds, and a stop must be quick): it completes on its own, and the next start uses it or
        the journals it would have replaced."""
        if self.closed:
            return
        self.flush()
        self.closed = True
        self.segment.close()
        if self.child is not None:
            self._reap()
        if self.lock is not None:
            os.close(self.lock)


def _files(directory: Path) -> Iterator[tuple[str, int, Path]]:
    for path in directory.iterdir():
        name = _NAME.fullmatch(path.name)
        if name is not None:
            yield name[1], int(name[2]), path


def _remove_older(directory: Path, sequence: int) -> None:
    """Remove what the snapshot `sequence` makes useless."""
    for _, number, path in list(_files(directory)):
        if number < sequence:
            path.unlink(missing_ok=True)


def write_snapshot(directory: Path, sequence: int, store: Store) -> None:
    """Write the store to `snapshot.<sequence>` (through a temporary file, renamed once complete)."""
    saved = [(account, account.recorder, account.journal, account.services) for account in store.accounts.values()]
    try:
        for account in store.accounts.values():
            account.recorder = _ignore
            account.journal = None
            account.services = {kind: state for kind, state in account.services.items() if not _ephemeral(kind)}
        state = {
            "accounts": list(store.accounts.values()),
            "services": {kind: state for kind, state in store.services.items() if not _ephemeral(kind)},
            "accounts_made": store.accounts_made,
        }
        temporary = directory / f"snapshot.{sequence}.tmp"
        with open(temporary, "wb") as file:
            pickler = pickle.Pickler(file, protocol=5)
            pickler.dispatch_table = _DISPATCH
            pickler.dump(state)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, directory / f"snapshot.{sequence}")
    finally:
        for account, recorder, journal, services in saved:
            account.recorder, account.journal, account.services = recorder, journal, services


# Restoring


def open_journal(
    directory: str | Path, store: Store, snapshot_after_bytes: int = SNAPSHOT_AFTER_BYTES, account_state: bool = False
) -> Journal:
    """Restore the store from `directory` (created if missing) and journal its changes from now on;
    `account_state`: accounts have a frozen clock or a seeded id source (`--freeze-time`, `--seed`)."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    lock = _lock(path)
    collecting = gc.isenabled()
    gc.disable()  # loading makes millions of objects, none of them garbage
    try:
        sequence, end = restore(path, store)
        # Out of the collector's sight, as `collector.py` keeps the store: else the first
        # collections after the restart would walk every object loaded, a pause of seconds.
        gc.freeze()
    finally:
        if collecting:
            gc.enable()
    journal = Journal(path, store, sequence, end, snapshot_after_bytes, account_state)
    journal.lock = lock
    store.journal = journal
    for account in store.accounts.values():
        account.journal = journal
    return journal


def _lock(directory: Path) -> int:
    """Claim the directory for this process: two servers writing one journal would garble it. A
    POSIX lock: the kernel drops it when the process dies, however, and a forked child holds none."""
    path = directory / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(fd)
        raise OSError(None, "in use by another mockstripe", str(directory)) from error
    return fd


def restore(directory: Path, store: Store) -> tuple[int, int]:
    """Load the newest snapshot and replay the journals after it; returns the number of the
    journal to go on writing, and where its frames end."""
    for path in directory.glob("snapshot.*.tmp"):
        path.unlink()  # a snapshot whose writer died
    files = list(_files(directory))
    snapshots = [number for kind, number, _ in files if kind == "snapshot"]
    start = max(snapshots, default=0)
    if snapshots:
        with open(directory / f"snapshot.{start}", "rb") as file:
            _load_snapshot(pickle.load(file), store)
    journals = sorted(number for kind, number, _ in files if kind == "journal" and number >= start)
    limit, store.max_accounts = store.max_accounts, None  # forgetting is replayed as it happened
    end = 0
    try:
        for number in journals:
            end = replay(directory / f"journal.{number}", store)
    finally:
        store.max_accounts = limit
    for account in store.accounts.values():
        _derive(account)
    _remove_older(directory, start)
    return (journals[-1], end) if journals else (max(start, 1), 0)


def _load_snapshot(state: dict[str, Any], store: Store) -> None:
    for account in state["accounts"]:
        account.recorder = store.recorder
        store.accounts[(account.key, account.connected)] = account
    store.services.update(state["services"])
    store.accounts_made = state["accounts_made"]


def frames(data: bytes) -> Iterator[tuple[list[Record], int]]:
    """The journal's frames, each with where it ends, up to the first one cut short or damaged
    (or the zeros after the last one)."""
    position = 0
    while position + _FRAME.size <= len(data):
        length, crc = _FRAME.unpack_from(data, position)
        start = position + _FRAME.size
        payload = data[start : start + length]
        if length == 0 or len(payload) < length or zlib.crc32(payload) != crc:
            return
        position = start + length
        yield pickle.loads(payload), position


def replay(path: Path, store: Store) -> int:
    """Apply one journal's frames; returns where they end."""
    end = 0
    for records, position in frames(path.read_bytes()):
        for record in records:
            _REPLAY[record[0]](store, *record[1:])
        end = position
    return end


def _replay_new(store: Store, key: str, connected: str | None, ordinal: int) -> None:
    store.accounts_made = ordinal
    store.account(key, connected)


def _replay_forget(store: Store, key: str, connected: str | None) -> None:
    store.accounts.pop((key, connected), None)


def _replay_reset(store: Store, key: str | None) -> None:
    store.reset(key)


def _replay_object(
    store: Store, key: str, connected: str | None, object_type: str, object_id: str, obj: Any, private: Any
) -> None:
    collection = store.account(key, connected).collection(object_type)
    if obj is None:
        collection.remove(object_id)
        return
    existing = collection.objects.get(object_id)
    if existing is not None and not obj.get("deleted") and not existing.get("deleted"):
        # In place: services hold stored objects themselves (a meter, an alert).
        existing.clear()
        existing.update(obj)
    else:
        collection.objects[object_id] = obj
    if private is not None:
        kept = collection.private.get(object_id)
        if kept is None:
            collection.private[object_id] = private
        else:
            kept.clear()
            kept.update(private)


def _event(encoded: bytes) -> dict[str, Any]:
    """An event as the server keeps it: its `data` encoded (see `domain/events.py`)."""
    event: dict[str, Any] = orjson.loads(encoded)
    event["data"] = orjson.Fragment(retained(orjson.dumps(event["data"])))
    return event


def _replay_event(store: Store, key: str, connected: str | None, encoded: bytes, at: int) -> None:
    account = store.account(key, connected)
    event = _event(encoded)
    account.collection("event").add(event)
    events = account.service(EventLog)
    events.recorded_at.append(at)
    events.recorded_ids.append(event["id"])
    if events.expired(at):
        events.forget_expired(account, at)


def _replay_event_update(store: Store, key: str, connected: str | None, encoded: bytes) -> None:
    existing = store.account(key, connected).collection("event").objects.get(orjson.loads(encoded)["id"])
    if existing is not None:
        existing.update(_event(encoded))


def _replay_service(
    store: Store, key: str, connected: str | None, kind: Any, state: bytes, watchers: dict[str, list[Any]] | None
) -> None:
    account = store.account(key, connected)
    loaded = _ServiceUnpickler(state, store, account).load()
    _replace(account.services, kind, loaded)
    if watchers is not None:
        metering = account.service(Metering)
        metering.watchers = {
            meter_id: [getattr(account.services[owner], name) for owner, name in found if owner in account.services]
            for meter_id, found in watchers.items()
        }


def _replay_store_service(store: Store, kind: Any, state: bytes) -> None:
    _replace(store.services, kind, _ServiceUnpickler(state, store, None).load())


def _replace(services: dict[Any, Any], kind: Any, loaded: Any) -> None:
    """Put `loaded` in place of the service's state, into the same object where there is one:
    others hold it (a meter's watchers are its methods)."""
    existing = services.get(kind)
    if existing is not None and hasattr(existing, "__dict__") and hasattr(loaded, "__dict__"):
        existing.__dict__.clear()
        existing.__dict__.update(loaded.__dict__)
    else:
        services[kind] = loaded


def _replay_idempotent(store: Store, key: str, connected: str | None, idempotency_key: str, record: Recorded) -> None:
    store.account(key, connected).service(IdempotencyRecords).finish(idempotency_key, record)


def _replay_meter_event(
    store: Store, key: str, connected: str | None, prefix: str, event: tuple[Any, ...], meter_id: str | None,
    value: str | None, problem: tuple[str | None, str] | None, now: int,
) -> None:
    account = store.account(key, connected)
    meter = None if meter_id is None else account.find_including_deleted("billing.meter", meter_id)
    error = None if problem is None else StripeError(problem[1], code=problem[0])
    account.service(Metering).replay(prefix, event, meter, value, error, now)


def _replay_cancel(store: Store, key: str, connected: str | None, identifier: str, now: int) -> None:
    store.account(key, connected).service(Metering).cancel_identified(identifier, now)


def _replay_deliver(store: Store, key: str, connected: str | None, event_id: str, endpoint_id: str | None) -> None:
    store.account(key, connected).service(Undelivered).pending[(event_id, endpoint_id)] = None


def _replay_delivered(store: Store, key: str, connected: str | None, event_id: str, endpoint_id: str | None) -> None:
    store.account(key, connected).service(Undelivered).pending.pop((event_id, endpoint_id), None)


def _replay_attempt(
    store: Store, key: str, connected: str | None, attempt: dict[str, Any], target_key: str, succeeded: bool
) -> None:
    account = store.account(key, connected)
    deliveries = account.service(DeliveryLog)
    deliveries.keep(account, attempt, target_key, succeeded)
    deliveries.numbers = itertools.count(int(attempt["id"].removeprefix("whdel_")) + 1)


def _replay_account(
    store: Store, key: str, connected: str | None, frozen: int | None, ids: tuple[Any, ...] | None
) -> None:
    account = store.account(key, connected)
    if frozen is not None and isinstance(account.clock, FrozenClock):
        account.clock.frozen_time = frozen
    source = getattr(account.ids, "__self__", None)
    if ids is not None and source is not None:
        source.setstate(ids)


_REPLAY: dict[str, Callable[..., None]] = {
    "new": _replay_new,
    "forget": _replay_forget,
    "reset": _replay_reset,
    "object": _replay_object,
    "event": _replay_event,
    "event_update": _replay_event_update,
    "service": _replay_service,
    "store_service": _replay_store_service,
    "idem": _replay_idempotent,
    "meter": _replay_meter_event,
    "cancel": _replay_cancel,
    "deliver": _replay_deliver,
    "delivered": _replay_delivered,
    "attempt": _replay_attempt,
    "account": _replay_account,
}


def _derive(account: Account) -> None:
    """What follows from the objects: which meter takes each event name (the meters' statuses),
    the index of invoice payments."""
    meters = account.collections.get("billing.meter")
    if meters is not None:
        account.service(Metering).settle(list(meters.objects.values()))
    payments = account.collections.get("invoice_payment")
    if payments is not None:
        account.services[InvoicePayments] = InvoicePayments.of(payments.objects.values())
