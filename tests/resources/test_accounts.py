"""What clients call first: the key's own account, plans, a customer's sources, a product's
features, and expansions with nothing to expand."""

from __future__ import annotations

import re

import stripe

from mockstripe.store import own_account_id


def test_the_account_of_a_key_is_stable_and_ready_for_test_payments(stripe_client, stripe_api_key):
    account = stripe_client.v1.accounts.retrieve_current()
    assert re.fullmatch(r"acct_[0-9A-Za-z]{16}", account.id)
    assert account.id == own_account_id(stripe_api_key) != own_account_id(stripe_api_key + "x")
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (True, True, True)
    assert (account.country, account.default_currency, account.type) == ("US", "usd", "standard")
    assert account.requirements.currently_due == []
    assert stripe_client.v1.accounts.retrieve(account.id) == account
    assert stripe_client.v1.accounts.retrieve_current() == account  # `created` stays too


def test_another_account_id_is_unknown(raw):
    reply = raw.get("/v1/accounts/acct_1NotTheKeysOwn00")
    assert (reply.status, reply.error["code"], reply.error["param"]) == (404, "resource_missing", "account")


def test_stripe_account_naming_the_keys_own_account_is_that_account(raw, stripe_api_key):
    own = own_account_id(stripe_api_key)
    customer = raw.post("/v1/customers", "name=x").body
    named = raw.get("/v1/customers", headers={"Stripe-Account": own}).body
    assert [c["id"] for c in named["data"]] == [customer["id"]]
    assert raw.get("/v1/account", headers={"Stripe-Account": own}).body["id"] == own
    other = raw.get("/v1/customers", headers={"Stripe-Account": "acct_1SomeoneConnected"}).body
    assert other["data"] == []


def test_plans_mirror_recurring_prices(stripe_client, catalog):
    product = stripe_client.v1.products.create({"name": "Seats"})
    monthly = stripe_client.v1.prices.create(
        {"product": product.id, "currency": "usd", "unit_amount": 900, "recurring": {"interval": "month"}}
    )
    stripe_client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 500})  # one-time: no plan
    plan = stripe_client.v1.plans.retrieve(monthly.id, {"expand": ["product"]})
    assert (plan.id, plan.amount, plan.interval, plan.product.id) == (monthly.id, 900, "month", product.id)
    assert [p.id for p in stripe_client.v1.plans.list({"product": product.id}).data] == [monthly.id]
    with_meter = catalog.metered_price()
    assert [p.id for p in stripe_client.v1.plans.list().data] == [with_meter.id, monthly.id]
    assert [p.id for p in stripe_client.v1.plans.list({"starting_after": with_meter.id}).data] == [monthly.id]


def test_a_one_time_price_has_no_plan(stripe_client):
    price = stripe_client.v1.prices.create({"product_data": {"name": "x"}, "currency": "usd", "unit_amount": 5})
    try:
        stripe_client.v1.plans.retrieve(price.id)
        raise AssertionError("expected a 404")
    except stripe.InvalidRequestError as error:
        assert (error.http_status, error.code, error.user_message) == (404, "resource_missing", f"No such plan: '{price.id}'")


def test_a_customers_sources_and_a_products_features(stripe_client, raw):
    customer = stripe_client.v1.customers.create({"name": "x"})
    assert stripe_client.v1.customers.payment_sources.list(customer.id).data == []
    product = stripe_client.v1.products.create({"name": "x"})
    other = stripe_client.v1.products.create({"name": "y"})
    assert stripe_client.v1.products.features.list(product.id).data == []
    feature = raw.post("/v1/entitlements/features", {"name": "SSO", "lookup_key": "sso"}).body
    attached = raw.post(f"/v1/products/{product.id}/features", {"entitlement_feature": feature["id"]}).body
    assert [f.id for f in stripe_client.v1.products.features.list(product.id).data] == [attached["id"]]
    assert stripe_client.v1.products.features.list(other.id).data == []
    assert raw.get("/v1/customers/cus_nope/sources").status == 404


def test_fields_with_nothing_to_expand_expand_to_nothing(stripe_client, raw):
    customer = stripe_client.v1.customers.create({"name": "x"})
    fetched = stripe_client.v1.customers.retrieve(
        customer.id, {"expand": ["default_source", "invoice_settings.default_payment_method", "test_clock"]}
    )
    assert (fetched.default_source, fetched.invoice_settings.default_payment_method) == (None, None)
    page = raw.get("/v1/invoices?expand[]=data.discounts&expand[]=data.lines.data.discounts")
    assert page.status == 200
    # Still refused: what Stripe refuses.
    for path in ("name", "invoice_settings", "address.city"):
        reply = raw.get(f"/v1/customers/{customer.id}?expand[]={path}")
        assert (reply.status, reply.error["message"]) == (400, f"This property cannot be expanded ({path}).")
