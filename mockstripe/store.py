"""In-memory state: one `Account` per secret key (and connected account), holding collections.

An account holds a `Collection` per object type, created on first use, plus a private slot
per service for state that is not an object (meter event logs, idempotency records). Nothing
here is global: the `Store` belongs to one application.

Every change to a stored object goes through `Account.create`, `Account.update` or
`Account.delete` (or `Account.announce`, for news about an object that changes nothing), which
hand a `Change` to the store's recorder: that is where events come from.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, NamedTuple, Protocol, TypeVar

from .clock import Clock, SystemClock, TestClockTime

Obj = dict[str, Any]
T = TypeVar("T")
# n -> n random bytes (as `wire.ids.ByteSource`).
ByteSource = Callable[[int], bytes]

log = logging.getLogger("mockstripe")


class Cause(NamedTuple):
    """What made a change: an API request (its id and idempotency key), or the server itself."""

    request_id: str | None = None
    idempotency_key: str | None = None


BY_THE_SERVER = Cause()


class Change(NamedTuple):
    """One change to a stored object, as the recorder sees it.

    `action` is what happened (`created`, `updated`, `deleted`, or a named step such as
    `finalized`); `previous` holds the old values of what an update changed (for a nested hash,
    only its changed keys)."""

    account: Account
    object_type: str
    action: str
    obj: Obj
    previous: Obj | None
    cause: Cause


Recorder = Callable[[Change], None]


class Journal(Protocol):
    """What persistence (`mockstripe/persistence.py`) is told as state changes; None without it."""

    def touch(self, account: Account, object_type: str, object_id: str) -> None: ...

    def service(self, account: Account | None, kind: Any) -> None: ...

    def account_made(self, account: Account, ordinal: int) -> None: ...

    def account_forgotten(self, key: str, connected: str | None) -> None: ...

    def reset(self, key: str | None) -> None: ...

    def event_recorded(self, account: Account, event: Obj, at: int) -> None: ...

    def idempotent(self, account: Account, key: str, record: Any) -> None: ...

    def metered(
        self, account: Account, metering: Any, event: Any, meter: Obj | None, value: str | None, problem: Any, now: int
    ) -> None: ...

    def meter_event_cancelled(self, account: Account, identifier: str, now: int) -> None: ...

    def delivery_pending(self, account: Account, event_id: str, endpoint_id: str | None) -> None: ...

    def delivery_settled(self, account: Account, event_id: str, endpoint_id: str | None) -> None: ...

    def delivery_attempted(self, account: Account, attempt: Obj, target_key: str, succeeded: bool) -> None: ...


def _ignore(change: Change) -> None:
    pass


def differences(obj: Obj, changes: Obj) -> Obj:
    """The old values of the fields `changes` would change: for a hash that stays a hash, only its
    changed keys."""
    previous: Obj = {}
    for key, new in changes.items():
        old = obj.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            previous[key] = {k: old.get(k) for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        else:
            previous[key] = old
    return previous


class Collection:
    """Objects of one type by id, in creation order; deleted ones stay as stubs."""

    def __init__(self) -> None:
        self.objects: dict[str, Obj] = {}
        # Internal fields that are not part of the rendered object (e.g. a price's tiers).
        self.private: dict[str, dict[str, Any]] = {}

    def add(self, obj: Obj, **private: Any) -> Obj:
        self.objects[obj["id"]] = obj
        if private:
            self.private[obj["id"]] = private
        return obj

    def remove(self, object_id: str) -> None:
        """Forget an object entirely (an event past its retention), leaving no stub."""
        self.objects.pop(object_id, None)
        self.private.pop(object_id, None)

    def get(self, object_id: str) -> Obj | None:
        """The live object, or None if unknown or deleted."""
        obj = self.objects.get(object_id)
        return None if obj is None or obj.get("deleted") else obj

    def newest_first(self) -> Iterator[Obj]:
        for obj in reversed(self.objects.values()):
            if not obj.get("deleted"):
                yield obj

    def __len__(self) -> int:
        return len(self.objects)


@dataclass
class Account:
    """Everything one API key (or one connected account under it) can see."""

    key: str
    connected: str | None = None  # the `Stripe-Account` namespace inside the key, if any
    clock: Clock = field(default_factory=SystemClock)
    collections: dict[str, Collection] = field(default_factory=dict)
    services: dict[Any, Any] = field(default_factory=dict)  # keyed by each service's class
    recorder: Recorder = _ignore
    # The request being handled, if any: changes made meanwhile are its doing.
    cause: Cause = BY_THE_SERVER
    # Where this account's ids come from on a seeded server; None: the OS's randomness.
    ids: ByteSource | None = None
    # Told of every change when the server persists its state (`--data-dir`).
    journal: Journal | None = None

    # Changes

    def create(self, obj: Obj, *, action: str = "created", **private: Any) -> Obj:
        """Store a new object (its type is its `object` field)."""
        self.collection(obj["object"]).add(obj, **private)
        if self.journal is not None:
            self.journal.touch(self, obj["object"], obj["id"])
        self.recorder(Change(self, obj["object"], action, obj, None, self.cause))
        return obj

    def update(self, obj: Obj, changes: Obj, *, action: str = "updated", previous: Obj | None = None) -> Obj:
        """Apply `changes` to a stored object. `previous` adds old values of what changed in place
        beforehand (a subscription's items, changed through their own objects). Nothing is
        recorded when nothing changed."""
        changed = differences(obj, changes)
        if previous:
            changed.update(previous)
        obj.update(changes)
        if self.journal is not None:
            self.journal.touch(self, obj["object"], obj["id"])
        if changed or action != "updated":
            self.recorder(Change(self, obj["object"], action, obj, changed, self.cause))
        return obj

    def delete(self, obj: Obj, *, action: str = "deleted") -> Obj:
        """Replace an object by its deletion stub; the change carries the object as it was."""
        object_type = obj["object"]
        stub = {"id": obj["id"], "object": object_type, "deleted": True}
        self.collection(object_type).objects[obj["id"]] = stub
        if self.journal is not None:
            self.journal.touch(self, object_type, obj["id"])
        self.recorder(Change(self, object_type, action, obj, None, self.cause))
        return stub

    def announce(self, obj: Obj, action: str) -> None:
        """News about an object that changes nothing in it (an upcoming invoice, a trial ending)."""
        self.recorder(Change(self, obj["object"], action, obj, None, self.cause))

    @contextlib.contextmanager
    def caused_by(self, cause: Cause) -> Iterator[None]:
        """Attribute the changes made inside to `cause` (`BY_THE_SERVER` for billing a test clock
        does on its own)."""
        outer, self.cause = self.cause, cause
        try:
            yield
        finally:
            self.cause = outer

    # Reading

    @property
    def own_id(self) -> str:
        """This account's `acct_` id: the connected account's, or one derived from the key, so
        it stays the same across restarts."""
        return self.connected or own_account_id(self.key)

    def collection(self, object_type: str) -> Collection:
        found = self.collections.get(object_type)
        if found is None:
            found = self.collections[object_type] = Collection()
        return found

    def find(self, object_type: str, object_id: str) -> Obj | None:
        found = self.collections.get(object_type)
        return None if found is None else found.get(object_id)

    def find_including_deleted(self, object_type: str, object_id: str) -> Obj | None:
        """The object, or its deletion stub if it was deleted."""
        found = self.collections.get(object_type)
        return None if found is None else found.objects.get(object_id)

    def service(self, kind: Callable[[], T]) -> T:
        """Per-account state of one service (created on first use), keyed by its class."""
        state = self.services.get(kind)
        if state is None:
            state = self.services[kind] = kind()
        if self.journal is not None:
            self.journal.service(self, kind)
        return state

    def now(self) -> int:
        return self.clock.now()

    def clock_for(self, obj: Obj | None) -> Clock:
        """The clock `obj` (a customer, or a subscription or invoice of one) lives in: its test
        clock's frozen time when it carries a `test_clock`, else the account's clock."""
        clock_id = obj.get("test_clock") if obj is not None else None
        test_clock = self.find("test_helpers.test_clock", clock_id) if clock_id is not None else None
        return self.clock if test_clock is None else TestClockTime(test_clock)


def own_account_id(key: str) -> str:
    """The `acct_` id of a secret key's own account (16 letters and digits, as Stripe's)."""
    digest = hashlib.blake2b(key.encode(), digest_size=16, person=b"mockstripe-acct").hexdigest()
    return "acct_1" + digest[:15].upper()


class Store:
    """All accounts of one server, keyed by (secret key, connected account), and the server-wide
    state of services that span accounts (meter event session tokens)."""

    def __init__(
        self,
        recorder: Recorder = _ignore,
        new_clock: Callable[[], Clock] = SystemClock,
        new_ids: Callable[[int], ByteSource | None] = lambda ordinal: None,
        max_accounts: int | None = None,
    ) -> None:
        # Least recently used first, when `max_accounts` caps them.
        self.accounts: dict[tuple[str, str | None], Account] = {}
        self.services: dict[Any, Any] = {}  # keyed by each service's class
        self.recorder = recorder
        self.new_clock = new_clock
        # The id source of the nth account made (since the store was last reset entirely).
        self.new_ids = new_ids
        self.accounts_made = 0
        self.max_accounts = max_accounts
        self.journal: Journal | None = None

    def service(self, kind: Callable[[], T]) -> T:
        """Server-wide state of one service (created on first use), keyed by its class."""
        state = self.services.get(kind)
        if state is None:
            state = self.services[kind] = kind()
        if self.journal is not None:
            self.journal.service(None, kind)
        return state

    def account(self, key: str, connected: str | None = None) -> Account:
        name = (key, connected)
        found = self.accounts.get(name)
        if found is None:
            if self.max_accounts is not None and len(self.accounts) >= self.max_accounts:
                self._forget_least_recently_used()
            found = self.accounts[name] = Account(
                key=key,
                connected=connected,
                clock=self.new_clock(),
                recorder=self.recorder,
                ids=self.new_ids(self.accounts_made),
                journal=self.journal,
            )
            if self.journal is not None:
                self.journal.account_made(found, self.accounts_made)
            self.accounts_made += 1
        elif self.max_accounts is not None:
            # Most recently used last (re-inserting is the cheapest reordering a dict has).
            del self.accounts[name]
            self.accounts[name] = found
        return found

    def _forget_least_recently_used(self) -> None:
        (key, connected), account = next(iter(self.accounts.items()))
        del self.accounts[(key, connected)]
        if self.journal is not None:
            self.journal.account_forgotten(key, connected)
        objects = sum(len(collection) for collection in account.collections.values())
        log.info(
            "forgot the least recently used account (key ...%s%s, objects: %d): at most %d accounts are kept",
            key[-4:],
            f", connected account {connected}" if connected else "",
            objects,
            self.max_accounts,
        )

    def object_count(self) -> int:
        """Objects stored in every account (deletion stubs and events included)."""
        return sum(len(c) for account in self.accounts.values() for c in account.collections.values())

    def holds(self, account: Account) -> bool:
        """Whether `account` is still this store's (a reset forgets accounts)."""
        return self.accounts.get((account.key, account.connected)) is account

    def reset(self, key: str | None = None) -> int:
        """Forget every account (and all server-wide state), or only those of one secret key.
        Returns how many accounts went."""
        if key is None:
            self.services.clear()
            self.accounts_made = 0
        doomed = [k for k in self.accounts if key is None or k[0] == key]
        for k in doomed:
            del self.accounts[k]
        if self.journal is not None:
            self.journal.reset(key)
        return len(doomed)
