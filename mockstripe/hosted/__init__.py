"""Hosted pages served by the server itself, as Stripe serves them on its own domains: the checkout
page at a Checkout Session's `url` and the customer portal at a portal session's `url`.

Every change a page makes goes through the API's own handlers (with their checks and events), as
one request of the account's would.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Awaitable, Callable, Mapping

from aiohttp import web

from ..domain import checkout, payments
from ..domain.subscriptions import is_metered
from ..resources import billing_portal, checkout_sessions, customers, subscriptions
from ..routing import Call, Handler, ServerState
from ..store import Account, Cause
from ..wire.errors import StripeError
from ..wire.ids import drawing_from, request_id
from . import pages

Obj = dict[str, Any]
Page = Callable[[web.Request], Awaitable[web.StreamResponse]]
FORM = web.RequestKey("hosted_form", dict)

CANCELED_NOW = "Your subscription was canceled."
CANCELS_AT_PERIOD_END = "Your subscription will be canceled at the end of the billing period."
SWITCHED = "Your plan was changed."
CARD_ADDED = "Your card was added and will be used for future payments."
NO_SUCH_PORTAL_SESSION = "This portal session is not known to this server (it may have been reset)."
NOT_ALLOWED = "The portal's configuration does not allow this."
# What each change on the portal reports (`?done=` on the homepage, or a flow's hosted confirmation).
DONE = {
    "canceled": CANCELED_NOW, "cancels": CANCELS_AT_PERIOD_END, "switched": SWITCHED, "confirmed": SWITCHED,
    "card": CARD_ADDED,
}
# The flow (`flow_data[type]`) each change completes.
COMPLETES = {
    "canceled": "subscription_cancel",
    "cancels": "subscription_cancel",
    "switched": "subscription_update",
    "confirmed": "subscription_update_confirm",
    "card": "payment_method_update",
}


def add_routes(app: web.Application, state: ServerState) -> None:
    app.router.add_get(checkout.PAGE_PATH + "{id}", _checkout_page(state))
    app.router.add_post(checkout.PAGE_PATH + "{id}", _checkout_pay(state))
    portal = billing_portal.PAGE_PATH + "{secret}"
    app.router.add_get(portal, _portal_page(state))
    app.router.add_post(portal + "/subscriptions/{id}/cancel", _portal_cancel(state))
    app.router.add_post(portal + "/subscriptions/{id}/update", _portal_switch(state))
    app.router.add_post(portal + "/payment_methods", _portal_add_card(state))
    app.router.add_post(portal + "/flow/confirm", _portal_confirm_update(state))


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def run(
    state: ServerState, account: Account, handler: Handler, params: Obj, path: str, path_params: Mapping[str, str]
) -> Any:
    """Call an API handler for a page, as a request of the account's: its own request id, and the
    account's seeded ids when it has them."""
    call = Call(account=account, params=params, path_params=path_params, path=path, server=state)
    with account.caused_by(Cause(request_id(state.request_ids))):
        if account.ids is None:
            return handler(call)
        with drawing_from(account.ids):
            return handler(call)


def find_session(state: ServerState, session_id: str) -> tuple[Account, Obj] | None:
    """The account a Checkout Session belongs to, and the session (ids are unique across accounts)."""
    for account in state.store.accounts.values():
        found = account.find("checkout.session", session_id)
        if found is not None:
            return account, found
    return None


def _checkout_page(state: ServerState) -> Page:
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


