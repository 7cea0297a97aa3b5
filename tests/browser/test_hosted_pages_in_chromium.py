"""The hosted checkout page and customer portal in a real browser (Playwright driving Debian's
Chromium, see conftest.py). The shop's own pages (success, cancel and return URLs) are answered by
Playwright inside the browser, so nothing leaves the machine."""

from __future__ import annotations

from typing import Any

import pytest

SHOP = "http://shop.test"


@pytest.fixture
def shop(page) -> list[str]:
    """The shop's pages: each URL the browser opens on it is recorded and answered with its path."""
    opened: list[str] = []

    def answer(route: Any) -> None:
        opened.append(route.request.url)
        route.fulfill(body=f"<h1>Shop: {route.request.url}</h1>", content_type="text/html")

    page.route(f"{SHOP}/**", answer)
    return opened


def test_back_on_the_checkout_page_goes_to_cancel_url(page, shop, stripe_client) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    price = stripe_client.v1.prices.create(
        {"currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"}, "product_data": {"name": "Team plan"}}
    )
    session = stripe_client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": price.id, "quantity": 2}],
            "success_url": f"{SHOP}/welcome?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{SHOP}/pricing",
            "customer_email": "jenny@example.com",
        }
    )
    page.goto(session.url)
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.locator("tr", has_text="Team plan")).to_contain_text("30.00 USD")
    expect(page.locator("tr.total")).to_contain_text("30.00 USD")
    expect(page.get_by_label("Email")).to_have_value("jenny@example.com")
    page.get_by_role("link", name="Back").click()
    expect(page.get_by_role("heading")).to_have_text(f"Shop: {SHOP}/pricing")
    assert shop == [f"{SHOP}/pricing"]
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_cancel_a_subscription_in_the_portal(page, shop, stripe_client) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    client = stripe_client
    customer = client.v1.customers.create({"name": "Jenny Rosen", "email": "jenny@example.com"})
    price = client.v1.prices.create(
        {"currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"}, "product_data": {"name": "Team plan"}}
    )
    subscription = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": price.id}], "collection_method": "send_invoice", "days_until_due": 30}
    )
    session = client.v1.billing_portal.sessions.create({"customer": customer.id, "return_url": f"{SHOP}/account"})

    page.goto(session.url)
    expect(page.get_by_role("heading", name="Billing")).to_be_visible()
    row = page.locator(f'tr[id="{subscription.id}"]')
    expect(row).to_contain_text("Team plan")
    expect(row).to_contain_text("active")
    expect(page.locator("#invoices")).to_contain_text("15.00 USD")
    row.get_by_role("button", name="Cancel at period end").click()
    expect(page.get_by_role("status")).to_have_text("Your subscription will be canceled at the end of the billing period.")
    expect(row).to_contain_text("cancels")
    expect(row.get_by_role("button")).to_have_count(0)
    after = client.v1.subscriptions.retrieve(subscription.id)
    assert (after.status, after.cancel_at_period_end) == ("active", True)
    assert client.v1.events.list({"limit": 1}).data[0].type == "customer.subscription.updated"

    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_role("button", name="Add card").click()
    expect(page.get_by_role("status")).to_have_text("Your card was added and will be used for future payments.")
    expect(page.locator("#payment_methods")).to_contain_text("visa •••• 4242")
    saved = client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method
    assert client.v1.payment_methods.retrieve(saved).card.last4 == "4242"

    page.get_by_role("link", name="Return").click()
    expect(page.get_by_role("heading")).to_have_text(f"Shop: {SHOP}/account")


def subscription_session(client) -> Any:
    price = client.v1.prices.create(
        {"currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"}, "product_data": {"name": "Team plan"}}
    )
    return client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": price.id, "quantity": 2}],
            "success_url": f"{SHOP}/welcome?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{SHOP}/pricing",
        }
    )


