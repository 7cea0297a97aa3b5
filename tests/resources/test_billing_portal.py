"""The customer portal's API: configurations and sessions (`/v1/billing_portal/...`)."""

from __future__ import annotations

import pytest
import stripe

from mockstripe.resources.billing_portal import FEATURE_DISABLED, NOT_THE_CUSTOMERS_SUBSCRIPTION

RETURN = "http://127.0.0.1:4242/account"


def test_a_configuration_holds_every_feature(stripe_client, sdk_fields) -> None:
    configuration = stripe_client.v1.billing_portal.configurations.create(
        {
            "features": {
                "invoice_history": {"enabled": True},
                "subscription_cancel": {"enabled": True, "mode": "immediately"},
            },
            "business_profile": {"headline": "Alpaca AI"},
            "default_return_url": RETURN,
            "metadata": {"team": "billing"},
        }
    )
    assert configuration.id.startswith("bpc_1") and len(configuration.id) == len("bpc_1Pgc70B7WZ01zgkWSnFO04Vt")
    assert (configuration.object, configuration.active, configuration.is_default, configuration.livemode) == (
        "billing_portal.configuration", True, False, False,
    )
    features = configuration.features
    assert features.invoice_history.enabled is True
    assert (features.subscription_cancel.enabled, features.subscription_cancel.mode) == (True, "immediately")
    assert features.subscription_cancel.proration_behavior == "none"
    assert (features.subscription_update.enabled, features.payment_method_update.enabled) == (False, False)
    assert configuration.business_profile.headline == "Alpaca AI"
    assert (configuration.default_return_url, configuration.metadata.to_dict()) == (RETURN, {"team": "billing"})
    assert configuration.created == configuration.updated
    assert set(configuration.to_dict()) == sdk_fields(stripe.billing_portal.Configuration)

    updated = stripe_client.v1.billing_portal.configurations.update(
        configuration.id, {"features": {"subscription_cancel": {"enabled": True, "mode": "at_period_end"}}, "active": False}
    )
    assert (updated.features.subscription_cancel.mode, updated.active) == ("at_period_end", False)
    assert updated.features.invoice_history.enabled is True
    assert stripe_client.v1.billing_portal.configurations.retrieve(configuration.id).to_dict() == updated.to_dict()
    assert [c.id for c in stripe_client.v1.billing_portal.configurations.list({"active": False}).data] == [configuration.id]
    assert stripe_client.v1.billing_portal.configurations.list({"active": True}).data == []
    events = stripe_client.v1.events.list().data
    assert [e.type for e in events] == ["billing_portal.configuration.updated", "billing_portal.configuration.created"]


def test_a_session_links_the_customer_to_the_portal(stripe_client, catalog, mockstripe_url, sdk_fields) -> None:
    customer = catalog.customer()
    session = stripe_client.v1.billing_portal.sessions.create({"customer": customer.id, "return_url": RETURN})
    assert session.id.startswith("bps_1")
    assert (session.object, session.customer, session.return_url, session.flow, session.livemode) == (
        "billing_portal.session", customer.id, RETURN, None, False,
    )
    assert session.url.startswith(f"{mockstripe_url}/p/session/test_")
    assert set(session.to_dict()) == sdk_fields(stripe.billing_portal.Session)
    # Without a configuration, the account's default one (made on first need) applies.
    default = stripe_client.v1.billing_portal.configurations.retrieve(session.configuration)
    assert default.is_default is True
    assert (default.features.subscription_cancel.enabled, default.features.subscription_cancel.mode) == (
        True, "at_period_end",
    )
    again = stripe_client.v1.billing_portal.sessions.create({"customer": customer.id})
    assert again.configuration == default.id and again.url != session.url
    types = [e.type for e in stripe_client.v1.events.list().data]
    assert types[:3] == [
        "billing_portal.session.created", "billing_portal.session.created", "billing_portal.configuration.created",
    ]


