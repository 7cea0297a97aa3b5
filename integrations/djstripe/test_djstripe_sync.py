"""dj-stripe, unchanged, syncs products, prices, customers, subscriptions, their items and
invoices from mockstripe into its Django models: one object at a time (`sync_from_stripe_data`)
and all at once (`djstripe_sync_models`)."""

from __future__ import annotations

import stripe
from django.core.management import call_command

MODELS = ("Product", "Price", "Customer", "Subscription", "SubscriptionItem", "Invoice")


def make_catalog(key: str) -> dict[str, str]:
    product = stripe.Product.create(name="Seats", api_key=key)
    price = stripe.Price.create(
        product=product.id, currency="usd", unit_amount=900, recurring={"interval": "month"}, api_key=key
    )
    customer = stripe.Customer.create(name="Ada", email="ada@example.com", api_key=key)
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": price.id}], api_key=key)
    return {
        "product": product.id,
        "price": price.id,
        "customer": customer.id,
        "subscription": subscription.id,
        "subscription_item": subscription["items"]["data"][0]["id"],
        "invoice": subscription.latest_invoice,
    }


def test_sync_from_stripe_data_one_object_at_a_time(api_key):
    from djstripe import models

    ids = make_catalog(api_key)
    synced = [
        models.Product.sync_from_stripe_data(stripe.Product.retrieve(ids["product"], api_key=api_key), api_key=api_key),
        models.Price.sync_from_stripe_data(stripe.Price.retrieve(ids["price"], api_key=api_key), api_key=api_key),
        models.Customer.sync_from_stripe_data(stripe.Customer.retrieve(ids["customer"], api_key=api_key), api_key=api_key),
        models.Subscription.sync_from_stripe_data(
            stripe.Subscription.retrieve(ids["subscription"], api_key=api_key), api_key=api_key
        ),
        models.SubscriptionItem.sync_from_stripe_data(
            stripe.SubscriptionItem.retrieve(ids["subscription_item"], api_key=api_key), api_key=api_key
        ),
        models.Invoice.sync_from_stripe_data(stripe.Invoice.retrieve(ids["invoice"], api_key=api_key), api_key=api_key),
    ]
    assert [obj.id for obj in synced] == [
        ids[k] for k in ("product", "price", "customer", "subscription", "subscription_item", "invoice")
    ]
    product, price, customer, subscription, item, invoice = synced
    assert (product.name, price.unit_amount, price.product_id) == ("Seats", 900, ids["product"])
    assert (customer.email, subscription.customer_id, item.subscription_id) == ("ada@example.com", ids["customer"], ids["subscription"])
    assert (invoice.customer_id, invoice.total) == (ids["customer"], 900)


def test_djstripe_sync_models_syncs_them_all(api_key):
    from djstripe import models

    ids = make_catalog(api_key)
    call_command("djstripe_sync_models", *MODELS, api_keys=[api_key], fail_on_error=True, verbosity=0)
    for model, key in zip(MODELS, ("product", "price", "customer", "subscription", "subscription_item", "invoice")):
        assert getattr(models, model).objects.filter(id=ids[key]).exists(), model
