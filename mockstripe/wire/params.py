"""Declarative parameter specs and the one validator that enforces them.

Each endpoint describes its parameters once, as a tree of `Param` objects. `validate` coerces
the decoded strings to their declared types and raises Stripe's error for the first problem,
before any handler runs, so a rejected request never changes state.

A value of "" means "unset": optional params that allow it come back as None (for a hash,
None clears it), required ones count as missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from .errors import StripeError, invalid, no_such
from .times import parse_rfc3339

if TYPE_CHECKING:
    from ..store import Account

# ASCII digits only: `\d` would also accept other scripts' digits, which Stripe refuses.
_INTEGER = re.compile(r"^-?[0-9]+$")
_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
# Stripe's integers are signed 64-bit; larger ones could not even be encoded in a response.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT64_DIGITS = 20  # "-9223372036854775808": longer strings are out of range without parsing them
_MAX_DECIMAL_CHARACTERS = 100  # longer is out of any range; Decimal() would still parse it
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")

# Range limits, checked before anything is stored so that no stored number can make a later read,
# list or invoice fail. UNSURE: Stripe's exact figures; it allows amounts of eight digits for most
# currencies and times within years 1970-9999. With these, no computed invoice total nears 2**63.
MAX_AMOUNT = 99_999_999
MAX_QUANTITY = 99_999_999
MAX_DAYS_UNTIL_DUE = 10_000
MAX_INVOICE_SEQUENCE = 999_999_999
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z

# Stripe's metadata limits.
_MAX_METADATA_KEYS = 50
_MAX_METADATA_KEY = 40
_MAX_METADATA_VALUE = 500


def join(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if path else str(key)


@dataclass(frozen=True, kw_only=True)
class Param:
    required: bool = False
    # Whether "" is accepted as "unset". Defaults per type, see `accepts_empty`.
    nullable: bool | None = None

    @property
    def accepts_empty(self) -> bool:
        return bool(self.nullable)

    def coerce(self, value: Any, path: str, account: Account | None) -> Any:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class String(Param):
    max_length: int = 5000

    @property
    def accepts_empty(self) -> bool:
        return self.nullable is not False and not self.required

    def coerce(self, value: Any, path: str, account: Account | None) -> str:
        if not isinstance(value, str):
            raise invalid(f"Invalid string: {_show(value)}", param=path)
        if len(value) > self.max_length:
            raise invalid(
                f"Invalid string: {value[:20]}...; must be at most {self.max_length} characters",
                param=path,
            )
        return value


@dataclass(frozen=True, kw_only=True)
class Integer(Param):
    minimum: int | None = None
    maximum: int | None = None

    def coerce(self, value: Any, path: str, account: Account | None) -> int:
        if isinstance(value, bool) or not isinstance(value, (str, int)) or (
            isinstance(value, str) and not (_INTEGER.match(value) and len(value) <= _INT64_DIGITS)
        ):
            raise invalid(f"Invalid integer: {_show(value)}", param=path, code="parameter_invalid_integer")
        number = int(value)
        if not _INT64_MIN <= number <= _INT64_MAX:
            raise invalid(f"Invalid integer: {_show(value)}", param=path, code="parameter_invalid_integer")
        if self.minimum is not None and number < self.minimum:
            if self.minimum == 0:
                raise invalid("Invalid non-negative integer", param=path, code="parameter_invalid_integer")
            if self.minimum == 1:
                raise invalid("Invalid positive integer", param=path, code="parameter_invalid_integer")
            raise invalid(f"This value must be greater than or equal to {self.minimum}.", param=path)
        if self.maximum is not None and number > self.maximum:
            raise invalid(f"This value must be less than or equal to {self.maximum}.", param=path)
        return number


@dataclass(frozen=True, kw_only=True)
class Boolean(Param):
    def coerce(self, value: Any, path: str, account: Account | None) -> bool:
        if value is True or value == "true":
            return True
        if value is False or value == "false":
            return False
        raise invalid(f"Invalid boolean: {_show(value)}", param=path)


@dataclass(frozen=True)
class Enum(Param):
    values: tuple[str, ...]

    def __init__(self, *values: str, required: bool = False, nullable: bool | None = None) -> None:
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "required", required)
        object.__setattr__(self, "nullable", nullable)

    def coerce(self, value: Any, path: str, account: Account | None) -> str:
        if value not in self.values:
            raise invalid(f"Invalid {path}: must be one of {_one_of(self.values)}", param=path)
        return value


@dataclass(frozen=True, kw_only=True)
class DecimalString(Param):
    max_places: int = 12
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def coerce(self, value: Any, path: str, account: Account | None) -> Decimal:
        text = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        if not isinstance(text, str) or len(text) > _MAX_DECIMAL_CHARACTERS or not _DECIMAL.match(text):
            raise invalid(f"Invalid decimal: {_show(value)}", param=path)
        number = Decimal(text)
        exponent = number.as_tuple().exponent  # an int: the pattern admits no NaN or Infinity
        if isinstance(exponent, int) and -exponent > self.max_places:
            raise invalid(
                f"Invalid decimal: {text}; must have at most {self.max_places} decimal places", param=path
            )
        if self.minimum is not None and number < self.minimum:
            raise invalid(f"Invalid decimal: {text}; must be at least {self.minimum}", param=path)
        if self.maximum is not None and number > self.maximum:
            raise invalid(f"Invalid decimal: {text}; must be at most {self.maximum}", param=path)
        return number


@dataclass(frozen=True, kw_only=True)
class Number(Param):
    """A JSON number (`float` in the spec), or with `decimal` a decimal string kept as a string."""

    decimal: bool = False

    def coerce(self, value: Any, path: str, account: Account | None) -> float | str:
        text = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not _DECIMAL.match(text):
            raise invalid(f"Invalid decimal: {_show(value)}", param=path)
        return text if self.decimal else float(text)


@dataclass(frozen=True, kw_only=True)
class Currency(Param):
    """A three-letter ISO currency code; Stripe answers in lowercase whatever case it was sent in."""

    def coerce(self, value: Any, path: str, account: Account | None) -> str:
        if not isinstance(value, str) or not _CURRENCY.match(value):
            raise invalid(f"Invalid currency: {_show(value)}.", param=path)
        return value.lower()


@dataclass(frozen=True, kw_only=True)
class DateTime(Param):
    """A v2 time: an RFC 3339 string such as `2024-06-01T12:00:00.000Z`, coerced to a UTC datetime."""

    def coerce(self, value: Any, path: str, account: Account | None) -> datetime:
        moment = parse_rfc3339(value) if isinstance(value, str) else None
        if moment is None:
            # UNSURE: Stripe's wording for a malformed v2 timestamp.
            raise invalid(
                f"Invalid {path}: {_show(value)} is not an RFC 3339 timestamp such as "
                "2024-06-01T12:00:00.000Z.",
                param=path,
            )
        return moment


@dataclass(frozen=True, kw_only=True)
class Literal(Param):
    """A single accepted word, used inside `AnyOf` (for example `up_to=inf`)."""

    word: str

    def coerce(self, value: Any, path: str, account: Account | None) -> str:
        if value != self.word:
            raise invalid(f"Invalid {path}: must be {self.word}", param=path)
        return value


@dataclass(frozen=True)
class AnyOf(Param):
    """The first alternative that accepts the value wins (`up_to`: an integer or `inf`)."""

    options: tuple[Param, ...]

    def __init__(self, *options: Param, required: bool = False, nullable: bool | None = None) -> None:
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "required", required)
        object.__setattr__(self, "nullable", nullable)

    def coerce(self, value: Any, path: str, account: Account | None) -> Any:
        errors: list[tuple[Param, StripeError]] = []
        for option in self.options:
            try:
                return option.coerce(value, path, account)
            except StripeError as error:
                errors.append((option, error))
        # A hash's own problem (`created[foo]`) says more than "Invalid integer: a hash".
        for option, failure in errors:
            if isinstance(option, Hash) == isinstance(value, dict):
                raise failure
        raise errors[0][1]


@dataclass(frozen=True, kw_only=True)
class Ref(Param):
    """The id of an object that must exist in the caller's account (400 `resource_missing`)."""

    object_type: str
    noun: str | None = None

    def coerce(self, value: Any, path: str, account: Account | None) -> str:
        if not isinstance(value, str):
            raise invalid(f"Invalid string: {_show(value)}", param=path)
        if account is not None and account.find(self.object_type, value) is None:
            raise no_such(self.noun or self.object_type, value, path)
        return value