def test_sign_up_through_the_checkout_page(page, shop, stripe_client) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    session = subscription_session(stripe_client)
    page.goto(session.url)
    page.get_by_label("Email").fill("jenny@example.com")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Subscribe").click()

    expect(page.get_by_role("heading")).to_have_text(f"Shop: {SHOP}/welcome?session_id={session.id}")
    assert shop == [f"{SHOP}/welcome?session_id={session.id}"]
    done = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.customer_details.email) == ("complete", "paid", "jenny@example.com")
    subscription = stripe_client.v1.subscriptions.retrieve(done.subscription)
    assert (subscription.status, subscription.customer) == ("active", done.customer)
    event = stripe_client.v1.events.list({"limit": 1}).data[0]
    assert (event.type, event.data.object.id, event.data.object.subscription) == (
        "checkout.session.completed", session.id, subscription.id,
    )


def test_a_declined_card_shows_stripes_message(page, shop, stripe_client) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    session = subscription_session(stripe_client)
    events_before = stripe_client.v1.events.list({"limit": 100}).data
    page.goto(session.url)
    page.get_by_label("Email").fill("jenny@example.com")
    page.get_by_label("or a test card").select_option("pm_card_chargeDeclined")
    page.get_by_role("button", name="Subscribe").click()

    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    expect(page.get_by_label("Email")).to_have_value("jenny@example.com")
    assert page.url == session.url and shop == []
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert stripe_client.v1.customers.list().data == []
    assert stripe_client.v1.events.list({"limit": 100}).data == events_before

    # The customer tries another card on the same page, and it goes through.
    page.get_by_label("or a test card").select_option("pm_card_visa")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading")).to_have_text(f"Shop: {SHOP}/welcome?session_id={session.id}")


def test_pay_with_a_promotion_code_on_the_checkout_page(page, shop, stripe_client) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    coupon = stripe_client.v1.coupons.create({"percent_off": 20, "duration": "forever"})
    code = stripe_client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "LAUNCH20"})
    price = stripe_client.v1.prices.create(
        {"currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"}, "product_data": {"name": "Team plan"}}
    )
    session = stripe_client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": price.id, "quantity": 2}],
            "success_url": f"{SHOP}/welcome?session_id={{CHECKOUT_SESSION_ID}}",
            "allow_promotion_codes": True,
        }
    )
    page.goto(session.url)
    page.get_by_label("Email").fill("jenny@example.com")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    # A mistyped code: Stripe's message, the code kept in the field, nothing made.
    page.get_by_label("Promotion code").fill("LAUNCH2O")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("alert")).to_have_text("This code is invalid.")
    expect(page.get_by_label("Promotion code")).to_have_value("LAUNCH2O")
    assert stripe_client.v1.customers.list().data == [] and shop == []

    # "Apply" shows the discount before paying.
    page.get_by_label("Promotion code").fill("launch20")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tr.discount")).to_contain_text("6.00 USD")
    expect(page.locator("tr.total")).to_contain_text("24.00 USD")
    expect(page.get_by_role("alert")).to_have_count(0)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading")).to_have_text(f"Shop: {SHOP}/welcome?session_id={session.id}")
    done = stripe_client.v1.checkout.sessions.retrieve(session.id)
    # 20 % off 2 × 15.00.
    assert (done.status, done.amount_subtotal, done.total_details.amount_discount, done.amount_total) == (
        "complete", 3000, 600, 2400,
    )
    invoice = stripe_client.v1.invoices.retrieve(done.invoice)
    assert (invoice.total, invoice.amount_paid) == (2400, 2400)
    assert stripe_client.v1.promotion_codes.retrieve(code.id).times_redeemed == 1