def _checkout_pay(state: ServerState) -> Page:
    """"Pay": the session is paid for through the API's own code, then the browser goes to its
    `success_url`; a refused card or promotion code shows Stripe's message on the page, and nothing
    was made. "Apply" discounts the session by the promotion code typed and shows the page again."""

    async def pay(request: web.Request) -> web.StreamResponse:
        found = find_session(state, request.match_info["id"])
        if found is None:
            return _html(pages.closed("No such Checkout Session on this server."), 404)
        account, session = found
        form = {k: str(v).strip() for k, v in (await request.post()).items()}
        choice, number, email = form.get("payment_method") or None, form.get("card_number") or None, form.get("email")
        code = form.get("promotion_code") or None
        applying = bool(form.get("apply"))

        def complete(call: Call) -> Obj:
            if applying:  # "Apply": the code discounts the session, and the page shows it
                checkout.apply_code(account, session, code or "", account.now())
                return session
            return checkout_sessions.pay(
                call, session, payment_method=choice, card_number=number, email=email, promotion_code=code
            )

        try:
            run(state, account, complete, {}, f"/v1/checkout/sessions/{session['id']}", {"id": session["id"]})
        except StripeError as error:
            if session["status"] != "open":
                return _html(pages.closed(checkout.NOT_OPEN))
            items = checkout.items_of(account, session)
            return _html(pages.checkout(session, items, error.message, email or "", code or ""), error.status)
        if applying:
            return _html(pages.checkout(session, checkout.items_of(account, session), None, email or "", code or ""))
        target = checkout.success_url(session)
        if target is None:
            return _html(pages.thanks(session))
        raise web.HTTPSeeOther(target)

    return pay


def _portal_session(state: ServerState, secret: str) -> tuple[Account, Obj] | None:
    for account in state.store.accounts.values():
        sessions = account.collection("billing_portal.session")
        for session_id, private in sessions.private.items():
            if private.get("secret") == secret:
                found = sessions.get(session_id)
                if found is not None:
                    return account, found
    return None


PortalView = Callable[[web.Request, Account, Obj, Obj], web.StreamResponse]


def _portal(state: ServerState, view: PortalView) -> Page:
    async def answer(request: web.Request) -> web.StreamResponse:
        found = _portal_session(state, request.match_info["secret"])
        if found is None:
            return _html(pages.closed(NO_SUCH_PORTAL_SESSION), 404)
        account, session = found
        configuration = account.find("billing_portal.configuration", session["configuration"])
        assert configuration is not None
        if request.method == "POST":
            request[FORM] = {k: str(v) for k, v in (await request.post()).items()}
        return view(request, account, session, configuration)

    return answer


def _switchable_prices(account: Account, configuration: Obj) -> list[Obj]:
    update = configuration["features"]["subscription_update"]
    if not update["enabled"] or "price" not in update["default_allowed_updates"]:
        return []
    found = (account.find("price", price_id) for product in update["products"] for price_id in product["prices"])
    return [price for price in found if price is not None and price["active"]]


def _render_portal(
    request: web.Request, account: Account, session: Obj, configuration: Obj, notice: str | None = None, status: int = 200
) -> web.Response:
    customer = account.find("customer", session["customer"])
    if customer is None:
        return _html(pages.closed(NO_SUCH_PORTAL_SESSION), 404)
    mine = [s for s in account.collection("subscription").newest_first() if s["customer"] == customer["id"]]
    invoices = [
        i for i in account.collection("invoice").newest_first()
        if i["customer"] == customer["id"] and i["status"] != "draft"
    ]
    switchable = _switchable_prices(account, configuration)
    products = {p["id"]: p["name"] for p in account.collection("product").newest_first()}
    cards = [m for m in account.collection("payment_method").newest_first() if m["customer"] == customer["id"]]
    base = billing_portal.PAGE_PATH + request.match_info["secret"]
    return _html(
        pages.portal(
            base, customer, session, configuration, mine, invoices, switchable, products, cards,
            notice=notice if status < 400 else None, error=notice if status >= 400 else None,
        ),
        status,
    )


def _portal_page(state: ServerState) -> Page:
    """The portal's homepage, or while the session's flow is not completed, the flow's own page."""

    def show(request: web.Request, account: Account, session: Obj, configuration: Obj) -> web.StreamResponse:
        if _active_flow(account, session) is not None:
            return _render_flow(request, account, session, configuration)
        return _render_portal(request, account, session, configuration, DONE.get(request.query.get("done", "")))

    return _portal(state, show)


def _active_flow(account: Account, session: Obj) -> Obj | None:
    """The session's flow, until the customer completes it."""
    flow = session["flow"]
    if flow is None or session["id"] in account.service(billing_portal.FinishedFlows).session_ids:
        return None
    return flow


def _flow_subscription(account: Account, session: Obj, flow: Obj) -> Obj | None:
    details = flow.get(flow["type"])
    return _own_subscription(account, session, details["subscription"]) if details else None