@dataclass(frozen=True, kw_only=True)
class Map(Param):
    """Free-form string→string hash: `metadata` (with Stripe's limits) or a meter event `payload`."""

    max_keys: int | None = _MAX_METADATA_KEYS
    max_key_length: int | None = _MAX_METADATA_KEY
    max_value_length: int | None = _MAX_METADATA_VALUE
    # Refuse JSON numbers and booleans as values (v2 bodies are typed: a string map takes strings).
    strings_only: bool = False

    @property
    def accepts_empty(self) -> bool:
        return self.nullable is not False and not self.required

    def coerce(self, value: Any, path: str, account: Account | None) -> dict[str, str | None]:
        if not isinstance(value, dict):
            raise invalid("Invalid hash", param=path)
        if self.max_keys is not None and len(value) > self.max_keys:
            raise invalid(f"Invalid {path}: must have at most {self.max_keys} keys", param=path)
        result: dict[str, str | None] = {}
        for key, item in value.items():
            if self.max_key_length is not None and len(key) > self.max_key_length:
                raise invalid(
                    f"Invalid {path}: keys must be at most {self.max_key_length} characters (got {key!r})",
                    param=join(path, key),
                )
            if item is None and not self.strings_only:  # JSON null unsets a key, as "" does
                result[key] = None
                continue
            if isinstance(item, (dict, list)) or (self.strings_only and not isinstance(item, str)):
                raise invalid(f"Invalid val: {key} must be a string", param=join(path, key))
            text = _scalar_text(item)
            if self.max_value_length is not None and len(text) > self.max_value_length:
                raise invalid(
                    f"Invalid val: {text[:20]}... must be a string under {self.max_value_length} characters",
                    param=join(path, key),
                )
            result[key] = None if text == "" else text
        return result