def team_plans(client) -> tuple[Any, Any, Any]:
    """A $15 and a $40 monthly price of the Team plan, and a portal configuration that lets
    customers cancel at period end and switch between them."""
    team = client.v1.prices.create(
        {"currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"}, "product_data": {"name": "Team plan"}}
    )
    business = client.v1.prices.create(
        {"currency": "usd", "unit_amount": 4000, "recurring": {"interval": "month"}, "product": team.product}
    )
    configuration = client.v1.billing_portal.configurations.create(
        {
            "features": {
                "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
                "subscription_update": {
                    "enabled": True, "default_allowed_updates": ["price"], "proration_behavior": "none",
                    "products": [{"product": team.product, "prices": [team.id, business.id]}],
                },
            }
        }
    )
    return team, business, configuration


def subscribed(client, price) -> tuple[Any, Any]:
    customer = client.v1.customers.create({"name": "Jenny Rosen", "email": "jenny@example.com"})
    subscription = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": price.id}], "collection_method": "send_invoice", "days_until_due": 30}
    )
    return customer, subscription


def test_a_cancel_deep_link_confirms_and_returns_to_the_shop(page, shop, stripe_client) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    client = stripe_client
    team, _, configuration = team_plans(client)
    customer, subscription = subscribed(client, team)
    session = client.v1.billing_portal.sessions.create(
        {
            "customer": customer.id,
            "configuration": configuration.id,
            "return_url": f"{SHOP}/account",
            "flow_data": {
                "type": "subscription_cancel",
                "subscription_cancel": {"subscription": subscription.id},
                "after_completion": {"type": "redirect", "redirect": {"return_url": f"{SHOP}/account?canceled=1"}},
            },
        }
    )

    page.goto(session.url)
    expect(page.get_by_role("heading", name="Cancel your subscription")).to_be_visible()
    expect(page.locator("table.items")).to_contain_text("Team plan (15.00 USD / month)")
    expect(page.get_by_text("will be canceled at the end of the billing period")).to_be_visible()
    expect(page.get_by_role("link", name="Go back")).to_have_attribute("href", f"{SHOP}/account")
    page.get_by_role("button", name="Cancel subscription").click()

    expect(page.get_by_role("heading")).to_have_text(f"Shop: {SHOP}/account?canceled=1")
    assert shop == [f"{SHOP}/account?canceled=1"]
    after = client.v1.subscriptions.retrieve(subscription.id)
    assert (after.status, after.cancel_at_period_end) == ("active", True)
    event = client.v1.events.list({"limit": 1}).data[0]
    assert (event.type, event.data.object.id) == ("customer.subscription.updated", subscription.id)

    # The same link now opens the portal's homepage.
    page.goto(session.url)
    expect(page.locator(f'tr[id="{subscription.id}"]')).to_contain_text("cancels")


def test_an_update_deep_link_switches_the_price_then_shows_the_portal(page, shop, stripe_client) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    client = stripe_client
    team, business, configuration = team_plans(client)
    customer, subscription = subscribed(client, team)
    session = client.v1.billing_portal.sessions.create(
        {
            "customer": customer.id,
            "configuration": configuration.id,
            "flow_data": {
                "type": "subscription_update",
                "subscription_update": {"subscription": subscription.id},
                "after_completion": {"type": "portal_homepage"},
            },
        }
    )

    page.goto(session.url)
    expect(page.get_by_role("heading", name="Update your plan")).to_be_visible()
    expect(page.get_by_role("radio")).to_have_count(1)
    page.get_by_label("Team plan (40.00 USD / month)").check()
    page.get_by_role("button", name="Update plan").click()

    expect(page.get_by_role("status")).to_have_text("Your plan was changed.")
    expect(page.get_by_role("heading", name="Billing")).to_be_visible()
    expect(page.locator(f'tr[id="{subscription.id}"]')).to_contain_text("40.00 USD")
    (item,) = client.v1.subscriptions.retrieve(subscription.id)["items"].data
    assert item.price.id == business.id
    event = client.v1.events.list({"limit": 1}).data[0]
    assert (event.type, event.data.previous_attributes["items"].data[0].price.id) == (
        "customer.subscription.updated", team.id,
    )
    assert shop == []
