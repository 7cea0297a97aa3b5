"""`create_app(config)`: the aiohttp application and its request pipeline.

Every API request goes through `_dispatch`, carried by an `_Exchange`: authenticate, decode, claim the
idempotency key, validate against the endpoint's spec, run the handler, expand, encode. Each route's wrapper turns
anything raised on the way into Stripe-shaped JSON with a `Request-Id`, and a catch-all route
answers unknown URLs and methods the same way. (A wrapper per route rather than an aiohttp
middleware: the middleware chain costs measurable time on every request.)
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from dataclasses import dataclass, replace
from typing import Any, Awaitable, Callable

import orjson
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, LineTooLong

from . import admin, auth, dashboard, hosted
from .config import DEFAULT_API_VERSION, MAX_BODY_BYTES, Config
from .delivery import Deliveries
from .devtools import endpoints as devtools
from .devtools.faults import AFTER, BEFORE, ConnectionDropped, Fault, Faults, fault_error
from .devtools.requestlog import DROPPED, request_log
from .idempotency import IdempotencyRecords, Outcome, Recorded, mismatch
from .persistence import open_journal
from .resources import AREAS, generic
from .routing import Area, Call, Download, Endpoint, ServerState, is_v2
from .store import BY_THE_SERVER, Account, Cause, own_account_id
from .wire.decode import decode_form, decode_json
from .wire.errors import StripeError, internal_error, unrecognized_url
from .wire.expand import check as check_expand
from .wire.expand import expand
from .wire.ids import drawing_from, request_id
from .wire.params import validate
from .wire.retained import retained

log = logging.getLogger("mockstripe")

# fullmatch, ASCII digits: `$` would allow a trailing newline and `\d` other scripts' digits.
_VERSION = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(\.[a-z]+)?")
JSON = "application/json"
FIDELITY_HEADER = "Mockstripe-Fidelity"


STATE = web.AppKey("mockstripe", ServerState)
DELIVERIES = web.AppKey("mockstripe_deliveries", Deliveries)


def default_areas() -> tuple[Area, ...]:
    return (*AREAS, admin.AREA, devtools.AREA)


def create_app(config: Config | None = None, areas: tuple[Area, ...] | None = None) -> web.Application:
    """The server; with `areas`, one that answers only theirs (no generic layer)."""
    config = config or Config()
    if areas is None:
        built = default_areas()
        # The spec's other operations answer generically, after (so never instead of) those built
        # by hand; in strict mode only their object types stay, for what `expand[]` accepts.
        areas = (*built, generic.area(built, with_endpoints=not config.strict_endpoints))
    state = ServerState(config=config, areas=areas)
    if config.data_dir is not None:
        state.journal = open_journal(
            config.data_dir, state.store, config.snapshot_after_bytes,
            account_state=config.seed is not None or config.freeze_time is not None,
        )
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STATE] = state
    app[DELIVERIES] = Deliveries(state.events, state.store, state.config)
    app.on_startup.append(_start_deliveries)
    app.on_cleanup.append(_stop_deliveries)
    if state.journal is not None:
        app.on_cleanup.append(_close_journal)
    endpoints = [endpoint for area in state.areas for endpoint in area.endpoints]
    # aiohttp tries routes in the order they were added: a fixed segment (`/v1/customers/search`)
    # goes before a parameter in its place (`/v1/customers/{id}`); otherwise hand-built first.
    for endpoint in sorted(endpoints, key=_specificity):
        app.router.add_route(endpoint.method, endpoint.path, _handler(state, endpoint))
    dashboard.add_routes(app, state)
    hosted.add_routes(app, state)
    # Registered last and indexed under "/", so it only answers what no endpoint matched,
    # including a known path with the wrong method.
    # Any character, a newline too: no URL falls through to a bare aiohttp 404.
    app.router.add_route("*", r"/{unknown:[\s\S]*}", _unrecognized)
    app.cleanup_ctx.append(_meter_error_reports)
    return app


async def _meter_error_reports(app: web.Application) -> Any:
    """While serving, send each meter error report when its window closes; stop delivering on exit."""
    state = app[STATE]
    window = state.config.meter_error_report_window

    async def report_when_due() -> None:
        while True:
            await asyncio.sleep(min(window, 1.0))
            try:
                state.courier.report_meter_errors(state.store, window=window)
            except Exception:
                log.exception("reporting meter errors failed")

    task = asyncio.get_running_loop().create_task(report_when_due())
    yield
    task.cancel()
    await state.courier.close()
async def _start_deliveries(app: web.Application) -> None:
    await app[DELIVERIES].start()


async def _stop_deliveries(app: web.Application) -> None:
    await app[DELIVERIES].stop()


async def _close_journal(app: web.Application) -> None:
    journal = app[STATE].journal
    assert journal is not None
    journal.close()


def _specificity(endpoint: Endpoint) -> tuple[bool, ...]:
    return tuple(segment.startswith("{") for segment in endpoint.path.split("/"))


@dataclass(slots=True)
class _Exchange:
    """One API request on its way through the pipeline, and what is learnt about it on the way."""

    request: web.Request
    endpoint: Endpoint
    request_id: str
    account: Account | None = None  # once known
    fault: str | None = None  # the id of the fault injected, if any
    body: bytes | None = None  # a POST's body, once read


def _handler(state: ServerState, endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.Response]]:
    # The server's own endpoints (`/_mock/...`) are never logged, faulted or throttled.
    tooling = endpoint.path.startswith("/_mock/")
    logged = not tooling and state.config.request_log_size > 0
    journal = state.journal

    async def handle(request: web.Request) -> web.Response:
        started = time.perf_counter()
        exchange = _Exchange(request, endpoint, request_id(state.request_ids))
        dropped = False
        if journal is not None:
            journal.handling()
        try:
            response = await _dispatch(exchange, state, tooling)
        except ConnectionDropped:
            dropped = True
            response = web.Response(status=500)  # never sent: the connection is gone
        except Exception as raised:
            # Answered inside the `except`, which unbinds the error: kept in a local, it and its
            # traceback (which holds this frame) would form a cycle only a full collection frees.
            response = _error_response(_told(raised, exchange), request, exchange.request_id, exchange.account, state)
        account = exchange.account
        if journal is not None:
            try:
                journal.flush(account)  # before the answer: what it acknowledges is kept
            except OSError:
                response = _error_response(internal_error(), request, exchange.request_id, account, state)
        if logged and account is not None:
            if exchange.body is None and request.method == "POST":
                await _read_unread_body(exchange)
            _record(exchange, account, response, dropped, state, started)
        return response

    return handle


def _told(raised: Exception, exchange: _Exchange) -> StripeError:
    """What the client is told of an error raised on the way (called inside the `except`)."""
    if isinstance(raised, StripeError):
        if exchange.endpoint.fidelity is not None:
            raised.headers[FIDELITY_HEADER] = exchange.endpoint.fidelity
        return raised
    request = exchange.request
    if isinstance(raised, ConnectionError):
        # The client went away mid-body: nobody will read the answer, and it is no server fault.
        log.debug("connection lost while reading %s %s", request.method, request.path)
        return StripeError("The connection closed before the request arrived.")
    if isinstance(raised, web.HTTPRequestEntityTooLarge):
        return StripeError(f"Request body too large: the limit is {MAX_BODY_BYTES} bytes.", status=413)
    return _crashed(request)


async def _read_unread_body(exchange: _Exchange) -> None:
    """Read, for the log, the body of a request answered without it (refused by a rate limit)."""
    try:
        await _body(exchange)
    except (ConnectionError, web.HTTPRequestEntityTooLarge):
        exchange.body = b""


def _record(
    exchange: _Exchange, account: Account, response: web.Response, dropped: bool, state: ServerState, started: float
) -> None:
    """Add the request to its account's log, as a plain tuple in `Logged`'s field order: the
    cheapest record to make on every request."""
    request = exchange.request
    request_log(account, state.config.request_log_size).entries.append(
        (
            request.method,
            request.path,
            request.raw_path,
            exchange.body or b"",
            DROPPED if dropped else response.status,
            retained(response.body) if isinstance(response.body, bytes) and not dropped else b"",
            request.headers.get("Idempotency-Key"),
            exchange.request_id,
            time.perf_counter() - started,
            account.now(),
            exchange.fault,
        )
    )


async def _unrecognized(request: web.Request) -> web.Response:
    if request.path == "/" and request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
        return web.Response(text=dashboard.pages.home(), content_type="text/html", charset="utf-8")  # a browser
    state = request.app[STATE]
    error = unrecognized_url(request.method, request.path)
    return _error_response(error, request, request_id(state.request_ids), None, state)


def transport_error(status: int, exc: BaseException | None) -> web.Response:
    """Stripe's JSON for a request aiohttp could not parse as HTTP (answered before any route runs,
    so always in the v1 envelope); never echoes the request line back."""
    if isinstance(exc, BadHttpMethod):
        message = "Invalid request: unsupported HTTP method."
    elif isinstance(exc, LineTooLong):
        message = "Invalid request: the request line or a header is too long."
    else:
        message = "Invalid request: the request could not be parsed as HTTP."
    error = StripeError(message, status=status if 400 <= status < 500 else 400)
    rid = request_id()
    body = orjson.dumps(error.body(rid, int(time.time())))
    response = web.Response(body=body, status=error.status, headers={"Request-Id": rid}, content_type=JSON)
    response.force_close()
    return response


def _api_version(request: web.Request) -> str:
    versions = request.headers.getall("Stripe-Version", ())
    if not versions:
        return DEFAULT_API_VERSION
    version = ",".join(versions)
    if len(versions) > 1 or not _VERSION.fullmatch(version):
        raise StripeError(f"Invalid Stripe API version: {version}")
    return version


def _account(request: web.Request, state: ServerState, endpoint: Endpoint) -> Account | None:
    if endpoint.auth == "none":
        return None
    if endpoint.auth == "admin":
        _check_admin_token(request, state.config.admin_token)
        return None
    header = request.headers.get("Authorization")
    if callable(endpoint.auth):
        return endpoint.auth(state.store, auth.bearer_token(header))
    key = state.secret_key(header)
    connected = request.headers.get("Stripe-Account") or None
    if connected is not None and connected == own_account_id(key):
        connected = None  # the key's own account, named
    if connected is not None and not connected.startswith("acct_"):
        raise StripeError(
            f"The provided key '{auth.mask(key)}' does not have access to account '{connected}' "
            "(or that account does not exist). Application access may have been revoked.",
            status=403,
            type="invalid_request_error",
            code="account_invalid",
        )
    return state.store.account(key, connected)


def _check_admin_token(request: web.Request, expected: str | None) -> None:
    if expected is None:
        return
    given = auth.bearer_token(request.headers.get("Authorization"))
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode()):
        raise auth.unauthorized("Invalid admin token: this server's admin endpoints need its --admin-token.")


async def _dispatch(exchange: _Exchange, state: ServerState, tooling: bool) -> web.Response:
    request, endpoint = exchange.request, exchange.endpoint
    version = _api_version(request)
    account = _account(request, state, endpoint)
    headers = {"Request-Id": exchange.request_id, "Stripe-Version": version}
    if endpoint.fidelity is not None:
        headers[FIDELITY_HEADER] = endpoint.fidelity
    if account is None:
        return await _answer(exchange, state, None, headers)
    exchange.account = account
    if account.ids is None:
        return await _serve(exchange, state, account, headers, tooling)
    with drawing_from(account.ids):
        return await _serve(exchange, state, account, headers, tooling)


async def _serve(
    exchange: _Exchange, state: ServerState, account: Account, headers: dict[str, str], tooling: bool
) -> web.Response:
    if tooling:
        return await _answer(exchange, state, account, headers)
    request = exchange.request
    if state.throttle is not None:
        state.throttle.admit(account, request.path)
    faults = account.services.get(Faults)
    if not faults:
        return await _answer(exchange, state, account, headers)
    # Faults may match on parameters; the body read here is kept for the request itself.
    strikes = (request.method, request.path, await _raw_params(exchange))
    before = faults.take(BEFORE, *strikes, account.now())
    if before is not None:
        await _strike(before, exchange)
    response = await _answer(exchange, state, account, headers)
    after = faults.take(AFTER, *strikes, account.now())
    if after is not None:
        await _strike(after, exchange)
    return response


async def _strike(fault: Fault, exchange: _Exchange) -> None:
    """Delay the request, drop its connection, or raise the fault's error."""
    exchange.fault = fault.id
    if fault.kind == "delay":
        await asyncio.sleep(fault.delay_ms / 1000)
        return
    if fault.kind == "drop":
        transport = exchange.request.transport
        if transport is not None:
            transport.close()
        raise ConnectionDropped()
    raise fault_error(fault.kind, exchange.endpoint.is_v2)