Metadata = Map


@dataclass(frozen=True, kw_only=True)
class List(Param):
    item: Param
    min_items: int = 0
    max_items: int | None = None

    def coerce(self, value: Any, path: str, account: Account | None) -> list[Any]:
        if isinstance(value, dict):
            raise invalid("Invalid array", param=path)
        if not isinstance(value, list):
            value = [value]
        if len(value) < self.min_items:
            # UNSURE: Stripe's wording for an array that is too short.
            plural = "s" if self.min_items > 1 else ""
            raise invalid(f"Array {path} must have at least {self.min_items} element{plural}.", param=path)
        if self.max_items is not None and len(value) > self.max_items:
            raise invalid(
                f"Array {path} exceeded maximum {self.max_items} allowed elements.", param=path
            )
        return [self._element(element, join(path, i), account) for i, element in enumerate(value)]

    def _element(self, value: Any, path: str, account: Account | None) -> Any:
        # "" unsets a param; an array element has nothing to unset, so it never becomes a null entry.
        if value == "" or value is None:
            raise cannot_unset(path)
        return self.item.coerce(value, path, account)


@dataclass(frozen=True, kw_only=True)
class Hash(Param):
    """A nested object: unknown keys, missing required keys and exclusive groups are errors."""

    fields: Mapping[str, Param] = field(default_factory=dict)
    # Groups of keys of which at most one may be given.
    exclusive: tuple[tuple[str, ...], ...] = ()
    # Extra cross-field checks, run on the coerced hash once every field is valid.
    checks: tuple[Callable[[dict[str, Any], str], None], ...] = ()

    @property
    def accepts_empty(self) -> bool:
        return self.nullable is True

    # Derived once from `fields`: a request names a few of a spec's many keys, and only those are visited.
    @cached_property
    def _position(self) -> dict[str, int]:
        return {key: i for i, key in enumerate(self.fields)}

    @cached_property
    def _required(self) -> frozenset[str]:
        return frozenset(key for key, spec in self.fields.items() if spec.required)

    def coerce(self, value: Any, path: str, account: Account | None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise invalid("Invalid hash", param=path or None)
        unknown = [join(path, key) for key in value if key not in self.fields]
        if unknown:
            plural = "s" if len(unknown) > 1 else ""
            raise invalid(
                f"Received unknown parameter{plural}: {', '.join(unknown)}",
                param=unknown[0],
                code="parameter_unknown",
            )
        for group in self.exclusive:
            given = [key for key in group if key in value]
            if len(given) > 1:
                raise invalid(
                    f"You may only specify one of these parameters: {', '.join(given)}.",
                    param=join(path, given[0]),
                )
        # The keys given and those required, in the spec's order: that of the result and of the errors.
        visited = sorted(value.keys() | self._required, key=self._position.__getitem__)
        result: dict[str, Any] = {}
        for key in visited:
            if key not in value:
                raise missing(join(path, key))
            result[key] = _coerce(self.fields[key], value[key], join(path, key), account)
        for check in self.checks:
            check(result, path)
        return result


def _coerce(spec: Param, value: Any, path: str, account: Account | None) -> Any:
    if value == "" or value is None:
        if spec.required:
            raise missing(path)
        if spec.accepts_empty or value is None:
            return None
        raise cannot_unset(path)
    return spec.coerce(value, path, account)


def cannot_unset(path: str) -> StripeError:
    return invalid(
        f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{path}' cannot be unset. You should remove '{path}' from "
        "your request or supply a non-empty value.",
        param=path,
        code="parameter_invalid_empty",
    )


def missing(path: str) -> StripeError:
    return invalid(f"Missing required param: {path}.", param=path, code="parameter_missing")


def validate(spec: Hash, params: dict[str, Any], account: Account | None = None) -> dict[str, Any]:
    """Coerce `params` against `spec`, raising Stripe's error for the first problem."""
    return spec.coerce(params, "", account)


def _one_of(values: Iterable[str]) -> str:
    words = list(values)
    if len(words) <= 2:
        return " or ".join(words)
    return ", ".join(words[:-1]) + ", or " + words[-1]


def _scalar_text(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a hash" if isinstance(value, dict) else "an array"
    return _scalar_text(value)


# Shapes shared by many endpoints.
EXPAND = List(item=String())


def fields(**specs: Param) -> dict[str, Param]:
    """Every endpoint accepts `expand`; this adds it so no spec forgets."""
    return {**specs, "expand": EXPAND}


def endpoint(*, exclusive: Any = (), checks: Any = (), **specs: Param) -> Hash:
    """The top-level hash of an endpoint's params: `exclusive` and `checks` as `Hash` takes them.
    (They are typed Any because a type checker matches a spread `**dict[str, Param]` against them too.)"""
    return Hash(fields=fields(**specs), exclusive=exclusive, checks=checks)


def require_one(*names: str) -> Callable[[dict[str, Any], str], None]:
    """A check: at least one of `names` must be given (Stripe reports the first as missing)."""

    def check(values: dict[str, Any], path: str) -> None:
        if not any(values.get(name) is not None for name in names):
            raise missing(join(path, names[0]))

    return check


@dataclass(frozen=True, kw_only=True)
class Unsupported(Param):
    """A parameter Stripe accepts that this server deliberately does not implement."""

    def coerce(self, value: Any, path: str, account: Account | None) -> Any:
        raise invalid(
            f"The parameter {path} is not supported by mockstripe. Leave it out, or see the README "
            "for what is implemented.",
            param=path,
        )


TIMESTAMP = Integer(minimum=0, maximum=MAX_TIMESTAMP)
AMOUNT = Integer(minimum=0, maximum=MAX_AMOUNT)
AMOUNT_DECIMAL = DecimalString(minimum=Decimal(0), maximum=Decimal(MAX_AMOUNT))
QUANTITY = Integer(minimum=0, maximum=MAX_QUANTITY)
CREATED_FILTER = AnyOf(
    Integer(),
    Hash(fields={"gt": Integer(), "gte": Integer(), "lt": Integer(), "lte": Integer()}),
)


def merge_metadata(current: dict[str, str], given: dict[str, str | None] | None) -> dict[str, str]:
    """Stripe's metadata update: keys merge, an empty value deletes a key, an empty hash clears all."""
    if given is None:
        return {}
    merged = dict(current)
    for key, value in given.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


# `discounts[]` wherever Stripe takes them: each a coupon or a promotion code to redeem, or an
# existing discount to keep; "" removes them all.
DISCOUNTS = List(
    item=Hash(
        fields={
            "coupon": Ref(object_type="coupon", noun="coupon"),
            "promotion_code": Ref(object_type="promotion_code", noun="promotion code"),
            "discount": String(max_length=5000),
        },
        exclusive=(("coupon", "discount", "promotion_code"),),
        checks=(require_one("coupon", "discount", "promotion_code"),),
    ),
    max_items=20,
    nullable=True,
)
