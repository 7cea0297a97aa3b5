"""In-memory state: one `Account` per secret key (and connected account), holding collections.

An account holds a `Collection` per object type, created on first use, plus a private slot
per service for state that is not an object (meter event logs, idempotency records). Nothing
here is global: the `Store` belongs to one application.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TypeVar

from .clock import Clock, SystemClock, TestClockTime

Obj = dict[str, Any]
T = TypeVar("T")


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
    services: dict[type, Any] = field(default_factory=dict)

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
        state = self.services.get(kind)  # type: ignore[call-overload]
        if state is None:
            state = self.services[kind] = kind()  # type: ignore[index]
        return state

    def now(self) -> int:
        return self.clock.now()

    def clock_for(self, obj: Obj | None) -> Clock:
        """The clock `obj` (a customer, or a subscription or invoice of one) lives in: its test
        clock's frozen time when it carries a `test_clock`, else the account's clock."""
        clock_id = obj.get("test_clock") if obj is not None else None
        test_clock = self.find("test_helpers.test_clock", clock_id) if clock_id is not None else None
        return self.clock if test_clock is None else TestClockTime(test_clock)


class Store:
    """All accounts of one server, keyed by (secret key, connected account), and the server-wide
    state of services that span accounts (meter event session tokens)."""

    def __init__(self) -> None:
        self.accounts: dict[tuple[str, str | None], Account] = {}
        self.services: dict[type, Any] = {}

    def service(self, kind: Callable[[], T]) -> T:
        """Server-wide state of one service (created on first use), keyed by its class."""
        state = self.services.get(kind)  # type: ignore[call-overload]
        if state is None:
            state = self.services[kind] = kind()  # type: ignore[index]
        return state

    def account(self, key: str, connected: str | None = None) -> Account:
        found = self.accounts.get((key, connected))
        if found is None:
            found = self.accounts[(key, connected)] = Account(key=key, connected=connected)
        return found

    def holds(self, account: Account) -> bool:
        """Whether `account` is still this store's (a reset forgets accounts)."""
        return self.accounts.get((account.key, account.connected)) is account

    def reset(self, key: str | None = None) -> int:
        """Forget every account (and all server-wide state), or only those of one secret key.
        Returns how many accounts went."""
        if key is None:
            self.services.clear()
        doomed = [k for k in self.accounts if key is None or k[0] == key]
        for k in doomed:
            del self.accounts[k]
        return len(doomed)
