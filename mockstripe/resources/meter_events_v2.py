"""Meter events (v2): sessions, the high-throughput event stream, single events and adjustments.

v2 bodies are JSON and its times RFC 3339 strings. Every event goes through `Metering`, as v1's
do, so both count in the same aggregates. The stream authenticates with a session token instead of
a secret key: `MeterEventSessions` maps tokens to accounts for the whole server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..auth import mask, unauthorized
from ..domain.metering import MeterEvent, Metering
from ..routing import Area, Call, Endpoint
from ..store import Account, Store
from ..wire.errors import StripeError
from ..wire.ids import new_id, random_tail
from ..wire.objects import ObjectType
from ..wire.params import DateTime, Enum, Hash, List, Map, String
from ..wire.times import format_rfc3339, unix_seconds

SESSION = ObjectType(name="v2.billing.meter_event_session", noun="meter event session")
METER_EVENT = ObjectType(name="v2.billing.meter_event", noun="meter event")
ADJUSTMENT = ObjectType(name="v2.billing.meter_event_adjustment", noun="meter event adjustment")

SESSION_SECONDS = 15 * 60
# Expired tokens are still recognised (to answer "expired" rather than "unknown") this long.
EXPIRED_TOKEN_MEMORY = 24 * 60 * 60
# UNSURE: the format of Stripe's session tokens; this one cannot be mistaken for an API key.
TOKEN_PREFIX = "mes_auth_test_"
MAX_STREAM_EVENTS = 100


@dataclass(frozen=True)
class _Session:
    account: Account
    expires_at: int


class MeterEventSessions:
    """Every session token this server issued, oldest first: `store.service(MeterEventSessions)`."""

    def __init__(self) -> None:
        self._sessions: dict[str, _Session] = {}

    def issue(self, account: Account) -> tuple[str, int]:
        """A new token for `account` and when it expires (account clock)."""
        self._forget_long_expired()
        token = TOKEN_PREFIX + random_tail(48)
        expires_at = account.now() + SESSION_SECONDS
        self._sessions[token] = _Session(account, expires_at)
        return token, expires_at

    def account_for(self, token: str) -> Account:
        """The account a stream request acts for, or Stripe's 401."""
        session = self._sessions.get(token)
        if session is None:
            # UNSURE: Stripe's wording when the stream is called with an API key or an unknown token.
            if token.startswith(("sk_", "rk_", "pk_")):
                raise unauthorized(
                    "The meter event stream authenticates with a meter event session token, not an API "
                    "key. Create a session with POST /v2/billing/meter_event_session and send its "
                    "authentication_token as the Bearer token."
                )
            raise unauthorized(f"Invalid meter event session token provided: {mask(token)}")
        if session.account.now() >= session.expires_at:
            raise StripeError(
                "The meter event session has expired. Create a new session with "
                "POST /v2/billing/meter_event_session and use its authentication_token.",
                status=401,
                type="temporary_session_expired",
                code="billing_meter_event_session_expired",
            )
        return session.account

    def _forget_long_expired(self) -> None:
        while self._sessions:
            token, session = next(iter(self._sessions.items()))
            if session.account.now() - session.expires_at < EXPIRED_TOKEN_MEMORY:
                return
            del self._sessions[token]


def session_account(store: Store, token: str) -> Account:
    account = store.service(MeterEventSessions).account_for(token)
    if not store.holds(account):
        # The account was reset since the session began: its tokens went with it.
        raise unauthorized(f"Invalid meter event session token provided: {mask(token)}")
    return account


EVENT = dict(
    event_name=String(required=True, max_length=100),
    # A free string map: none of metadata's limits apply, but v2's typed JSON takes strings only.
    payload=Map(required=True, max_keys=None, max_key_length=None, max_value_length=None, strings_only=True),
    identifier=String(max_length=100),
    timestamp=DateTime(),
)
CREATE_SESSION = Hash()
STREAM = Hash(
    fields={
        "events": List(
            required=True, min_items=1, max_items=MAX_STREAM_EVENTS, item=Hash(required=True, fields=EVENT)
        )
    }
)
CREATE = Hash(fields=EVENT)
ADJUST = Hash(
    fields={
        "event_name": String(required=True, max_length=100),
        "type": Enum("cancel", required=True),
        "cancel": Hash(required=True, fields={"identifier": String(required=True, max_length=100)}),
    }
)


def _event(params: dict[str, Any], now: int | None = None) -> MeterEvent:
    """The event; without a timestamp it happens at `now` (None: when Metering receives it, in its
    customer's time)."""
    payload = params["payload"]
    if None in payload.values():  # the validator reads "" as unset; a payload keeps it as sent
        payload = {key: value or "" for key, value in payload.items()}
    moment = params.get("timestamp")
    timestamp = now if moment is None else unix_seconds(moment)
    return MeterEvent(params["event_name"], payload, timestamp, params.get("identifier"))


def create_session(call: Call) -> dict[str, Any]:
    token, expires_at = call.server.store.service(MeterEventSessions).issue(call.account)
    return {
        "id": new_id("bmes"),
        "object": "v2.billing.meter_event_session",
        "authentication_token": token,
        "created": format_rfc3339(call.now()),
        "expires_at": format_rfc3339(expires_at),
        "livemode": False,
    }


def stream(call: Call) -> dict[str, Any]:
    events = [_event(params) for params in call.params["events"]]
    call.account.service(Metering).record_stream(call.account, events, call.server.config.strict_meter_events)
    return {}


def create(call: Call) -> dict[str, Any]:
    params = call.params
    now = call.account.service(Metering).now_for(call.account, params["event_name"], params["payload"])
    event = _event(params, now)
    identifier = call.account.service(Metering).record(
        call.account,
        event.event_name,
        event.payload,
        event.timestamp,
        event.identifier,
        call.server.config.strict_meter_events,
    )
    moment = call.params.get("timestamp")
    return {
        "object": "v2.billing.meter_event",
        "created": format_rfc3339(now),
        "event_name": event.event_name,
        "identifier": identifier,
        "livemode": False,
        "payload": event.payload,
        "timestamp": format_rfc3339(now if moment is None else moment),
    }


def adjust(call: Call) -> dict[str, Any]:
    params = call.params
    identifier = params["cancel"]["identifier"]
    call.account.service(Metering).cancel(call.account, params["event_name"], identifier, call.now())
    return {
        "id": new_id("mtr_event_adj"),
        "object": "v2.billing.meter_event_adjustment",
        "cancel": {"identifier": identifier},
        "created": format_rfc3339(call.now()),
        "event_name": params["event_name"],
        "livemode": False,
        "status": "pending",
        "type": "cancel",
    }


AREA = Area(
    name="meter_events_v2",
    types=(SESSION, METER_EVENT, ADJUSTMENT),
    endpoints=(
        Endpoint(
            "POST",
            "/v2/billing/meter_event_session",
            create_session,
            CREATE_SESSION,
            "Create a 15-minute session token for the meter event stream",
        ),
        Endpoint(
            "POST",
            "/v2/billing/meter_event_stream",
            stream,
            STREAM,
            "Record up to 100 meter events at once (session token auth; validated asynchronously)",
            auth=session_account,
        ),
        Endpoint("POST", "/v2/billing/meter_events", create, CREATE, "Record a meter event (validated synchronously)"),
        Endpoint(
            "POST",
            "/v2/billing/meter_event_adjustments",
            adjust,
            ADJUST,
            "Cancel a meter event received in the last 24 hours",
        ),
    ),
)
