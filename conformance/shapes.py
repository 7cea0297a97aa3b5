"""Hold JSON objects returned by the server to the fields the official stripe-python SDK declares.

The SDK's resource classes (`stripe.Price`, `stripe.billing.Meter`, ...) annotate every field of
their object, and their inner `StripeObject` classes (`stripe.Price.Recurring`) annotate the nested
hashes. `ShapeChecker.check(obj)` finds the class for `obj["object"]` and checks, recursively:

- every declared field is present, except `deleted`, the fields in `EXPAND_ONLY`, which Stripe
  returns only when expanded, and the nested ones in `MAY_BE_ABSENT`, which Stripe leaves out;
- no field is returned that the SDK does not declare;
- each value has the declared type: int / float / str / bool, decimal strings, `None` only where
  `Optional`, `Literal` values, nested objects, lists, string maps, list objects, and `id | Object`
  for expandable fields.

Deleted objects (`{id, object, deleted: true}`) are checked as the stub they are. The checker also
records which declared fields were returned, per object type, for the coverage report.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ForwardRef, Iterable, Literal, Union

import stripe
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES, V2_OBJECT_CLASSES
from stripe._search_result_object import SearchResultObject
from stripe._stripe_object import StripeObject, UntypedStripeObject
from stripe.events._event_classes import get_v2_event_class

# Declared fields that Stripe leaves out of an object unless the request expands them
# (compare the SDK classes with Stripe's example objects: these are the ones the examples omit).
EXPAND_ONLY: dict[str, frozenset[str]] = {
    "coupon": frozenset({"applies_to", "currency_options"}),
    "customer": frozenset({"cash_balance", "invoice_credit_balance", "sources", "subscriptions", "tax", "tax_ids"}),
    "price": frozenset({"currency_options", "tiers"}),
    "plan": frozenset({"tiers"}),
    "invoice": frozenset({"confirmation_secret", "payments"}),
    "checkout.session": frozenset({"line_items"}),
    "charge": frozenset({"refunds"}),
}


def _type_hashes(cls: type, prefix: str, kept: set[str]) -> frozenset[str]:
    """`prefix<name>` for each hash of `cls` named after a payment method type, but those `kept`: an
    object carries only the hash of its own type (a card payment method has `card`, no `sepa_debit`)."""
    names = {
        name
        for klass in cls.__mro__
        for name, annotation in klass.__dict__.get("__annotations__", {}).items()
        if not name.startswith("_") and name not in ("OBJECT_NAME", "type")
        and any(isinstance(arg, type) and issubclass(arg, StripeObject) for arg in typing.get_args(annotation))
    }
    return frozenset(prefix + name for name in names - kept)

# Nested fields (dotted paths inside an object type; `*` stands for any key of a map) that Stripe
# leaves out unless expanded or when they do not apply, e.g. `issuer: {"type": "self"}` has no `account`.
MAY_BE_ABSENT: dict[str, frozenset[str]] = {
    # `account` is for Connect events only, `context` for v2 ones, `previous_attributes` for updates.
    "event": frozenset({"account", "context", "data.previous_attributes"}),
    # The breakdown of a session's totals comes only when expanded.
    "checkout.session": frozenset({"total_details.breakdown"}),
    "invoice": frozenset(
        {"automatic_tax.liability.account", "issuer.account", "parent.subscription_details.subscription_proration_date"}
    ),
    "price": frozenset({"currency_options.*.tiers"}),
    "promotion_code": frozenset({"restrictions.currency_options"}),
    "subscription": frozenset({"automatic_tax.liability.account", "invoice_settings.issuer.account"}),
    "subscription_schedule": frozenset({"default_settings.invoice_settings.issuer.account"}),
    "test_helpers.test_clock": frozenset({"status_details.advancing"}),
    "invoice_payment": frozenset({"payment.charge", "payment.payment_record"}),
    "payment_method": _type_hashes(stripe.PaymentMethod, "", {"billing_details", "card", "radar_options"}),
    "charge": _type_hashes(stripe.Charge.PaymentMethodDetails, "payment_method_details.", {"card"})
    | {"fraud_details.stripe_report", "fraud_details.user_report"},
    "refund": _type_hashes(stripe.Refund.DestinationDetails, "destination_details.", {"card"}),
    "payment_intent": _type_hashes(stripe.PaymentIntent.NextAction, "next_action.", set())
    | _type_hashes(stripe.PaymentIntent.PaymentMethodOptions, "payment_method_options.", {"card"})
    | {
        f"amount_details.{name}"
        for name in ("discount_amount", "error", "line_items", "shipping", "tax", "tip.amount")
    }
    | {
        f"payment_method_options.card.{name}"
        for name in (
            "capture_method", "request_extended_authorization", "request_incremental_authorization",
            "request_multicapture", "request_overcapture", "require_cvc_recollection", "setup_credential_usage",
            "setup_future_usage", "statement_descriptor_suffix_kana", "statement_descriptor_suffix_kanji",
            "stored_credential_usage",
        )
    },
    # The signing secret is in the answer to create only.
    "webhook_endpoint": frozenset({"secret"}),
}

DELETED_STUB = frozenset({"id", "object", "deleted"})
# Objects whose deletion answers the whole object, `deleted: true` added (OpenAPI `deleted_discount`).
DELETED_IN_FULL = {
    "discount": frozenset(
        {
            "checkout_session", "customer", "customer_account", "deleted", "id", "invoice", "invoice_item",
            "object", "promotion_code", "source", "start", "subscription", "subscription_item",
        }
    ),
}
# v2 answers a delete with `{id, object}` and lists as `{data, next_page_url, previous_page_url}`.
V2_DELETED = frozenset({"id", "object"})
V2_LIST = frozenset({"data", "next_page_url", "previous_page_url"})
_NONE = type(None)


@dataclass(frozen=True)
class Schema:
    """The fields one SDK class declares: JSON name -> annotation, and which must be present."""

    fields: dict[str, Any]
    required: frozenset[str]


@dataclass
class Seen:
    """Coverage of one object type: how many were checked and which declared fields they had."""

    declared: frozenset[str]
    expand_only: frozenset[str]
    objects: int = 0
    returned: set[str] = field(default_factory=set)


class ShapeChecker:
    """Checks objects against the SDK's declarations; caches what it learns about each class."""

    def __init__(self) -> None:
        self.coverage: dict[str, Seen] = {}
        self._schemas: dict[type, Schema] = {}
        self._type_checking_imports: dict[str, dict[str, tuple[str, str]]] = {}

    # -- public ---------------------------------------------------------------------------------

    def check(self, obj: Any) -> list[str]:
        """Violations of the SDK's declarations in one top-level response body (empty when it conforms)."""
        if not isinstance(obj, dict):
            return [f"$: expected a JSON object, got {_kind(obj)}"]
        if not obj:  # e.g. the v2 meter event stream answers `{}`
            return []
        problems: list[str] = []
        if obj.keys() == V2_LIST:
            self._check_v2_list(obj, problems)
            return problems
        name = obj.get("object")
        if name is None:
            return ["$: no `object` field"]
        if isinstance(name, str) and name.startswith("v2.") and obj.keys() == V2_DELETED:
            return [] if isinstance(obj["id"], str) else [f"$.id: expected str, got {_kind(obj['id'])}"]
        cls = self.class_for(name, obj)
        if cls is None:
            return [f"$: object type {name!r} is unknown to the SDK"]
        self._check_object(obj, cls, name, problems)
        return problems

    def _check_v2_list(self, obj: dict[str, Any], problems: list[str]) -> None:
        """A v2 list `{data, next_page_url, previous_page_url}`; items by their `object`."""
        for key in ("next_page_url", "previous_page_url"):
            if obj[key] is not None and not isinstance(obj[key], str):
                problems.append(f"$.{key}: expected str or None, got {_kind(obj[key])}")
        if not isinstance(obj["data"], list):
            problems.append(f"$.data: expected list, got {_kind(obj['data'])}")
            return
        for index, element in enumerate(obj["data"]):
            where = f"$.data[{index}]"
            known = isinstance(element, dict) and isinstance(element.get("object"), str)
            cls = self.class_for(element["object"], element) if known else None
            if cls is None:
                problems.append(f"{where}: not an object type the SDK knows")
            else:
                self._check_object(element, cls, where, problems)

    def class_for(self, object_name: str, obj: dict[str, Any] | None = None) -> type | None:
        """The SDK class of an `object` value, or None when the SDK does not know it. A v2 event's
        class follows its `type`, as the SDK deserializes it."""
        if object_name == "v2.core.event" and obj is not None:
            found_event = get_v2_event_class(obj.get("type", ""))
            if found_event is not StripeObject:
                return found_event
        table = V2_OBJECT_CLASSES if object_name.startswith("v2.") else OBJECT_CLASSES
        found = table.get(object_name)
        if found is None:
            return None
        module, name = found
        return getattr(importlib.import_module(module), name)

    def schema(self, cls: type) -> Schema:
        found = self._schemas.get(cls)
        if found is None:
            found = self._schemas[cls] = self._build_schema(cls)
        return found

    def report(self) -> list[str]:
        """The coverage table: per object type, how many of its declared fields the server returned."""
        lines = [f"{'object type':36} {'objects':>7} {'returned/declared':>17}  not returned (* = expand-only)"]
        for name in sorted(self.coverage):
            seen = self.coverage[name]
            returned = len(seen.returned & seen.declared)
            missing = [f + ("*" if f in seen.expand_only else "") for f in sorted(seen.declared - seen.returned)]
            lines.append(
                f"{name:36} {seen.objects:7} {returned:>8}/{len(seen.declared):<8}  {', '.join(missing) or '-'}"
            )
        return lines

    # -- objects --------------------------------------------------------------------------------

    def _check_object(
        self, obj: dict[str, Any], cls: type, path: str, problems: list[str], absent: frozenset[str] = frozenset()
    ) -> None:
        """`absent`: dotted paths below this object that may be left out."""
        if cls is ListObject or cls is SearchResultObject:
            self._check_list(obj, None, cls, path, problems)
            return
        object_name = getattr(cls, "OBJECT_NAME", None)
        if obj.get("deleted") is True and object_name is not None:
            self._check_stub(obj, object_name, path, problems)
            return
        schema = self.schema(cls)
        if object_name is not None:
            if obj.get("object") != object_name:
                problems.append(f"{path}.object: expected {object_name!r}, got {obj.get('object')!r}")
            self._record(object_name, schema, obj)
            absent = EXPAND_ONLY.get(object_name, frozenset()) | MAY_BE_ABSENT.get(object_name, frozenset())
        for name in sorted(schema.required - obj.keys() - absent):
            problems.append(f"{path}.{name}: missing (the SDK declares it)")
        for name, value in obj.items():
            annotation = schema.fields.get(name, _UNKNOWN)
            if annotation is _UNKNOWN:
                problems.append(f"{path}.{name}: not a field of {_qualname(cls)}")
                continue
            below = frozenset(p.partition(".")[2] for p in absent if p.startswith(name + "."))
            self._check_value(value, annotation, cls, f"{path}.{name}", problems, below)

    def _check_stub(self, obj: dict[str, Any], object_name: str, path: str, problems: list[str]) -> None:
        expected = DELETED_IN_FULL.get(object_name, DELETED_STUB)
        if obj.keys() != expected:
            extra = sorted(obj.keys() ^ expected)
            shown = "id, object, deleted" if expected is DELETED_STUB else f"the fields of a deleted {object_name}"
            problems.append(f"{path}: a deleted {object_name} is exactly {{{shown}}}; differs in {extra}")
        if not isinstance(obj.get("id"), str):
            problems.append(f"{path}.id: expected str, got {_kind(obj.get('id'))}")

    def _check_list(self, obj: dict[str, Any], item: Any, owner: type, path: str, problems: list[str]) -> None:
        """A list object `{object: "list", data, has_more, url}`; items of `item` type, or by their `object`."""
        keys, optional = {"object", "data", "has_more", "url"}, set()
        if obj.get("object") == "search_result":
            keys, optional = keys | {"next_page"}, {"total_count"}
        elif obj.get("object") != "list":
            problems.append(f"{path}.object: expected 'list', got {obj.get('object')!r}")
        if not keys <= obj.keys() <= keys | optional:
            differs = sorted((obj.keys() ^ keys) - optional)
            problems.append(f"{path}: a list object has exactly {sorted(keys)}; differs in {differs}")
        if not isinstance(obj.get("has_more"), bool):
            problems.append(f"{path}.has_more: expected bool, got {_kind(obj.get('has_more'))}")
        if not isinstance(obj.get("url"), str):
            problems.append(f"{path}.url: expected str, got {_kind(obj.get('url'))}")
        data = obj.get("data")
        if not isinstance(data, list):
            problems.append(f"{path}.data: expected list, got {_kind(data)}")
            return
        for index, element in enumerate(data):
            where = f"{path}.data[{index}]"
            if item is not None:
                self._check_value(element, item, owner, where, problems)
            elif isinstance(element, dict) and isinstance(element.get("object"), str):
                cls = self.class_for(element["object"])
                if cls is None:
                    problems.append(f"{where}: object type {element['object']!r} is unknown to the SDK")
                else:
                    self._check_object(element, cls, where, problems)
            else:
                problems.append(f"{where}: expected an object with an `object` field, got {_kind(element)}")

    # -- values ---------------------------------------------------------------------------------

    def _check_value(
        self,
        value: Any,
        annotation: Any,
        owner: type,
        path: str,
        problems: list[str],
        absent: frozenset[str] = frozenset(),
    ) -> None:
        """Check `value` against one annotation (as written in `owner`'s module)."""
        annotation = self._resolve(annotation, owner)
        origin = typing.get_origin(annotation)
        if annotation is Any or isinstance(annotation, typing.TypeVar):
            return
        if origin is Union:
            self._check_union(value, typing.get_args(annotation), owner, path, problems, absent)
        elif origin is Literal:
            if value not in typing.get_args(annotation) or isinstance(value, bool) != _all_bool(annotation):
                problems.append(f"{path}: {value!r} is not one of {list(typing.get_args(annotation))}")
        elif origin is list:
            if not isinstance(value, list):
                problems.append(f"{path}: expected list, got {_kind(value)}")
                return
            (item,) = typing.get_args(annotation) or (Any,)
            for index, element in enumerate(value):
                self._check_value(element, item, owner, f"{path}[{index}]", problems)
        elif origin in (dict, UntypedStripeObject):
            if not isinstance(value, dict):
                problems.append(f"{path}: expected a map, got {_kind(value)}")
                return
            item = typing.get_args(annotation)[-1]
            below = frozenset(p[2:] for p in absent if p.startswith("*."))
            for key, element in value.items():
                self._check_value(element, item, owner, f"{path}[{key!r}]", problems, below)
        elif origin in (ListObject, SearchResultObject):
            if not isinstance(value, dict):
                problems.append(f"{path}: expected a list object, got {_kind(value)}")
                return
            (item,) = typing.get_args(annotation)
            self._check_list(value, item, owner, path, problems)
        elif isinstance(annotation, type) and issubclass(annotation, StripeObject):
            if not isinstance(value, dict):
                problems.append(f"{path}: expected an object ({_qualname(annotation)}), got {_kind(value)}")
                return
            self._check_object(value, annotation, path, problems, absent)
        elif not _scalar_matches(value, annotation):
            problems.append(f"{path}: expected {_describe(annotation)}, got {_kind(value)} {value!r:.60}")

    def _check_union(
        self, value: Any, options: tuple[Any, ...], owner: type, path: str, problems: list[str], absent: frozenset[str]
    ) -> None:
        options = tuple(self._resolve(option, owner) for option in options)
        if value is None:
            if _NONE not in options:
                problems.append(f"{path}: null, but the SDK does not declare it Optional")
            return
        if isinstance(value, str):
            literals = [o for o in options if typing.get_origin(o) is Literal]
            # `Union[Literal["a", "b"], str]` is how the SDK spells an enum: the value must be one of them.
            if literals:
                allowed = [v for o in literals for v in typing.get_args(o)]
                if value not in allowed:
                    problems.append(f"{path}: {value!r} is not one of {allowed}")
                return
            if any(o is str or _scalar_matches(value, o) for o in options):
                return  # a plain string, a decimal string, or the id of an expandable object
            problems.append(f"{path}: expected {' | '.join(map(_describe, options))}, got str {value!r:.60}")
            return
        candidates = [o for o in options if o is not _NONE and _could_hold(o, value)]
        if not candidates:
            problems.append(f"{path}: expected {' | '.join(map(_describe, options))}, got {_kind(value)}")
            return
        if isinstance(value, dict) and isinstance(value.get("object"), str) and len(candidates) > 1:
            by_name = [o for o in candidates if getattr(o, "OBJECT_NAME", None) == value["object"]]
            candidates = by_name or candidates
        attempts = []
        for option in candidates:
            found: list[str] = []
            self._check_value(value, option, owner, path, found, absent)
            if not found:
                return
            attempts.append(found)
        problems.extend(min(attempts, key=len))

    # -- annotations ----------------------------------------------------------------------------

    def _build_schema(self, cls: type) -> Schema:
        fields: dict[str, Any] = {}
        remap: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            remap.update(klass.__dict__.get("_field_remappings", {}))
            for name, annotation in klass.__dict__.get("__annotations__", {}).items():
                if name.startswith("_") or name == "OBJECT_NAME" or _is_classvar(annotation):
                    continue
                fields[remap.get(name, name)] = annotation
        return Schema(fields=fields, required=frozenset(fields) - {"deleted"})

    def _record(self, object_name: str, schema: Schema, obj: dict[str, Any]) -> None:
        seen = self.coverage.get(object_name)
        if seen is None:
            declared = frozenset(schema.fields) - {"deleted"}
            seen = self.coverage[object_name] = Seen(declared, EXPAND_ONLY.get(object_name, frozenset()))
        seen.objects += 1
        seen.returned.update(obj.keys())

    def _resolve(self, annotation: Any, owner: type) -> Any:
        """Turn a forward reference (`"Product"`, `ForwardRef("Product")`) into the class it names."""
        if isinstance(annotation, ForwardRef):
            annotation = annotation.__forward_arg__
        if not isinstance(annotation, str):
            return annotation
        module = sys.modules[owner.__module__]
        found = getattr(module, annotation, None)
        if found is not None:
            return found
        source, name = self._imports_of(module).get(annotation, (None, annotation))
        if source is None:
            raise LookupError(f"cannot resolve {annotation!r} in {module.__name__}")
        return getattr(importlib.import_module(source), name)

    def _imports_of(self, module: Any) -> dict[str, tuple[str, str]]:
        """The names a module imports under `if TYPE_CHECKING:` (its forward references)."""
        found = self._type_checking_imports.get(module.__name__)
        if found is None:
            found = self._type_checking_imports[module.__name__] = dict(_type_checking_imports(module))
        return found


