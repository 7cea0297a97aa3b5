"""Form bodies and query strings into nested params, and the 400s for what cannot be decoded."""

from __future__ import annotations

import pytest

from mockstripe.app import create_app
from mockstripe.config import MAX_BODY_BYTES
from mockstripe.routing import Area, Endpoint
from mockstripe.wire.decode import decode_form, decode_json
from mockstripe.wire.errors import StripeError
from mockstripe.wire.params import Boolean, Hash, Integer, endpoint


def decode_error(body: str | bytes) -> StripeError:
    with pytest.raises(StripeError) as caught:
        decode_form(body)
    assert caught.value.status == 400
    return caught.value


# Unit: the shapes brackets build.


def test_brackets_nest_hashes():
    assert decode_form("a[b][c]=v&a[b][d]=w&a[e]=x&f=y") == {"a": {"b": {"c": "v", "d": "w"}, "e": "x"}, "f": "y"}


def test_indexed_keys_build_lists_of_hashes():
    body = "items[0][price]=p1&items[1][price]=p2&items[1][quantity]=3"
    assert decode_form(body) == {"items": [{"price": "p1"}, {"price": "p2", "quantity": "3"}]}


def test_empty_brackets_append():
    assert decode_form("expand[]=a&expand[]=b.c") == {"expand": ["a", "b.c"]}


def test_indexes_may_arrive_out_of_order():
    assert decode_form("a[1]=y&a[0]=x") == {"a": ["x", "y"]}


def test_percent_encoded_brackets_and_values():
    assert decode_form("a%5Bb%5D=1&name=J%C3%B6rg+M") == {"a": {"b": "1"}, "name": "Jörg M"}


def test_empty_values_are_kept():
    # "" is meaningful (it unsets), so it must survive decoding.
    assert decode_form("metadata[k]=&name=") == {"metadata": {"k": ""}, "name": ""}
    assert decode_form("metadata=") == {"metadata": ""}


def test_empty_body_is_no_params():
    assert decode_form(b"") == {}


@pytest.mark.parametrize("body", ["a[0]=x&a[2]=y", "a[1]=x", "a[0][b]=x&a[2][b]=y"])
def test_list_indexes_must_run_from_zero_without_gaps(body):
    error = decode_error(body)
    assert error.message == "Invalid array: the indexes of a must run from 0 with no gaps."
    assert error.param == "a"


def test_gap_inside_a_nested_list_names_its_path():
    assert decode_error("a[b][1]=x").param == "a[b]"


@pytest.mark.parametrize("key", ["a[b", "a]b[", "a[b]c", "[a]=1&x", "a[[b]]", "a[b]]"])
def test_malformed_bracket_keys(key):
    error = decode_error(f"{key}=1")
    assert error.message.startswith("Invalid parameter name: ")


@pytest.mark.parametrize(
    "body, name",
    [
        ("a=1&a[b]=2", "a"),
        ("a[b]=2&a=1", "a"),
        ("a[b]=1&a[b][c]=2", "a[b]"),
        ("a[b][c]=2&a[b]=1", "a[b]"),
        ("a[0]=x&a[b]=y", "a"),
        ("a[b]=x&a[0]=y", "a"),
    ],
)
def test_one_name_cannot_be_both_a_value_and_a_hash(body, name):
    error = decode_error(body)
    assert error.message == f"Invalid request: {name} is given both as a value and as a hash."
    assert error.param == name


def test_non_ascii_digits_are_hash_keys_not_indexes():
    # "²" passes str.isdigit(); as an index it used to crash int().
    assert decode_form("a[%C2%B2]=x") == {"a": {"²": "x"}}


def test_invalid_utf8_body():
    assert decode_error(b"name=\xff").message == "Invalid request: the body is not valid UTF-8."


def test_invalid_utf8_once_percent_decoded():
    assert "not valid UTF-8" in decode_error("name=%FF").message


def test_json_object_body():
    assert decode_json(b'{"a": {"b": [1, true]}}') == {"a": {"b": [1, True]}}
    assert decode_json(b"") == {}


@pytest.mark.parametrize(
    "body, message",
    [
        (b"{", "Invalid JSON: the request body could not be parsed."),
        (b"[1]", "Invalid JSON: the request body must be an object."),
        (b"a=1", "Invalid JSON: the request body could not be parsed."),
    ],
)
def test_bad_json_body(body, message):
    with pytest.raises(StripeError) as caught:
        decode_json(body)
    assert caught.value.message == message


# Raw HTTP: the same rules at the wire, through a real endpoint.