async def _answer(
    exchange: _Exchange, state: ServerState, account: Account | None, headers: dict[str, str]
) -> web.Response:
    request, endpoint = exchange.request, exchange.endpoint
    key = request.headers.get("Idempotency-Key") if account is not None and request.method == "POST" else None
    if key is None:
        params = _validate(state, endpoint, await _raw_params(exchange), account)
        outcome = _execute(exchange, state, account, params, Cause(exchange.request_id))
    else:
        assert account is not None
        headers["Idempotency-Key"] = key
        outcome = await _run_once(exchange, state, account, key)
    headers.update(outcome.headers)
    return web.Response(body=outcome.body, status=outcome.status, headers=headers, content_type=outcome.content_type)


async def _run_once(exchange: _Exchange, state: ServerState, account: Account, key: str) -> Outcome:
    """An idempotent POST: replay the outcome recorded for `key`, or run and record this one."""
    request = exchange.request
    records = account.service(IdempotencyRecords)
    # Claimed before the body is read, so a duplicate sent while this body is still arriving gets a 409.
    recorded = records.begin(key, account.now())
    try:
        raw = await _raw_params(exchange)
        fingerprint = (request.method, request.path, raw)
        if recorded is not None:
            if recorded.fingerprint != fingerprint:
                raise mismatch(key)
            return recorded.outcome.replayed()
        params = _validate(state, exchange.endpoint, raw, account)
    except BaseException:
        if recorded is None:
            records.abandon(key)  # nothing ran: the key is free for a corrected request
        raise
    outcome = _execute(exchange, state, account, params, Cause(exchange.request_id, key))
    kept = replace(outcome, body=retained(outcome.body))
    record = Recorded(fingerprint, kept, account.now(), request.content_length or 0)
    records.finish(key, record)
    if account.journal is not None:
        account.journal.idempotent(account, key, record)
    return outcome


