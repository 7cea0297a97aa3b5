"""Hosted pages served by the server itself, as Stripe serves them on its own domains: the checkout
page at a Checkout Session's `url`."""

from __future__ import annotations

from aiohttp import web

from ..domain import checkout
from ..routing import ServerState
from ..store import Account
from . import pages

Obj = dict[str, object]


def add_routes(app: web.Application, state: ServerState) -> None:
    app.router.add_get(checkout.PAGE_PATH + "{id}", _checkout_page(state))


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def find_session(state: ServerState, session_id: str) -> tuple[Account, dict] | None:
    """The account a session id belongs to, and the session (ids are unique across accounts)."""
    for account in state.store.accounts.values():
        found = account.find("checkout.session", session_id)
        if found is not None:
            return account, found
    return None


def _checkout_page(state: ServerState):
    async def show(request: web.Request) -> web.Response:
        found = find_session(state, request.match_info["id"])
        if found is None:
            return _html(pages.closed("No such Checkout Session on this server."), 404)
        account, session = found
        checkout.expire_due(account, account.now())
        if session["status"] != "open":
            return _html(pages.closed(checkout.NOT_OPEN))
        return _html(pages.checkout(session, checkout.items_of(account, session)))

    return show