def test_a_cancel_flow_names_a_subscription_of_the_customer(stripe_client, catalog) -> None:
    customer, other = catalog.customer(), catalog.customer()
    price = catalog.metered_price()
    subscription = catalog.subscribe(customer, price)
    theirs = catalog.subscribe(other, price)
    session = stripe_client.v1.billing_portal.sessions.create(
        {
            "customer": customer.id,
            "flow_data": {
                "type": "subscription_cancel",
                "subscription_cancel": {"subscription": subscription.id},
                "after_completion": {"type": "redirect", "redirect": {"return_url": RETURN}},
            },
        }
    )
    assert session.flow.type == "subscription_cancel"
    assert session.flow.subscription_cancel.subscription == subscription.id
    assert (session.flow.after_completion.type, session.flow.after_completion.redirect.return_url) == ("redirect", RETURN)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.billing_portal.sessions.create(
            {"customer": customer.id, "flow_data": {"type": "subscription_cancel", "subscription_cancel": {"subscription": theirs.id}}}
        )
    assert caught.value.user_message == NOT_THE_CUSTOMERS_SUBSCRIPTION.format(theirs.id, customer.id)

    update_off = stripe_client.v1.billing_portal.configurations.create({"features": {"invoice_history": {"enabled": True}}})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.billing_portal.sessions.create(
            {"customer": customer.id, "configuration": update_off.id,
             "flow_data": {"type": "subscription_update", "subscription_update": {"subscription": subscription.id}}}
        )
    assert caught.value.user_message == FEATURE_DISABLED.format(feature="subscription_update", configuration=update_off.id)


def portal_path(session: stripe.billing_portal.Session, mockstripe_url: str) -> str:
    return session.url[len(mockstripe_url):]


def test_the_portal_page_cancels_at_period_end_through_the_api(stripe_client, catalog, raw, mockstripe_url) -> None:
    customer = catalog.customer(email="jenny@example.com")
    subscription = catalog.subscribe(customer, catalog.metered_price())
    session = stripe_client.v1.billing_portal.sessions.create({"customer": customer.id, "return_url": RETURN})
    path = portal_path(session, mockstripe_url)
    page = raw.get(path)
    assert page.status == 200 and "jenny@example.com" in page.body and "Alpaca AI tokens" in page.body
    assert f'<a id=return href="{RETURN}">Return</a>' in page.body
    assert "Cancel at period end" in page.body

    done = raw.post(f"{path}/subscriptions/{subscription.id}/cancel", {})
    assert (done.status, done.headers["Location"]) == (303, f"{path}?done=cancels")
    after = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert (after.status, after.cancel_at_period_end) == ("active", True)
    event = stripe_client.v1.events.list({"limit": 1}).data[0]
    assert (event.type, event.data.object.id, event.data.previous_attributes.cancel_at_period_end) == (
        "customer.subscription.updated", subscription.id, False,
    )
    assert "will be canceled at the end of the billing period" in raw.get(f"{path}?done=cancels").body