def _validate(state: ServerState, endpoint: Endpoint, raw: dict[str, Any], account: Account | None) -> dict[str, Any]:
    """Everything about the request that can be checked before it changes anything."""
    params = validate(endpoint.params, raw, account)
    paths = params.get("expand")
    if paths:
        check_expand(paths, endpoint.returns, state.types)
    return params


async def _raw_params(exchange: _Exchange) -> dict[str, Any]:
    """The parameters as sent: a POST's body, else the query string, decoded but not yet validated."""
    if exchange.request.method == "POST":
        body = await _body(exchange)
        return decode_json(body) if exchange.endpoint.is_v2 else decode_form(body)
    return decode_form(exchange.request.rel_url.raw_query_string)


async def _body(exchange: _Exchange) -> bytes:
    """A POST's body, read once. One that has arrived whole (most) is taken as it is, without
    aiohttp's read loop. One over MAX_BODY_BYTES never has: aiohttp stops reading the socket while
    it holds over 128 KiB unread, so it goes through `read()`, which refuses it."""
    body = exchange.body
    if body is None:
        content = exchange.request.content
        if content.is_eof():
            body = content.read_nowait()
        else:
            body = await exchange.request.read()
        exchange.body = body
    return body


def _execute(
    exchange: _Exchange, state: ServerState, account: Any, params: dict[str, Any], cause: Cause
) -> Outcome:
    """Run the handler; its errors, crashes included, become the (recordable) response. The changes
    it makes are the request's doing."""
    request, endpoint = exchange.request, exchange.endpoint
    call = Call(
        account=account, params=params, path_params=request.match_info, path=request.path, server=state, reached=request
    )
    try:
        if account is None:
            result = endpoint.handler(call)
        else:
            account.cause = cause
            try:
                result = endpoint.handler(call)
            finally:
                account.cause = BY_THE_SERVER
        if isinstance(result, Download):
            return Outcome(200, result.body, content_type=result.content_type)
        paths = params.get("expand")
        if paths:
            return Outcome(200, orjson.dumps(expand(result, paths, state.types, account)))
        return Outcome(200, state.events.encoding_of(result, cause) or orjson.dumps(result))
    # Answered inside the `except`, which then unbinds the error: kept in a local, it and its
    # traceback (which holds this frame) would form a cycle only a full collection frees.
    except StripeError as error:
        return _failed(error, request.path, exchange.request_id, account, state)
    except Exception:
        return _failed(_crashed(request), request.path, exchange.request_id, account, state)


def _failed(error: StripeError, path: str, rid: str, account: Account | None, state: ServerState) -> Outcome:
    """The error's answer, in the envelope of `path` (v1 or v2), at the account's time if one is known."""
    now = account.now() if account is not None else state.now()
    return Outcome(error.status, _error_body(error, path, rid, now), error.headers)


def _crashed(request: web.Request) -> StripeError:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return internal_error()


def _error_response(
    error: StripeError, request: web.Request, rid: str, account: Account | None, state: ServerState
) -> web.Response:
    outcome = _failed(error, request.path, rid, account, state)
    headers = {**outcome.headers, "Request-Id": rid}
    return web.Response(body=outcome.body, status=outcome.status, headers=headers, content_type=JSON)


def _error_body(error: StripeError, path: str, rid: str, now: int) -> bytes:
    """v1 and v2 paths answer errors in their own envelope."""
    if is_v2(path):
        return orjson.dumps(error.v2_body())
    return orjson.dumps(error.body(rid, now))