def _type_checking_imports(module: Any) -> Iterable[tuple[str, tuple[str, str]]]:
    tree = ast.parse(inspect.getsource(module))
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    for alias in statement.names:
                        yield alias.asname or alias.name, (statement.module, alias.name)


class _Unknown:
    pass


_UNKNOWN = _Unknown()


def _is_classvar(annotation: Any) -> bool:
    return typing.get_origin(annotation) is typing.ClassVar or annotation is typing.ClassVar


def _all_bool(literal: Any) -> bool:
    return all(isinstance(v, bool) for v in typing.get_args(literal))


def _scalar_matches(value: Any, annotation: Any) -> bool:
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if annotation is Decimal:
        return isinstance(value, str) and _is_decimal(value)
    if annotation is _NONE:
        return value is None
    return False


def _is_decimal(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def _could_hold(annotation: Any, value: Any) -> bool:
    """Whether a JSON value of this kind could be an instance of the annotation at all."""
    origin = typing.get_origin(annotation)
    if annotation is Any or isinstance(annotation, typing.TypeVar):
        return True
    if origin is Literal:
        return value in typing.get_args(annotation)
    if origin is list:
        return isinstance(value, list)
    if origin in (dict, UntypedStripeObject, ListObject, SearchResultObject):
        return isinstance(value, dict)
    if isinstance(annotation, type) and issubclass(annotation, StripeObject):
        return isinstance(value, dict)
    return _scalar_matches(value, annotation)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if annotation is _NONE:
        return "null"
    if origin is Literal:
        return " | ".join(map(repr, typing.get_args(annotation)))
    if origin is not None:
        return getattr(origin, "__name__", str(origin))
    return _qualname(annotation) if isinstance(annotation, type) else str(annotation)


def _qualname(cls: type) -> str:
    return cls.__qualname__
