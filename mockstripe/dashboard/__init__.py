"""`/_mock/dashboard`: the server's accounts as web pages, served by the server itself.

An account is named in URLs by a token derived from its key, so keys never appear in links.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from itertools import islice
from typing import Awaitable, Callable

from aiohttp import web

from ..auth import mask
from ..devtools.requestlog import request_log
from ..domain import invoices as invoicing
from ..domain.metering import Metering
from ..domain.webhooks import DeliveryLog
from ..resources import test_clocks
from ..routing import Call, ServerState
from ..store import Account, Cause
from ..wire.errors import StripeError
from ..wire.ids import drawing_from, request_id
from . import pages
from .pages import BASE
from .usage import usage_charts

# How many of the newest events and requests a page lists.
SHOWN = 100

FORM = web.RequestKey("dashboard_form", dict)

Page = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_routes(app: web.Application, state: ServerState) -> None:
    get = app.router.add_get
    account_page = _account_page(state)
    get(BASE, _accounts(state))
    get(BASE + "/{account}", account_page(_customers))
    get(BASE + "/{account}/subscriptions", account_page(_subscriptions))
    get(BASE + "/{account}/invoices", account_page(_invoices))
    get(BASE + "/{account}/invoices/{id}", account_page(_invoice))
    get(BASE + "/{account}/meters", account_page(_meters))
    get(BASE + "/{account}/meters/{id}", account_page(_meter))
    get(BASE + "/{account}/events", account_page(_events))
    get(BASE + "/{account}/webhooks", account_page(_webhooks))
    get(BASE + "/{account}/test_clocks", account_page(_test_clocks))
    get(BASE + "/{account}/requests", account_page(_requests))
    app.router.add_post(BASE + "/{account}/test_clocks/{id}/advance", account_page(_advance))


def token(account: Account) -> str:
    return hashlib.blake2b(f"{account.key}\0{account.connected or ''}".encode(), digest_size=8).hexdigest()


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _accounts(state: ServerState) -> Page:
    async def show(request: web.Request) -> web.Response:
        listed = [
            (token(a), mask(a.key), a.connected, sum(len(c) for c in a.collections.values()))
            for a in state.store.accounts.values()
        ]
        return _html(pages.accounts(listed))

    return show


AccountView = Callable[[web.Request, ServerState, Account, str], web.StreamResponse]


def _account_page(state: ServerState) -> Callable[[AccountView], Page]:
    def wrap(view: AccountView) -> Page:
        async def show(request: web.Request) -> web.StreamResponse:
            wanted = request.match_info["account"]
            account = next((a for a in state.store.accounts.values() if token(a) == wanted), None)
            if account is None:
                return _html(pages.not_found("No such account on this server (it may have been reset)."), 404)
            if request.method == "POST":
                form = await request.post()
                request[FORM] = {k: str(v) for k, v in form.items()}
            return view(request, state, account, wanted)

        return show

    return wrap


def _customers(request: web.Request, state: ServerState, account: Account, tok: str) -> web.Response:
    return _html(pages.customers(tok, list(account.collection("customer").newest_first())))


def _subscriptions(request: web.Request, state: ServerState, account: Account, tok: str) -> web.Response:
    return _html(pages.subscriptions(tok, list(account.collection("subscription").newest_first())))


def _invoices(request: web.Request, state: ServerState, account: Account, tok: str) -> web.Response:
    return _html(pages.invoices(tok, list(account.collection("invoice").newest_first())))


def _invoice(request: web.Request, state: ServerState, account: Account, tok: str) -> web.Response:
    found = account.find("invoice", request.match_info["id"])
    if found is None:
        return _html(pages.not_found(f"No such invoice: {request.match_info['id']}"), 404)
    return _html(pages.invoice(tok, found, invoicing.all_lines(account, found)))


def _meters(request: web.Request, state: ServerState, account: Account, tok: str) -> web.Response:
    return _html(pages.meters(tok, list(account.collection("billing.meter").newest_first())))


def _meter(request: web.Request, state: ServerState, account: Account, tok: str) -> web.Response:
    found = account.find("billing.meter", request.match_info["id"])
    if found is None:
        return _html(pages.not_found(f"No such meter: {request.match_info['id']}"), 404)
    window, charts = usage_charts(account.service(Metering), found, request.query.get("window"))
    return _html(pages.meter(tok, found, window, charts))


def _events(request: web.Request, state: ServerState, account: Account, tok: str) -> web.Response:
    return _html(pages.events(tok, list(islice(account.collection("event").newest_first(), SHOWN))))


def _webhooks(request: web.Request, state: ServerState, account: Account, tok: str) -> web.Response:
    endpoints = list(account.collection("webhook_endpoint").newest_first())
    attempts = list(islice(account.service(DeliveryLog).attempts, SHOWN))
    return _html(pages.webhooks(tok, endpoints, attempts))


def _test_clocks(request: web.Request, state: ServerState, account: Account, tok: str) -> web.Response:
    advanced = request.query.get("advanced")
    notice = f"Advanced {advanced}: its subscriptions billed what fell due." if advanced else None
    return _html(pages.test_clocks(tok, list(account.collection("test_helpers.test_clock").newest_first()), notice))


def _requests(request: web.Request, state: ServerState, account: Account, tok: str) -> web.Response:
    filters = {name: request.query.get(name, "") for name in ("method", "path", "status")}
    log = request_log(account, state.config.request_log_size)
    matching = log.newest_first(filters["method"] or None, filters["path"] or None, filters["status"] or None)
    return _html(pages.requests(tok, [entry.render() for entry in islice(matching, SHOWN)], filters))


def _advance(request: web.Request, state: ServerState, account: Account, tok: str) -> web.StreamResponse:
    """The test clock form: advance through the API's own handler, so the same checks apply."""
    clock_id = request.match_info["id"]
    clocks = list(account.collection("test_helpers.test_clock").newest_first())
    try:
        target = _form_time(request[FORM].get("frozen_time", ""))
        call = Call(
            account=account,
            params={"frozen_time": target},
            path_params={"id": clock_id},
            path=f"/v1/test_helpers/test_clocks/{clock_id}/advance",
            server=state,
        )
        with account.caused_by(Cause(request_id(state.request_ids))):
            if account.ids is None:
                test_clocks.advance(call)
            else:
                with drawing_from(account.ids):
                    test_clocks.advance(call)
    except StripeError as error:
        return _html(pages.test_clocks(tok, clocks, error.message), 400)
    raise web.HTTPSeeOther(f"{BASE}/{tok}/test_clocks?advanced={clock_id}")


def _form_time(text: str) -> int:
    """A datetime-local value (UTC) or Unix seconds."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise StripeError(f"Not a time: {text!r}.", param="frozen_time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())
