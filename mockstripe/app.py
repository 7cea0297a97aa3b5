"""`create_app(config)`: the aiohttp application and its request pipeline.

Every API request goes through `_dispatch`: authenticate, decode, claim the idempotency key,
validate against the endpoint's spec, run the handler, expand, encode. Each route's wrapper turns
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
from dataclasses import replace
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
REQUEST_ID = web.RequestKey("request_id", str)
# The account a request acts for, once known, and the fault that struck it, if any.
ACCOUNT = web.RequestKey("account", Account)
FAULT: web.RequestKey[str | None] = web.RequestKey("fault")  # the id of the fault injected, if any


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


def _handler(state: ServerState, endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.Response]]:
    # The server's own endpoints (`/_mock/...`) are never logged, faulted or throttled.
    tooling = endpoint.path.startswith("/_mock/")
    logged = not tooling and state.config.request_log_size > 0
    journal = state.journal

    async def handle(request: web.Request) -> web.Response:
        started = time.perf_counter()
        rid = request[REQUEST_ID] = request_id(state.request_ids)
        dropped = False
        if journal is not None:
            journal.handling()
        try:
            response = await _dispatch(request, state, endpoint, rid, tooling)
        except StripeError as error:
            if endpoint.fidelity is not None:
                error.headers[FIDELITY_HEADER] = endpoint.fidelity
            response = _error_response(error, request, state)
        except ConnectionDropped:
            dropped = True
            response = web.Response(status=500)  # never sent: the connection is gone
        except ConnectionError:
            # The client went away mid-body: nobody will read the answer, and it is no server fault.
            log.debug("connection lost while reading %s %s", request.method, request.path)
            response = _error_response(StripeError("The connection closed before the request arrived."), request, state)
        except web.HTTPRequestEntityTooLarge:
            response = _error_response(
                StripeError(f"Request body too large: the limit is {MAX_BODY_BYTES} bytes.", status=413),
                request,
                state,
            )
        except Exception:
            response = _error_response(_crashed(request), request, state)
        if journal is not None:
            try:
                journal.flush(request.get(ACCOUNT))  # before the answer: what it acknowledges is kept
            except OSError:
                response = _error_response(internal_error(), request, state)
        if logged:
            account = request.get(ACCOUNT)
            if account is not None:
                await _record(request, response, dropped, account, state, rid, started)
        return response

    return handle


async def _record(
    request: web.Request,
    response: web.Response,
    dropped: bool,
    account: Account,
    state: ServerState,
    rid: str,
    started: float,
) -> None:
    """Add the request to its account's log, as a plain tuple in `Logged`'s field order: the
    cheapest record to make on every request."""
    request_log(account, state.config.request_log_size).entries.append(
        (
            request.method,
            request.path,
            request.raw_path,
            await request.read() if request.method == "POST" else b"",
            DROPPED if dropped else response.status,
            retained(response.body) if isinstance(response.body, bytes) and not dropped else b"",
            request.headers.get("Idempotency-Key"),
            rid,
            time.perf_counter() - started,
            account.now(),
            request[FAULT],
        )
    )


async def _unrecognized(request: web.Request) -> web.Response:
    if request.path == "/" and request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
        return web.Response(text=dashboard.pages.home(), content_type="text/html", charset="utf-8")  # a browser
    state = request.app[STATE]
    request[REQUEST_ID] = request_id(state.request_ids)
    return _error_response(unrecognized_url(request.method, request.path), request, state)


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


async def _dispatch(
    request: web.Request, state: ServerState, endpoint: Endpoint, rid: str, tooling: bool
) -> web.Response:
    version = _api_version(request)
    account = _account(request, state, endpoint)
    headers = {"Request-Id": rid, "Stripe-Version": version}
    if endpoint.fidelity is not None:
        headers[FIDELITY_HEADER] = endpoint.fidelity
    if account is None:
        return await _answer(request, state, endpoint, None, rid, headers)
    request[ACCOUNT] = account
    request[FAULT] = None  # set now: looking up a missing key costs a raised KeyError
    if account.ids is None:
        return await _serve(request, state, endpoint, account, rid, headers, tooling)
    with drawing_from(account.ids):
        return await _serve(request, state, endpoint, account, rid, headers, tooling)


async def _serve(
    request: web.Request,
    state: ServerState,
    endpoint: Endpoint,
    account: Account,
    rid: str,
    headers: dict[str, str],
    tooling: bool,
) -> web.Response:
    if tooling:
        return await _answer(request, state, endpoint, account, rid, headers)
    if state.throttle is not None:
        state.throttle.admit(account, request.path)
    faults = account.services.get(Faults)
    if not faults:
        return await _answer(request, state, endpoint, account, rid, headers)
    # Faults may match on parameters; the body read here is kept for the request itself.
    raw = await _read_params(request, endpoint)
    strikes = (request.method, request.path, raw)
    before = faults.take(BEFORE, *strikes, account.now())
    if before is not None:
        await _strike(before, request, endpoint)
    response = await _answer(request, state, endpoint, account, rid, headers)
    after = faults.take(AFTER, *strikes, account.now())
    if after is not None:
        await _strike(after, request, endpoint)
    return response


async def _strike(fault: Fault, request: web.Request, endpoint: Endpoint) -> None:
    """Delay the request, drop its connection, or raise the fault's error."""
    request[FAULT] = fault.id
    if fault.kind == "delay":
        await asyncio.sleep(fault.delay_ms / 1000)
        return
    if fault.kind == "drop":
        if request.transport is not None:
            request.transport.close()
        raise ConnectionDropped()
    raise fault_error(fault.kind, endpoint.is_v2)