def _render_flow(
    request: web.Request, account: Account, session: Obj, configuration: Obj, error: str | None = None, status: int = 200
) -> web.Response:
    """The page of the session's flow (its subscription's cancel or update screen, or adding a card)."""
    flow = session["flow"]
    base = billing_portal.PAGE_PATH + request.match_info["secret"]
    products = {p["id"]: p["name"] for p in account.collection("product").newest_first()}
    if flow["type"] == "payment_method_update":
        return _html(pages.flow_payment_method(base, session, error), status)
    subscription = _flow_subscription(account, session, flow)
    if subscription is None:
        return _html(pages.closed(NO_SUCH_PORTAL_SESSION), 404)
    if flow["type"] == "subscription_cancel":
        page = pages.flow_cancel(base, session, subscription, configuration["features"], products, error)
    elif flow["type"] == "subscription_update":
        switchable = _switchable_prices(account, configuration)
        page = pages.flow_update(base, session, subscription, switchable, products, error)
    else:
        rows = _confirm_rows(account, subscription, flow["subscription_update_confirm"]["items"])
        page = pages.flow_update_confirm(base, session, subscription, rows, products, error)
    return _html(page, status)


def _confirm_rows(account: Account, subscription: Obj, wanted: list[Obj]) -> list[tuple[Obj, int | None]]:
    """The (price, quantity) each item of a `subscription_update_confirm` flow will have."""
    items = {item["id"]: item for item in subscription["items"]["data"]}
    rows = []
    for change in wanted:
        item = items.get(change["id"])
        price = account.find("price", change["price"]) if change.get("price") else (item or {}).get("price")
        if price is not None:
            quantity = change["quantity"] if change.get("quantity") is not None else (item or {}).get("quantity")
            rows.append((price, None if is_metered(price) else quantity))
    return rows


def _render_current(
    request: web.Request, account: Account, session: Obj, configuration: Obj, error: str, status: int
) -> web.Response:
    """A refused change shown where it was asked for: on the flow's page, or on the homepage."""
    if _active_flow(account, session) is not None:
        return _render_flow(request, account, session, configuration, error, status)
    return _render_portal(request, account, session, configuration, error, status)


def _completed(request: web.Request, account: Account, session: Obj, done: str, subscription_id: str | None) -> web.Response:
    """Where the browser goes after a change: the homepage with its notice; or, when the change
    completes the session's flow, what the flow's `after_completion` says."""
    home = f"{billing_portal.PAGE_PATH}{request.match_info['secret']}"
    flow = _active_flow(account, session)
    if flow is None or flow["type"] != COMPLETES[done]:
        raise web.HTTPSeeOther(f"{home}?done={done}")
    details = flow.get(flow["type"])
    if details is not None and details["subscription"] != subscription_id:
        raise web.HTTPSeeOther(f"{home}?done={done}")
    account.service(billing_portal.FinishedFlows).session_ids.add(session["id"])
    after = flow["after_completion"]
    if after["type"] == "redirect":
        raise web.HTTPSeeOther(after["redirect"]["return_url"])
    if after["type"] == "hosted_confirmation":
        message = (after["hosted_confirmation"] or {}).get("custom_message") or DONE[done]
        return _html(pages.confirmation(session, message))
    raise web.HTTPSeeOther(f"{home}?done={done}")


def _own_subscription(account: Account, session: Obj, subscription_id: str) -> Obj | None:
    found = account.find("subscription", subscription_id)
    return found if found is not None and found["customer"] == session["customer"] else None