def test_the_portal_page_cancels_now_and_switches_prices_as_configured(stripe_client, catalog, raw, mockstripe_url) -> None:
    customer = catalog.customer()
    basic = catalog.licensed_price(unit_amount=1000)
    pro = stripe_client.v1.prices.create(
        {"currency": "usd", "unit_amount": 3000, "recurring": {"interval": "month"}, "product": basic.product}
    )
    configuration = stripe_client.v1.billing_portal.configurations.create(
        {
            "features": {
                "subscription_cancel": {"enabled": True, "mode": "immediately"},
                "subscription_update": {
                    "enabled": True, "default_allowed_updates": ["price"], "proration_behavior": "none",
                    "products": [{"product": basic.product, "prices": [basic.id, pro.id]}],
                },
            }
        }
    )
    subscription = catalog.subscribe(customer, catalog.metered_price(), metadata={"plan": "usage"})
    seats = stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": basic.id, "quantity": 1}], "collection_method": "send_invoice",
         "days_until_due": 30}
    )
    session = stripe_client.v1.billing_portal.sessions.create({"customer": customer.id, "configuration": configuration.id})
    path = portal_path(session, mockstripe_url)
    page = raw.get(path)
    assert "Cancel now" in page.body and f'<option value="{pro.id}">' in page.body
    assert "<a id=return" not in page.body  # no return_url

    switched = raw.post(f"{path}/subscriptions/{seats.id}/update", {"price": pro.id})
    assert switched.status == 303
    assert stripe_client.v1.subscriptions.retrieve(seats.id)["items"].data[0].price.id == pro.id
    refused = raw.post(f"{path}/subscriptions/{subscription.id}/update", {"price": "price_elsewhere"})
    assert refused.status == 400 and "does not allow" in refused.body

    canceled = raw.post(f"{path}/subscriptions/{subscription.id}/cancel", {})
    assert canceled.status == 303
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "canceled"
    types = [e.type for e in stripe_client.v1.events.list({"limit": 3}).data]
    # The switch, then the cancellation, each as the API sends it.
    assert types == ["customer.subscription.deleted", "customer.subscription.updated", "billing_portal.session.created"]


def test_the_portal_page_adds_a_card_as_the_default(stripe_client, raw, mockstripe_url) -> None:
    customer = stripe_client.v1.customers.create({"name": "Jenny Rosen"})
    session = stripe_client.v1.billing_portal.sessions.create({"customer": customer.id})
    path = portal_path(session, mockstripe_url)
    assert "No cards saved." in raw.get(path).body

    declined = raw.post(f"{path}/payment_methods", {"payment_method": "pm_card_chargeDeclined"})
    assert declined.status == 402 and "<div class=err role=alert>Your card was declined.</div>" in declined.body
    assert stripe_client.v1.payment_methods.list({"customer": customer.id}).data == []

    added = raw.post(f"{path}/payment_methods", {"card_number": "5555 5555 5555 4444"})
    assert (added.status, added.headers["Location"]) == (303, f"{path}?done=card")
    saved = stripe_client.v1.payment_methods.list({"customer": customer.id}).data
    assert [(m.card.brand, m.card.last4) for m in saved] == [("mastercard", "4444")]
    assert stripe_client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method == saved[0].id
    types = [e.type for e in stripe_client.v1.events.list({"limit": 2}).data]
    assert types == ["customer.updated", "payment_method.attached"]
    page = raw.get(f"{path}?done=card").body
    assert "mastercard •••• 4444" in page and "Default" in page


def flow_session(client: stripe.StripeClient, customer, flow_data: dict, **params) -> stripe.billing_portal.Session:
    return client.v1.billing_portal.sessions.create(
        {"customer": customer.id, "return_url": RETURN, "flow_data": flow_data, **params}
    )


def plans(client: stripe.StripeClient, catalog, **cancel) -> tuple:
    """A $10 and a $30 monthly price of one product, a configuration that lets customers switch
    between them without prorations (and cancel as `cancel` says), and a customer on the $10 one."""
    customer = catalog.customer()
    basic = catalog.licensed_price(unit_amount=1000)
    pro = client.v1.prices.create(
        {"currency": "usd", "unit_amount": 3000, "recurring": {"interval": "month"}, "product": basic.product}
    )
    configuration = client.v1.billing_portal.configurations.create(
        {
            "features": {
                "subscription_cancel": {"enabled": True, **cancel},
                "subscription_update": {
                    "enabled": True, "default_allowed_updates": ["price"], "proration_behavior": "none",
                    "products": [{"product": basic.product, "prices": [basic.id, pro.id]}],
                },
                "payment_method_update": {"enabled": True},
            }
        }
    )
    seats = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": basic.id, "quantity": 1}], "collection_method": "send_invoice",
         "days_until_due": 30}
    )
    return customer, basic, pro, configuration, seats