async def _answer(
    request: web.Request,
    state: ServerState,
    endpoint: Endpoint,
    account: Account | None,
    rid: str,
    headers: dict[str, str],
) -> web.Response:
    key = request.headers.get("Idempotency-Key") if request.method == "POST" and account else None
    if key is None or account is None:
        params = _validate(state, endpoint, await _read_params(request, endpoint), account)
        outcome = _execute(request, state, endpoint, account, params, Cause(rid))
    else:
        headers["Idempotency-Key"] = key
        outcome = await _run_once(request, state, endpoint, account, key, rid)
    headers.update(outcome.headers)
    return web.Response(body=outcome.body, status=outcome.status, headers=headers, content_type=outcome.content_type)


async def _run_once(
    request: web.Request, state: ServerState, endpoint: Endpoint, account: Account, key: str, rid: str
) -> Outcome:
    """An idempotent POST: replay the outcome recorded for `key`, or run and record this one."""
    records = account.service(IdempotencyRecords)
    # Claimed before the body is read, so a duplicate sent while this body is still arriving gets a 409.
    recorded = records.begin(key, account.now())
    try:
        raw = await _read_params(request, endpoint)
        fingerprint = (request.method, request.path, raw)
        if recorded is not None:
            if recorded.fingerprint != fingerprint:
                raise mismatch(key)
            return recorded.outcome.replayed()
        params = _validate(state, endpoint, raw, account)
    except BaseException:
        if recorded is None:
            records.abandon(key)  # nothing ran: the key is free for a corrected request
        raise
    outcome = _execute(request, state, endpoint, account, params, Cause(rid, key))
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


async def _read_params(request: web.Request, endpoint: Endpoint) -> dict[str, Any]:
    if request.method == "POST":
        body = await request.read()
        return decode_json(body) if endpoint.is_v2 else decode_form(body)
    return decode_form(request.rel_url.raw_query_string)


def _execute(
    request: web.Request, state: ServerState, endpoint: Endpoint, account: Any, params: dict[str, Any], cause: Cause
) -> Outcome:
    """Run the handler; its errors, crashes included, become the (recordable) response. The changes
    it makes are the request's doing."""
    call = Call(
        account=account, params=params, path_params=request.match_info, path=request.path, server=state,
        origin=f"{request.scheme}://{request.host}",
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
        return _failed(error, request, account, state)
    except Exception:
        return _failed(_crashed(request), request, account, state)


def _failed(error: StripeError, request: web.Request, account: Account | None, state: ServerState) -> Outcome:
    now = account.now() if account else state.now()
    return Outcome(error.status, _error_body(error, request, now), error.headers)


def _crashed(request: web.Request) -> StripeError:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return internal_error()


def _error_response(error: StripeError, request: web.Request, state: ServerState) -> web.Response:
    account = request.get(ACCOUNT)
    body = _error_body(error, request, account.now() if account is not None else state.now())
    headers = {**error.headers, "Request-Id": request[REQUEST_ID]}
    return web.Response(body=body, status=error.status, headers=headers, content_type=JSON)


def _error_body(error: StripeError, request: web.Request, now: int) -> bytes:
    """v1 and v2 paths answer errors in their own envelope."""
    if is_v2(request.path):
        return orjson.dumps(error.v2_body())
    return orjson.dumps(error.body(request[REQUEST_ID], now))
