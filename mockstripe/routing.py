"""The route table: each API area declares `Endpoint`s; the app and the README are built from them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal, Mapping, Protocol

from . import auth
from .clock import Clock, FrozenClock, SystemClock
from .config import DEFAULT_API_VERSION, Config
from .courier import Courier
from .devtools.throttle import Throttle
from .domain.event_types import EVENT_TYPES
from .domain.events import Events
from .persistence import Journal
from .store import Account, Store
from .wire.errors import no_such
from .wire.ids import ByteSource, seeded_source, unseeded_source
from .wire.lists import paginate
from .wire.objects import ObjectType, Shape
from .wire.params import Hash, endpoint

_MAX_REMEMBERED_HEADERS = 10_000

# How a request names its account: a secret key, nothing (admin), the admin token if the server has
# one (admin operations that affect every account), or a custom token check (the v2 meter event
# stream authenticates with a session token).
Auth = Literal["secret_key", "none", "admin"] | Callable[[Store, str], Account]


class Reached(Protocol):
    """Where a request came to: an aiohttp request is one."""

    @property
    def scheme(self) -> str: ...

    @property
    def host(self) -> str: ...


@dataclass
class Call:
    """One validated request, as a handler sees it."""

    account: Account
    params: dict[str, Any]
    path_params: Mapping[str, str]
    path: str
    server: ServerState
    reached: Reached | None = None

    @property
    def origin(self) -> str:
        """The scheme and host the request came to (`http://127.0.0.1:12111`), for URLs of hosted
        pages. Read only by the few handlers that need it: working it out costs a request time."""
        return "" if self.reached is None else f"{self.reached.scheme}://{self.reached.host}"

    def now(self) -> int:
        return self.account.now()

    def path_object(self, object_type: str, name: str = "id") -> dict[str, Any]:
        """The object named in the URL, or Stripe's 404."""
        object_id = self.path_params[name]
        found = self.account.find(object_type, object_id)
        if found is None:
            noun = self.server.types[object_type].noun
            raise no_such(noun, object_id, name, status=404)
        return found

    def page(
        self,
        object_type: str,
        keep: Callable[[dict[str, Any]], bool] | None = None,
        newest_first: Iterable[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """One page of this account's `object_type` objects (or of `newest_first`), listed at this URL."""
        return paginate(
            self.account.collection(object_type).newest_first() if newest_first is None else newest_first,
            self.params,
            self.path,
            account=self.account,
            object_type=object_type,
            noun=self.server.types[object_type].noun,
            keep=keep,
        )


@dataclass(frozen=True)
class Download:
    """A handler's answer that is a file rather than JSON (a quote's PDF)."""

    body: bytes
    content_type: str


Handler = Callable[[Call], Any]


def is_v2(path: str) -> bool:
    """Whether `path` belongs to the v2 API (JSON bodies, RFC 3339 times, v2 error envelope)."""
    return path.startswith("/v2/")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    params: Hash = field(default_factory=endpoint)
    summary: str = ""
    auth: Auth = "secret_key"
    # What the response holds, so `expand[]` paths can be checked before the handler runs.
    returns: Shape | None = None
    # Set on answers that are plausible rather than faithful (the generic layer): the
    # `Mockstripe-Fidelity` header says so.
    fidelity: str | None = None

    @property
    def is_v2(self) -> bool:
        return is_v2(self.path)


@dataclass(frozen=True)
class Area:
    """One API area (a module under `resources/`): its object types and endpoints."""

    name: str
    types: tuple[ObjectType, ...]
    endpoints: tuple[Endpoint, ...]


@dataclass
class ServerState:
    """Everything one server owns; nothing lives at module level."""

    config: Config
    areas: tuple[Area, ...]
    events: Events = field(default_factory=lambda: Events(DEFAULT_API_VERSION, EVENT_TYPES))
    store: Store = field(init=False)
    courier: Courier = field(default_factory=Courier)
    types: dict[str, ObjectType] = field(default_factory=dict)
    # Authorization header -> the key it carries: parsing the header is measurable per request.
    keys_by_header: dict[str, str] = field(default_factory=dict)

    # Where request ids come from: the seed's, or the OS's randomness.
    request_ids: ByteSource = field(init=False)
    # Stripe's test-mode rate limits, when enforced (`--rate-limit`).
    throttle: Throttle | None = field(init=False)
    # Where changes are written, when the state persists (`--data-dir`).
    journal: Journal | None = None

    def __post_init__(self) -> None:
        config = self.config
        self.store = Store(
            recorder=self.events,
            new_clock=_clock_maker(config), new_ids=_ids_maker(config),
            max_accounts=config.max_accounts,
        )
        self.events.listeners.append(self.courier.snapshot)
        self.request_ids = unseeded_source if config.seed is None else seeded_source(config.seed, "requests")
        self.throttle = Throttle() if config.rate_limit else None
        for area in self.areas:
            for object_type in area.types:
                known = self.types.get(object_type.name)
                self.types[object_type.name] = object_type if known is None else merged(known, object_type)

    def secret_key(self, header: str | None) -> str:
        """The key an Authorization header carries, parsed once per distinct header."""
        if header is None:
            return auth.secret_key(header)  # raises Stripe's 401 for a missing key
        key = self.keys_by_header.get(header)
        if key is None:
            key = auth.secret_key(header)
            if len(self.keys_by_header) >= _MAX_REMEMBERED_HEADERS:
                self.keys_by_header.clear()
            self.keys_by_header[header] = key
        return key

    def now(self) -> int:
        """The server's time, for answers that belong to no account."""
        frozen = self.config.freeze_time
        return int(time.time()) if frozen is None else frozen


def _clock_maker(config: Config) -> Callable[[], Clock]:
    frozen = config.freeze_time
    return SystemClock if frozen is None else lambda: FrozenClock(frozen)


def _ids_maker(config: Config) -> Callable[[int], ByteSource | None]:
    """The id source of the nth account: seeded by its place in line, not its key, so a suite that
    makes a random key per test still gets the same ids when its tests run in the same order."""
    seed = config.seed
    if seed is None:
        return lambda ordinal: None
    return lambda ordinal: seeded_source(seed, f"account {ordinal}")


def merged(first: ObjectType, second: ObjectType) -> ObjectType:
    """One object type declared by two areas (by hand, and from the spec): the first's noun, and
    the paths either can expand, the first's declaration winning."""
    return ObjectType(
        name=first.name,
        noun=first.noun,
        expandable={**second.expandable, **first.expandable},
        expand_only={**second.expand_only, **first.expand_only},
        nested={**second.nested, **first.nested},
    )


def markdown_table(areas: tuple[Area, ...]) -> str:
    """The README's table of supported endpoints."""
    rows = ["| Method | Path | What it does |", "|---|---|---|"]
    for area in areas:
        for e in area.endpoints:
            if e.fidelity is None:
                rows.append(f"| `{e.method}` | `{e.path}` | {e.summary} |")
    return "\n".join(rows)


TABLE_START = "<!-- endpoints:start -->"
TABLE_END = "<!-- endpoints:end -->"


def splice_table(markdown: str, table: str) -> str:
    """`markdown` with `table` put between the endpoint markers (ValueError if they are missing)."""
    start = markdown.find(TABLE_START)
    end = markdown.find(TABLE_END, start)
    if start < 0 or end < 0:
        raise ValueError(f"no {TABLE_START} ... {TABLE_END} markers")
    return f"{markdown[: start + len(TABLE_START)]}\n{table}\n{markdown[end:]}"