def test_a_cancel_flow_opens_at_its_confirm_screen_and_redirects_when_done(stripe_client, catalog, raw, mockstripe_url) -> None:
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, catalog.metered_price())
    session = flow_session(
        stripe_client, customer,
        {
            "type": "subscription_cancel",
            "subscription_cancel": {"subscription": subscription.id},
            "after_completion": {"type": "redirect", "redirect": {"return_url": f"{RETURN}?canceled=1"}},
        },
    )
    path = portal_path(session, mockstripe_url)
    page = raw.get(path).body
    assert "<h1>Cancel your subscription</h1>" in page and "Alpaca AI tokens" in page
    assert f'action="{path}/subscriptions/{subscription.id}/cancel"' in page
    assert "<h2>Subscriptions</h2>" not in page and "Why are you canceling?" not in page

    done = raw.post(f"{path}/subscriptions/{subscription.id}/cancel", {})

    assert (done.status, done.headers["Location"]) == (303, f"{RETURN}?canceled=1")
    after = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert (after.status, after.cancel_at_period_end) == ("active", True)
    event = stripe_client.v1.events.list({"limit": 1}).data[0]
    assert (event.type, event.data.previous_attributes.cancel_at_period_end) == ("customer.subscription.updated", False)
    assert "<h2>Subscriptions</h2>" in raw.get(path).body  # the flow is done: the link opens the homepage


def test_a_cancel_flow_asks_why_and_confirms_on_a_hosted_page(stripe_client, catalog, raw, mockstripe_url) -> None:
    customer, _, _, configuration, seats = plans(
        stripe_client, catalog, mode="immediately",
        cancellation_reason={"enabled": True, "options": ["too_expensive", "unused"]},
    )
    session = flow_session(
        stripe_client, customer,
        {
            "type": "subscription_cancel",
            "subscription_cancel": {"subscription": seats.id},
            "after_completion": {"type": "hosted_confirmation", "hosted_confirmation": {"custom_message": "Sorry to see you go."}},
        },
        configuration=configuration.id,
    )
    path = portal_path(session, mockstripe_url)
    page = raw.get(path).body
    assert "Your subscription will be canceled immediately." in page
    assert '<option value="too_expensive">' in page and '<option value="missing_features">' not in page
    refused = raw.post(f"{path}/subscriptions/{seats.id}/cancel", {"feedback": "low_quality"})
    assert refused.status == 400 and "<h1>Cancel your subscription</h1>" in refused.body and "does not allow" in refused.body

    done = raw.post(f"{path}/subscriptions/{seats.id}/cancel", {"feedback": "too_expensive"})

    assert done.status == 200
    assert "<div class=notice role=status>Sorry to see you go.</div>" in done.body
    assert f'<a id=return href="{RETURN}">Return</a>' in done.body
    after = stripe_client.v1.subscriptions.retrieve(seats.id)
    assert (after.status, after.cancellation_details.feedback) == ("canceled", "too_expensive")
    assert stripe_client.v1.events.list({"limit": 1}).data[0].type == "customer.subscription.deleted"


def test_an_update_flow_offers_the_configured_prices_then_shows_the_homepage(stripe_client, catalog, raw, mockstripe_url) -> None:
    customer, basic, pro, configuration, seats = plans(stripe_client, catalog)
    session = flow_session(
        stripe_client, customer,
        {"type": "subscription_update", "subscription_update": {"subscription": seats.id}},
        configuration=configuration.id,
    )
    path = portal_path(session, mockstripe_url)
    page = raw.get(path).body
    assert "<h1>Update your plan</h1>" in page
    assert f'value="{pro.id}"' in page and f'value="{basic.id}"' not in page  # the current price is not offered
    refused = raw.post(f"{path}/subscriptions/{seats.id}/update", {"price": "price_elsewhere"})
    assert refused.status == 400 and "<h1>Update your plan</h1>" in refused.body

    done = raw.post(f"{path}/subscriptions/{seats.id}/update", {"price": pro.id})

    assert (done.status, done.headers["Location"]) == (303, f"{path}?done=switched")
    (item,) = stripe_client.v1.subscriptions.retrieve(seats.id)["items"].data
    assert (item.price.id, item.quantity) == (pro.id, 1)
    event = stripe_client.v1.events.list({"limit": 1}).data[0]
    assert (event.type, event.data.previous_attributes["items"].data[0].price.id) == (
        "customer.subscription.updated", basic.id,
    )
    home = raw.get(f"{path}?done=switched").body
    assert "<h2>Subscriptions</h2>" in home and "Your plan was changed." in home