def test_nested_form_reaches_the_handler(raw):
    reply = raw.post(
        "/v1/customers",
        "address[city]=Berlin&address%5Bcountry%5D=DE&preferred_locales[]=de&preferred_locales[]=en"
        "&invoice_settings[custom_fields][0][name]=PO&invoice_settings[custom_fields][0][value]=42",
    )
    assert reply.status == 200
    customer = reply.body
    assert customer["address"]["city"] == "Berlin"
    assert customer["address"]["country"] == "DE"
    assert customer["preferred_locales"] == ["de", "en"]
    assert customer["invoice_settings"]["custom_fields"] == [{"name": "PO", "value": "42"}]


def test_empty_values_unset(raw):
    created = raw.post("/v1/customers", "name=Ada&metadata[a]=1&metadata[b]=2&metadata[c]=3").body
    removed = raw.post(f"/v1/customers/{created['id']}", "metadata[a]=&name=").body
    assert removed["metadata"] == {"b": "2", "c": "3"}
    assert removed["name"] is None
    cleared = raw.post(f"/v1/customers/{created['id']}", "metadata=").body
    assert cleared["metadata"] == {}


def test_gap_in_list_indexes_is_a_400(raw):
    reply = raw.post("/v1/customers", "preferred_locales[0]=en&preferred_locales[2]=fr")
    assert reply.status == 400
    assert reply.error["param"] == "preferred_locales"
    assert raw.get("/v1/customers").body["data"] == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "Ada"}',
        b'{"name": "Ada", "metadata": {"a": [1, 2]}}',
        b'{"email": "a=b&c", "x": "%FF"}',
        b"[]",
    ],
)
def test_json_body_to_v1_is_a_stripe_400(raw, body):
    reply = raw.post("/v1/customers", body, headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.error["type"] == "invalid_request_error"
    assert raw.get("/v1/customers").body["data"] == []


@pytest.mark.parametrize("body", [b"name=\xff\xfe", b"name=%C3%28", b"a[b=1", b"metadata=x&metadata[a]=1"])
def test_undecodable_bodies_are_400s(raw, body):
    reply = raw.post("/v1/customers", body)
    assert reply.status == 400
    assert reply.error["type"] == "invalid_request_error"


def test_undecodable_query_is_a_400(raw):
    reply = raw.get("/v1/customers?email=%FF")
    assert reply.status == 400
    assert "UTF-8" in reply.error["message"]


def test_body_over_one_mebibyte_is_a_413_json_error(raw):
    reply = raw.post("/v1/customers", "description=" + "x" * MAX_BODY_BYTES)
    assert reply.status == 413
    assert reply.error["type"] == "invalid_request_error"
    assert reply.error["message"] == f"Request body too large: the limit is {MAX_BODY_BYTES} bytes."
    assert reply.headers["Request-Id"].startswith("req_")


def test_body_just_under_the_limit_is_read(raw):
    reply = raw.post("/v1/customers", "description=" + "x" * (MAX_BODY_BYTES - 100))
    # Read and validated (too long for a description), not refused as too large.
    assert reply.status == 400
    assert reply.error["param"] == "description"


# JSON bodies: only /v2 endpoints read them.


def _echo(call):
    return {"object": "echo", **call.params}


@pytest.fixture
async def v2_client(aiohttp_client):
    spec = endpoint(count=Integer(), nested=Hash(fields={"flag": Boolean()}))
    area = Area(name="echo", types=(), endpoints=(Endpoint("POST", "/v2/echo", _echo, spec), Endpoint("POST", "/v1/echo", _echo, spec)))
    client = await aiohttp_client(create_app(areas=(area,)))
    client.session.headers["Authorization"] = "Bearer sk_test_v2"
    return client


async def test_v2_reads_json(v2_client):
    response = await v2_client.post("/v2/echo", data=b'{"count": 3, "nested": {"flag": true}}', headers={"Content-Type": "application/json"})
    assert response.status == 200
    assert await response.json() == {"object": "echo", "count": 3, "nested": {"flag": True}}


async def test_v2_refuses_a_form_body(v2_client):
    response = await v2_client.post("/v2/echo", data=b"count=3")
    assert response.status == 400
    assert (await response.json())["error"]["message"] == "Invalid JSON: the request body could not be parsed."


async def test_v1_reads_the_same_params_as_a_form(v2_client):
    response = await v2_client.post("/v1/echo", data=b"count=3&nested[flag]=true")
    assert await response.json() == {"object": "echo", "count": 3, "nested": {"flag": True}}
    response = await v2_client.post("/v1/echo", data=b'{"count": 3}', headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "parameter_unknown"
