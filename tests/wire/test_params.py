"""The parameter specs and the validator: coercion, Stripe's error messages, codes and params."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mockstripe.resources import customers
from mockstripe.store import Account
from mockstripe.wire.decode import decode_form
from mockstripe.wire.errors import StripeError
from mockstripe.wire.params import (
    CREATED_FILTER,
    AnyOf,
    Boolean,
    DecimalString,
    Enum,
    Hash,
    Integer,
    List,
    Literal,
    Map,
    Ref,
    String,
    endpoint,
    invalid,
    merge_metadata,
    require_one,
    validate,
)


def rejected(spec: Hash, params: dict[str, Any], account: Account | None = None) -> StripeError:
    with pytest.raises(StripeError) as caught:
        validate(spec, params, account)
    assert caught.value.status == 400
    assert caught.value.type == "invalid_request_error"
    return caught.value


def form_rejected(spec: Hash, body: str) -> StripeError:
    return rejected(spec, decode_form(body))


# Unknown, missing and exclusive parameters.


def test_unknown_parameter_is_named_by_its_bracket_path():
    error = form_rejected(customers.CREATE, "invoice_settings[bogus]=1")
    assert error.code == "parameter_unknown"
    assert error.message == "Received unknown parameter: invoice_settings[bogus]"
    assert error.param == "invoice_settings[bogus]"


def test_unknown_keys_inside_list_items_count():
    error = form_rejected(customers.CREATE, "invoice_settings[custom_fields][0][name]=a&invoice_settings[custom_fields][0][value]=b"
                          "&invoice_settings[custom_fields][0][extra]=c")
    assert error.code == "parameter_unknown"
    assert error.param == "invoice_settings[custom_fields][0][extra]"


def test_several_unknown_parameters_are_listed():
    error = form_rejected(customers.CREATE, "a=1&name=x&b=2")
    assert error.message == "Received unknown parameters: a, b"
    assert error.code == "parameter_unknown"
    assert error.param == "a"


def test_missing_required_parameter():
    spec = endpoint(currency=String(required=True), nested=Hash(fields={"x": Integer(required=True)}))
    error = rejected(spec, {})
    assert (error.code, error.param, error.message) == ("parameter_missing", "currency", "Missing required param: currency.")
    assert rejected(spec, {"currency": ""}).message == "Missing required param: currency."
    nested = rejected(spec, {"currency": "usd", "nested": {}})
    assert (nested.param, nested.message) == ("nested[x]", "Missing required param: nested[x].")


def test_required_field_of_a_nested_hash_in_customers():
    error = form_rejected(customers.CREATE, "shipping[address][city]=Paris")
    assert error.code == "parameter_missing"
    assert error.param == "shipping[name]"


def test_exclusive_parameters():
    spec = endpoint(a=String(), b=String(), c=String(), exclusive=(("a", "b"),))
    error = rejected(spec, {"b": "1", "a": "2", "c": "3"})
    assert error.message == "You may only specify one of these parameters: a, b."
    assert error.param == "a"
    assert validate(spec, {"a": "1", "c": "3"}) == {"a": "1", "c": "3"}


def test_exclusive_pagination_cursors_in_customers():
    error = form_rejected(customers.LIST, "starting_after=cus_a&ending_before=cus_b")
    assert error.message == "You may only specify one of these parameters: starting_after, ending_before."


def test_checks_run_on_the_coerced_hash():
    spec = endpoint(a=Integer(), b=Integer(), checks=(require_one("a", "b"),))
    assert rejected(spec, {}).message == "Missing required param: a."
    assert validate(spec, {"b": "2"}) == {"b": 2}


# Scalars.


@pytest.mark.parametrize("value", ["10.0", "1e3", "ten", " 1", "١٢", "99999999999999999999", "9" * 5000])
def test_invalid_integers(value):
    error = rejected(endpoint(n=Integer(nullable=False)), {"n": value})
    assert error.code == "parameter_invalid_integer"
    assert error.message == f"Invalid integer: {value}"
    assert error.param == "n"


def test_integers_cover_the_signed_64_bit_range():
    spec = endpoint(n=Integer())
    assert validate(spec, {"n": str(2**63 - 1)}) == {"n": 2**63 - 1}
    assert validate(spec, {"n": str(-(2**63))}) == {"n": -(2**63)}
    assert validate(spec, {"n": "-0042"}) == {"n": -42}
    assert validate(spec, {"n": 7}) == {"n": 7}  # v2 JSON numbers
    assert rejected(spec, {"n": str(2**63)}).code == "parameter_invalid_integer"
    assert rejected(spec, {"n": True}).message == "Invalid integer: true"


def test_integer_bounds():
    assert rejected(endpoint(n=Integer(minimum=0)), {"n": "-1"}).message == "Invalid non-negative integer"
    assert rejected(endpoint(n=Integer(minimum=1)), {"n": "0"}).message == "Invalid positive integer"
    assert rejected(endpoint(n=Integer(minimum=5)), {"n": "4"}).message == "This value must be greater than or equal to 5."
    assert rejected(endpoint(n=Integer(maximum=100)), {"n": "101"}).message == "This value must be less than or equal to 100."


def test_booleans_are_only_true_and_false():
    spec = endpoint(flag=Boolean())
    assert validate(spec, {"flag": "true"}) == {"flag": True}
    assert validate(spec, {"flag": "false"}) == {"flag": False}
    for word in ("yes", "1", "True", "on"):
        error = rejected(spec, {"flag": word})
        assert (error.message, error.param) == (f"Invalid boolean: {word}", "flag")


def test_enum_lists_its_values():
    error = form_rejected(customers.CREATE, "tax_exempt=sometimes")
    assert error.message == "Invalid tax_exempt: must be one of none, exempt, or reverse"
    assert error.param == "tax_exempt"
    assert rejected(endpoint(e=Enum("a", "b")), {"e": "c"}).message == "Invalid e: must be one of a or b"


def test_enum_inside_a_hash_names_the_full_path():
    error = form_rejected(customers.CREATE, "invoice_settings[rendering_options][amount_tax_display]=x")
    assert error.param == "invoice_settings[rendering_options][amount_tax_display]"
    assert error.message.startswith("Invalid invoice_settings[rendering_options][amount_tax_display]: must be one of ")


def test_string_max_length():
    error = rejected(endpoint(s=String(max_length=3)), {"s": "abcd"})
    assert error.param == "s"
    assert "must be at most 3 characters" in error.message
    assert rejected(endpoint(s=String()), {"s": {"a": "1"}}).message == "Invalid string: a hash"


def test_decimal_strings():
    spec = endpoint(d=DecimalString(max_places=3))
    assert validate(spec, {"d": "0.125"}) == {"d": Decimal("0.125")}
    assert validate(spec, {"d": "-12"}) == {"d": Decimal("-12")}
    assert rejected(spec, {"d": "0.1255"}).message == "Invalid decimal: 0.1255; must have at most 3 decimal places"
    for value in ("1.", ".5", "1e3", "abc", "١"):
        assert rejected(spec, {"d": value}).message == f"Invalid decimal: {value}"


def test_any_of_takes_the_first_alternative_that_fits():
    spec = endpoint(up_to=AnyOf(Integer(minimum=1), Literal(word="inf")))
    assert validate(spec, {"up_to": "inf"}) == {"up_to": "inf"}
    assert validate(spec, {"up_to": "5"}) == {"up_to": 5}
    assert rejected(spec, {"up_to": "many"}).message == "Invalid integer: many"


def test_created_filter_reports_the_hash_problem_for_a_hash():
    spec = endpoint(created=CREATED_FILTER)
    assert validate(spec, {"created": "5"}) == {"created": 5}
    assert validate(spec, {"created": {"gte": "1", "lt": "9"}}) == {"created": {"gte": 1, "lt": 9}}
    unknown = rejected(spec, {"created": {"after": "1"}})
    assert (unknown.code, unknown.param) == ("parameter_unknown", "created[after]")
    bad = rejected(spec, {"created": {"gt": "soon"}})
    assert (bad.message, bad.param) == ("Invalid integer: soon", "created[gt]")


def test_unsupported_parameter_is_refused_clearly():
    error = rejected(customers.CREATE, {"source": "tok_123"})
    assert error.param == "source"
    assert "not supported by mockstripe" in error.message


# References to other objects.


def test_ref_to_a_missing_object_is_a_400_resource_missing():
    account = Account(key="sk_test_ref")
    spec = endpoint(customer=Ref(object_type="customer", noun="customer"))
    error = rejected(spec, {"customer": "cus_nope"}, account)
    assert error.status == 400
    assert (error.code, error.param, error.message) == ("resource_missing", "customer", "No such customer: 'cus_nope'")


def test_ref_to_an_existing_object_passes_and_deleted_ones_do_not():
    account = Account(key="sk_test_ref")
    account.collection("customer").add({"id": "cus_live", "object": "customer"})
    account.collection("customer").add({"id": "cus_gone", "object": "customer", "deleted": True})
    spec = endpoint(customer=Ref(object_type="customer", noun="customer"))
    assert validate(spec, {"customer": "cus_live"}, account) == {"customer": "cus_live"}
    assert rejected(spec, {"customer": "cus_gone"}, account).code == "resource_missing"


def test_ref_inside_a_list_names_its_index():
    account = Account(key="sk_test_ref")
    spec = endpoint(items=List(item=Hash(fields={"price": Ref(object_type="price", noun="price")})))
    error = rejected(spec, {"items": [{"price": "price_nope"}]}, account)
    assert (error.param, error.message) == ("items[0][price]", "No such price: 'price_nope'")


# Empty strings: "" unsets.


def test_empty_string_unsets_optional_params():
    spec = endpoint(name=String(), address=Hash(nullable=True, fields={"city": String()}), metadata=Map())
    assert validate(spec, {"name": "", "address": "", "metadata": ""}) == {"name": None, "address": None, "metadata": None}


@pytest.mark.parametrize("spec", [Hash(fields={"a": String()}), Integer(), String(nullable=False), Boolean()])
def test_empty_string_is_refused_where_a_param_cannot_be_unset(spec):
    error = rejected(endpoint(p=spec), {"p": ""})
    assert (error.code, error.param) == ("parameter_invalid_empty", "p")
    assert error.message.startswith("You passed an empty string for 'p'.")


def test_metadata_empty_values_mark_keys_for_removal():
    assert validate(endpoint(metadata=Map()), {"metadata": {"a": "", "b": "2"}}) == {"metadata": {"a": None, "b": "2"}}


def test_merge_metadata():
    current = {"a": "1", "b": "2"}
    assert merge_metadata(current, {"a": None, "c": "3"}) == {"b": "2", "c": "3"}
    assert merge_metadata(current, None) == {}
    assert current == {"a": "1", "b": "2"}


# Metadata limits.


def test_metadata_accepts_its_limits():
    metadata = {f"{i:040d}": "v" * 500 for i in range(50)}
    assert validate(endpoint(metadata=Map()), {"metadata": metadata}) == {"metadata": metadata}


def test_metadata_limits():
    spec = endpoint(metadata=Map())
    too_many = rejected(spec, {"metadata": {f"k{i}": "v" for i in range(51)}})
    assert (too_many.param, too_many.message) == ("metadata", "Invalid metadata: must have at most 50 keys")
    long_key = rejected(spec, {"metadata": {"k" * 41: "v"}})
    assert long_key.param == f"metadata[{'k' * 41}]"
    long_value = rejected(spec, {"metadata": {"k": "v" * 501}})
    assert long_value.param == "metadata[k]"
    nested = rejected(spec, {"metadata": {"k": {"x": "1"}}})
    assert nested.param == "metadata[k]"
    assert rejected(spec, {"metadata": "x"}).message == "Invalid hash"


def test_free_maps_have_no_limits():
    spec = endpoint(payload=Map(max_keys=None, max_key_length=None, max_value_length=None))
    payload = {f"key-{i}-{'x' * 50}": "v" * 1000 for i in range(60)}
    assert validate(spec, {"payload": payload}) == {"payload": payload}


# Lists.


def test_lists_coerce_each_element_with_its_path():
    spec = endpoint(ns=List(item=Integer()))
    assert validate(spec, {"ns": ["1", "2"]}) == {"ns": [1, 2]}
    assert rejected(spec, {"ns": ["1", "x"]}).param == "ns[1]"


def test_list_shape_and_size():
    spec = endpoint(tags=List(item=String(), max_items=2))
    assert validate(spec, {"tags": "one"}) == {"tags": ["one"]}
    assert rejected(spec, {"tags": {"a": "1"}}).message == "Invalid array"
    assert rejected(spec, {"tags": ["a", "b", "c"]}).message == "Array tags exceeded maximum 2 allowed elements."


def test_list_elements_cannot_be_empty():
    error = form_rejected(customers.CREATE, "preferred_locales[]=en&preferred_locales[]=")
    assert (error.code, error.param) == ("parameter_invalid_empty", "preferred_locales[1]")
    assert error.message.startswith("You passed an empty string for 'preferred_locales[1]'.")
    assert form_rejected(endpoint(), "expand[]=").param == "expand[0]"


def test_a_whole_list_can_be_unset():
    assert validate(customers.UPDATE, {"preferred_locales": ""}) == {"preferred_locales": None}


# Customer checks.


@pytest.mark.parametrize("prefix", ["abc", "ABCDEFGHIJKLM", "AB-C", ""])
def test_invoice_prefix_check(prefix):
    error = rejected(customers.CREATE, {"invoice_prefix": prefix})
    assert error.param == "invoice_prefix"


def test_validation_errors_are_plain_invalid_request_errors():
    error = invalid("x", param="p")
    assert (error.status, error.type, error.code, error.param) == (400, "invalid_request_error", None, "p")