def _portal_cancel(state: ServerState) -> Page:
    def cancel(request: web.Request, account: Account, session: Obj, configuration: Obj) -> web.StreamResponse:
        subscription = _own_subscription(account, session, request.match_info["id"])
        feature = configuration["features"]["subscription_cancel"]
        if subscription is None or not feature["enabled"]:
            return _render_current(request, account, session, configuration, NOT_ALLOWED, 400)
        path = f"/v1/subscriptions/{subscription['id']}"
        feedback = request[FORM].get("feedback") or None
        if feedback is not None and feedback not in feature["cancellation_reason"]["options"]:
            return _render_current(request, account, session, configuration, NOT_ALLOWED, 400)
        details = {"cancellation_details": {"feedback": feedback}} if feedback else {}
        try:
            if feature["mode"] == "immediately":
                run(state, account, subscriptions.cancel, details, path, {"id": subscription["id"]})
                done = "canceled"
            else:
                params = {"cancel_at_period_end": True, **details}
                run(state, account, subscriptions.update, params, path, {"id": subscription["id"]})
                done = "cancels"
        except StripeError as error:
            return _render_current(request, account, session, configuration, error.message, 400)
        return _completed(request, account, session, done, subscription["id"])

    return _portal(state, cancel)


def _portal_switch(state: ServerState) -> Page:
    def switch(request: web.Request, account: Account, session: Obj, configuration: Obj) -> web.StreamResponse:
        subscription = _own_subscription(account, session, request.match_info["id"])
        wanted = request[FORM].get("price", "")
        allowed = {price["id"] for price in _switchable_prices(account, configuration)}
        if subscription is None or wanted not in allowed or len(subscription["items"]["data"]) != 1:
            return _render_current(request, account, session, configuration, NOT_ALLOWED, 400)
        items = [{"id": subscription["items"]["data"][0]["id"], "price": wanted}]
        return _update_items(state, request, account, session, configuration, subscription, items, "switched")

    return _portal(state, switch)


def _portal_confirm_update(state: ServerState) -> Page:
    """Confirm a `subscription_update_confirm` flow: its items change as the flow names them."""

    def confirm(request: web.Request, account: Account, session: Obj, configuration: Obj) -> web.StreamResponse:
        flow = _active_flow(account, session)
        subscription = _flow_subscription(account, session, flow) if flow is not None else None
        if flow is None or flow["type"] != "subscription_update_confirm" or subscription is None:
            return _render_current(request, account, session, configuration, NOT_ALLOWED, 400)
        items = [
            {key: value for key, value in item.items() if value is not None}
            for item in flow["subscription_update_confirm"]["items"]
        ]
        return _update_items(state, request, account, session, configuration, subscription, items, "confirmed")

    return _portal(state, confirm)


def _update_items(
    state: ServerState, request: web.Request, account: Account, session: Obj, configuration: Obj,
    subscription: Obj, items: list[Obj], done: str,
) -> web.StreamResponse:
    """Change a subscription's items as `POST /v1/subscriptions/{id}` does, prorated as the portal's
    configuration says; its refusal is shown on the page."""
    params = {
        "items": items,
        "proration_behavior": configuration["features"]["subscription_update"]["proration_behavior"],
    }
    try:
        run(state, account, subscriptions.update, params, f"/v1/subscriptions/{subscription['id']}",
            {"id": subscription["id"]})
    except StripeError as error:
        return _render_current(request, account, session, configuration, error.message, 400)
    return _completed(request, account, session, done, subscription["id"])


def _portal_add_card(state: ServerState) -> Page:
    """A new card for the customer, checked with its issuer first, made their default for invoices."""

    def add(request: web.Request, account: Account, session: Obj, configuration: Obj) -> web.StreamResponse:
        if not configuration["features"]["payment_method_update"]["enabled"]:
            return _render_current(request, account, session, configuration, NOT_ALLOWED, 400)
        form = request[FORM]
        customer_id = session["customer"]

        def save(call: Call) -> Obj:
            card = checkout_sessions.test_card(form.get("payment_method") or None, form.get("card_number") or None)
            if card.declines is not None:
                raise payments.card_error(card.declines)
            customer = account.find("customer", customer_id)
            assert customer is not None
            saved = payments.new_payment_method(account, card, account.clock_for(customer).now())
            payments.attach(account, saved, customer)
            return customers.update(replace(call, params={"invoice_settings": {"default_payment_method": saved["id"]}}))

        try:
            run(state, account, save, {}, f"/v1/customers/{customer_id}", {"id": customer_id})
        except StripeError as error:
            return _render_current(request, account, session, configuration, error.message, error.status)
        return _completed(request, account, session, "card", None)

    return _portal(state, add)
