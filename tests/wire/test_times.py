"""v2 times: RFC 3339 parsing and Stripe's millisecond `Z` format, and the `DateTime` param."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mockstripe.wire.errors import StripeError
from mockstripe.wire.params import DateTime, Hash, List, Map, String, validate
from mockstripe.wire.times import format_rfc3339, parse_rfc3339, unix_seconds

T0 = 1_717_243_200  # 2024-06-01T12:00:00Z


@pytest.mark.parametrize(
    "text, unix, formatted",
    [
        ("2024-06-01T12:00:00.000Z", T0, "2024-06-01T12:00:00.000Z"),
        ("2024-06-01T12:00:00Z", T0, "2024-06-01T12:00:00.000Z"),
        ("2024-06-01t12:00:00.5z", T0, "2024-06-01T12:00:00.500Z"),
        ("2024-06-01T14:00:01.123456789+02:00", T0 + 1, "2024-06-01T12:00:01.123Z"),
        ("2024-06-01T11:59:59.999-00:00", T0 - 1, "2024-06-01T11:59:59.999Z"),
    ],
)
def test_parse_and_format(text: str, unix: int, formatted: str) -> None:
    moment = parse_rfc3339(text)
    assert moment is not None and moment.tzinfo == timezone.utc
    assert (unix_seconds(moment), format_rfc3339(moment)) == (unix, formatted)


@pytest.mark.parametrize(
    "text", ["2024-06-01", "2024-06-01T12:00Z", "2024-06-01T12:00:00", "2024-13-01T12:00:00Z", "1717243200", ""]
)
def test_not_rfc3339(text: str) -> None:
    assert parse_rfc3339(text) is None


def test_format_unix_seconds() -> None:
    assert format_rfc3339(T0) == "2024-06-01T12:00:00.000Z"
    assert format_rfc3339(0) == "1970-01-01T00:00:00.000Z"


def test_datetime_param() -> None:
    spec = Hash(fields={"at": DateTime()})
    assert validate(spec, {"at": "2024-06-01T12:00:00Z"}) == {"at": datetime(2024, 6, 1, 12, tzinfo=timezone.utc)}
    for value in (T0, "2024-06-01", True):
        with pytest.raises(StripeError) as caught:
            validate(spec, {"at": value})
        assert caught.value.param == "at"
        assert caught.value.message.endswith("is not an RFC 3339 timestamp such as 2024-06-01T12:00:00.000Z.")


def test_list_min_items() -> None:
    spec = Hash(fields={"events": List(item=String(), min_items=1, max_items=2)})
    assert validate(spec, {"events": ["a"]}) == {"events": ["a"]}
    with pytest.raises(StripeError) as caught:
        validate(spec, {"events": []})
    assert (caught.value.param, caught.value.message) == ("events", "Array events must have at least 1 element.")


def test_string_only_map_refuses_json_numbers_and_booleans() -> None:
    typed = Hash(fields={"payload": Map(max_keys=None, strings_only=True)})
    assert validate(typed, {"payload": {"value": "1"}}) == {"payload": {"value": "1"}}
    for value in (1, 1.5, True):
        with pytest.raises(StripeError) as caught:
            validate(typed, {"payload": {"value": value}})
        assert (caught.value.param, caught.value.message) == ("payload[value]", "Invalid val: value must be a string")
    lenient = Hash(fields={"payload": Map()})
    assert validate(lenient, {"payload": {"value": 1}}) == {"payload": {"value": "1"}}