def test_an_update_confirm_flow_confirms_the_given_items(stripe_client, catalog, raw, mockstripe_url) -> None:
    customer, basic, pro, configuration, seats = plans(stripe_client, catalog)
    (item,) = seats["items"].data
    session = flow_session(
        stripe_client, customer,
        {
            "type": "subscription_update_confirm",
            "subscription_update_confirm": {"subscription": seats.id, "items": [{"id": item.id, "price": pro.id, "quantity": 3}]},
            "after_completion": {"type": "hosted_confirmation"},
        },
        configuration=configuration.id,
    )
    path = portal_path(session, mockstripe_url)
    page = raw.get(path).body
    assert "<h1>Confirm your new plan</h1>" in page
    assert "(30.00 USD / month)</td><td class=num>× 3</td>" in page
    assert "(10.00 USD / month)</td><td class=num>× 1</td>" in page

    done = raw.post(f"{path}/flow/confirm", {})

    assert done.status == 200 and "<div class=notice role=status>Your plan was changed.</div>" in done.body
    (after,) = stripe_client.v1.subscriptions.retrieve(seats.id)["items"].data
    assert (after.price.id, after.quantity) == (pro.id, 3)
    assert stripe_client.v1.invoice_items.list({"customer": customer.id}).data == []  # proration_behavior none
    again = raw.post(f"{path}/flow/confirm", {})
    assert again.status == 400 and "does not allow" in again.body


def test_a_payment_method_flow_adds_a_card(stripe_client, raw, mockstripe_url) -> None:
    customer = stripe_client.v1.customers.create({"name": "Jenny Rosen"})
    session = flow_session(stripe_client, customer, {"type": "payment_method_update"})
    path = portal_path(session, mockstripe_url)
    assert "<h1>Add a payment method</h1>" in raw.get(path).body
    declined = raw.post(f"{path}/payment_methods", {"payment_method": "pm_card_chargeDeclined"})
    assert declined.status == 402 and "<h1>Add a payment method</h1>" in declined.body
    assert "Your card was declined." in declined.body

    done = raw.post(f"{path}/payment_methods", {"payment_method": "pm_card_visa"})

    assert (done.status, done.headers["Location"]) == (303, f"{path}?done=card")
    (card,) = stripe_client.v1.payment_methods.list({"customer": customer.id}).data
    assert stripe_client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method == card.id


def test_a_redirect_after_completion_needs_its_return_url(stripe_client, catalog) -> None:
    customer = catalog.customer()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        flow_session(stripe_client, customer, {"type": "payment_method_update", "after_completion": {"type": "redirect"}})
    assert (caught.value.param, caught.value.code) == ("flow_data[after_completion][redirect][return_url]", "parameter_missing")


def test_an_update_confirm_flow_names_items_of_its_subscription(stripe_client, catalog) -> None:
    customer, _, pro, configuration, seats = plans(stripe_client, catalog)
    other = catalog.subscribe(customer, catalog.metered_price())
    with pytest.raises(stripe.InvalidRequestError) as caught:
        flow_session(
            stripe_client, customer,
            {
                "type": "subscription_update_confirm",
                "subscription_update_confirm": {
                    "subscription": seats.id, "items": [{"id": other["items"].data[0].id, "price": pro.id}],
                },
            },
            configuration=configuration.id,
        )
    assert (caught.value.param, caught.value.code) == (
        "flow_data[subscription_update_confirm][items][0][id]", "resource_missing",
    )
