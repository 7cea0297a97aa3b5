"""Customers through the official SDK: create, retrieve, update, list, delete, and their errors."""

from __future__ import annotations

import re

import pytest
import stripe

# Fields Stripe only renders when expanded; `deleted` appears only on deletion stubs.
EXPAND_ONLY = {"subscriptions", "sources", "tax_ids", "cash_balance", "invoice_credit_balance", "tax"}

ADDRESS = {"city": "Berlin", "country": "DE", "line1": "Unter den Linden 1", "line2": "3. OG", "postal_code": "10117", "state": "BE"}


def declared_fields(cls: type) -> set[str]:
    """The object fields an SDK resource class declares (its annotations, through the MRO)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(name for name in getattr(klass, "__annotations__", {}) if not name.startswith("_") and not name.isupper())
    return names


def full_create_params() -> dict:
    return {
        "address": ADDRESS,
        "balance": -250,
        "business_name": "Ada Ltd",
        "description": "A regular",
        "email": "ada@example.com",
        "individual_name": "Ada Lovelace",
        "invoice_prefix": "ADA01",
        "invoice_settings": {
            "custom_fields": [{"name": "PO", "value": "PO-42"}],
            "footer": "Thanks",
            "rendering_options": {"amount_tax_display": "include_inclusive_tax", "template": "inrtem_1"},
        },
        "metadata": {"plan": "gold", "team": "core"},
        "name": "Ada",
        "next_invoice_sequence": 7,
        "phone": "+4930123456",
        "preferred_locales": ["de", "en"],
        "shipping": {"address": {"city": "Paris", "country": "FR"}, "name": "Ada at home", "phone": "+331234"},
        "tax_exempt": "reverse",
        "validate": True,
    }


def test_create_with_every_implemented_field(stripe_client):
    customer = stripe_client.v1.customers.create(full_create_params())
    assert re.match(r"^cus_[A-Za-z0-9]{14}$", customer.id)
    assert customer.object == "customer"
    assert customer.livemode is False
    assert customer.address.to_dict() == ADDRESS
    assert customer.balance == -250
    assert (customer.business_name, customer.individual_name) == ("Ada Ltd", "Ada Lovelace")
    assert (customer.name, customer.email, customer.phone, customer.description) == ("Ada", "ada@example.com", "+4930123456", "A regular")
    assert customer.invoice_prefix == "ADA01"
    assert customer.invoice_settings.to_dict() == {
        "custom_fields": [{"name": "PO", "value": "PO-42"}],
        "default_payment_method": None,
        "footer": "Thanks",
        "rendering_options": {"amount_tax_display": "include_inclusive_tax", "template": "inrtem_1"},
    }
    assert customer.metadata.to_dict() == {"plan": "gold", "team": "core"}
    assert customer.next_invoice_sequence == 7
    assert customer.preferred_locales == ["de", "en"]
    assert customer.shipping.to_dict() == {
        "address": {"city": "Paris", "country": "FR", "line1": None, "line2": None, "postal_code": None, "state": None},
        "carrier": None,
        "name": "Ada at home",
        "phone": "+331234",
        "tracking_number": None,
    }
    assert customer.tax_exempt == "reverse"
    assert "validate" not in customer


def test_defaults_of_an_empty_customer(stripe_client):
    customer = stripe_client.v1.customers.create()
    assert customer.to_dict() | {"id": None, "created": None, "invoice_prefix": None} == {
        "id": None,
        "object": "customer",
        "address": None,
        "balance": 0,
        "business_name": None,
        "created": None,
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "individual_name": None,
        "invoice_prefix": None,
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None, "rendering_options": None},
        "livemode": False,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    assert re.match(r"^[A-Z0-9]{1,12}$", customer.invoice_prefix)
    assert isinstance(customer.created, int)


def test_fields_match_the_sdk_resource(stripe_client):
    customer = stripe_client.v1.customers.create({"name": "Ada"})
    assert set(customer.to_dict()) == declared_fields(stripe.Customer) - EXPAND_ONLY - {"deleted"}


def test_retrieve(stripe_client):
    created = stripe_client.v1.customers.create(full_create_params())
    assert stripe_client.v1.customers.retrieve(created.id).to_dict() == created.to_dict()


def test_retrieve_unknown_is_a_404(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.customers.retrieve("cus_x")
    error = caught.value
    assert error.http_status == 404
    assert (error.code, error.param, error.user_message) == ("resource_missing", "id", "No such customer: 'cus_x'")


def test_update_merges_metadata_and_unsets_with_empty_strings(stripe_client):
    created = stripe_client.v1.customers.create(full_create_params())
    updated = stripe_client.v1.customers.update(
        created.id,
        {"metadata": {"plan": "", "region": "eu"}, "name": "", "email": "new@example.com", "address": "", "preferred_locales": ""},
    )
    assert updated.metadata.to_dict() == {"team": "core", "region": "eu"}
    assert updated.name is None
    assert updated.email == "new@example.com"
    assert updated.address is None
    assert updated.preferred_locales == []
    assert updated.phone == "+4930123456"  # untouched
    assert stripe_client.v1.customers.retrieve(created.id).to_dict() == updated.to_dict()
    assert stripe_client.v1.customers.update(created.id, {"metadata": ""}).metadata.to_dict() == {}


def test_update_invoice_settings_merges_key_by_key(stripe_client):
    created = stripe_client.v1.customers.create(full_create_params())
    updated = stripe_client.v1.customers.update(created.id, {"invoice_settings": {"footer": "Bye", "custom_fields": ""}})
    assert updated.invoice_settings.footer == "Bye"
    assert updated.invoice_settings.custom_fields is None
    assert updated.invoice_settings.rendering_options.amount_tax_display == "include_inclusive_tax"


def test_tax_exempt_unset_goes_back_to_none(stripe_client):
    created = stripe_client.v1.customers.create({"tax_exempt": "exempt"})
    assert stripe_client.v1.customers.update(created.id, {"tax_exempt": ""}).tax_exempt == "none"


def test_list(stripe_client):
    first = stripe_client.v1.customers.create({"email": "a@example.com"})
    second = stripe_client.v1.customers.create({"email": "b@example.com"})
    page = stripe_client.v1.customers.list()
    assert [c.id for c in page.data] == [second.id, first.id]
    assert page.has_more is False
    assert page.url == "/v1/customers"
    assert [c.id for c in stripe_client.v1.customers.list({"email": "a@example.com"}).data] == [first.id]


def test_delete_leaves_a_stub(stripe_client):
    created = stripe_client.v1.customers.create({"name": "Ada"})
    deleted = stripe_client.v1.customers.delete(created.id)
    stub = {"id": created.id, "object": "customer", "deleted": True}
    assert deleted.to_dict() == stub
    assert stripe_client.v1.customers.retrieve(created.id).to_dict() == stub
    assert stripe_client.v1.customers.list().data == []
    for attempt in (
        lambda: stripe_client.v1.customers.update(created.id, {"name": "Back"}),
        lambda: stripe_client.v1.customers.delete(created.id),
    ):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            attempt()
        assert caught.value.http_status == 404
        assert caught.value.code == "resource_missing"


# Validation, through the SDK and at the wire.


def test_unknown_parameter(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.customers.create({"invoice_settings": {"bogus": "1"}})  # type: ignore[typeddict-unknown-key]  # deliberately not what the SDK's types allow
    error = caught.value
    assert (error.http_status, error.code, error.param) == (400, "parameter_unknown", "invoice_settings[bogus]")
    assert error.user_message == "Received unknown parameter: invoice_settings[bogus]"


def test_invalid_enum(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.customers.create({"tax_exempt": "maybe"})  # type: ignore[typeddict-item]  # deliberately not what the SDK's types allow
    assert caught.value.user_message == "Invalid tax_exempt: must be one of none, exempt, or reverse"


def test_invalid_integer(raw):
    reply = raw.post("/v1/customers", "balance=10.0")
    assert reply.status == 400
    assert (reply.error["code"], reply.error["param"]) == ("parameter_invalid_integer", "balance")
    assert reply.error["message"] == "Invalid integer: 10.0"


def test_invalid_boolean(raw):
    reply = raw.post("/v1/customers", "validate=yes")
    assert (reply.status, reply.error["message"], reply.error["param"]) == (400, "Invalid boolean: yes", "validate")


@pytest.mark.parametrize(
    "body, param",
    [
        ("&".join(f"metadata[k{i}]=v" for i in range(51)), "metadata"),
        (f"metadata[{'k' * 41}]=v", f"metadata[{'k' * 41}]"),
        (f"metadata[k]={'v' * 501}", "metadata[k]"),
    ],
)
def test_metadata_limits(raw, body, param):
    reply = raw.post("/v1/customers", body)
    assert reply.status == 400
    assert reply.error["param"] == param
    assert raw.get("/v1/customers").body["data"] == []


def test_a_rejected_request_changes_nothing(raw):
    reply = raw.post("/v1/customers", "name=Valid&email=ok@example.com&next_invoice_sequence=0")
    assert reply.status == 400
    assert reply.error["param"] == "next_invoice_sequence"
    assert raw.get("/v1/customers").body["data"] == []


def test_a_rejected_update_changes_nothing(raw):
    created = raw.post("/v1/customers", "name=Before").body
    assert raw.post(f"/v1/customers/{created['id']}", "name=After&tax_exempt=sometimes").status == 400
    assert raw.get(f"/v1/customers/{created['id']}").body == created


def test_an_integer_beyond_64_bits_is_refused_and_not_stored(raw):
    reply = raw.post("/v1/customers", "balance=99999999999999999999999")
    assert reply.status == 400
    assert reply.error["code"] == "parameter_invalid_integer"
    assert raw.get("/v1/customers").status == 200
    assert raw.get("/v1/customers").body["data"] == []


def test_shipping_needs_a_name_and_an_address(raw):
    reply = raw.post("/v1/customers", "shipping[name]=Ada")
    assert (reply.status, reply.error["code"], reply.error["param"]) == (400, "parameter_missing", "shipping[address]")
    assert reply.error["message"] == "Missing required param: shipping[address]."


@pytest.mark.parametrize("name", ["tax[ip_address]", "source", "tax_id_data[0][type]", "cash_balance[settings][reconciliation_mode]"])
def test_unsupported_parameters_are_refused(raw, name):
    reply = raw.post("/v1/customers", f"{name}=x")
    assert reply.status == 400
    assert reply.error["param"] == name.split("[")[0]
    assert "not supported by mockstripe" in reply.error["message"]


def test_path_id_missing_on_update_is_a_404_with_param_id(raw):
    reply = raw.post("/v1/customers/cus_x", "name=x")
    assert reply.status == 404
    assert (reply.error["code"], reply.error["param"], reply.error["message"]) == ("resource_missing", "id", "No such customer: 'cus_x'")
