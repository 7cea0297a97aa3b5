"""Stripe's OpenAPI spec, as the generated table in `mockstripe/data/spec_table.json.gz` holds it
(see scripts/generate_spec_table.py for its provenance), and what the server derives from it:

- `Operation`s: every v1 route with its kind (create, retrieve, ...) and the object type it answers;
- `params_of`: an operation's parameter schema translated into the `wire.params` tree, so the one
  validator enforces it with Stripe's errors;
- `blank_object`: a new object of a type, from Stripe's example object and its schema;
- `object_types`: each object type's expandable paths, for `expand[]`.

The table is read once per process (immutable data); everything derived from it is built on first
use, per operation or type.
"""

from __future__ import annotations

import copy
import functools
import gzip
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Mapping

import orjson

from .errors import invalid
from .objects import ListOf, ObjectType, Shape
from .params import (
    AnyOf,
    Boolean,
    Currency,
    Enum,
    Hash,
    Integer,
    List,
    Map,
    Number,
    Param,
    Ref,
    String,
)

Schema = dict[str, Any]
Obj = dict[str, Any]

# How deep parameter and object schemas are followed; deeper (or recursive) parts accept anything.
_MAX_DEPTH = 8

# Request parameters that name an object the account must hold (`resource_missing` otherwise).
# Payment methods, sources and tokens are left out: Stripe's test tokens (`pm_card_visa`) name
# objects no one created.
REFERENCES: Mapping[str, str] = {
    "customer": "customer",
    "price": "price",
    "product": "product",
    "subscription": "subscription",
    "subscription_item": "subscription_item",
    "invoice": "invoice",
    "test_clock": "test_helpers.test_clock",
    "coupon": "coupon",
    "promotion_code": "promotion_code",
    "payment_intent": "payment_intent",
    "setup_intent": "setup_intent",
    "charge": "charge",
    "tax_rate": "tax_rate",
    "subscription_schedule": "subscription_schedule",
}


@dataclass(frozen=True, eq=False)  # hashed by identity: one per row of the table
class Operation:
    method: str
    path: str  # as the spec writes it, e.g. `/v1/customers/{customer}/tax_ids`
    kind: str  # create, retrieve, update, delete, list, search, singleton or action
    object: str | None  # the object type answered (or listed), if any
    is_list: bool
    path_params: tuple[str, ...]
    params_schema: Schema
    content_type: str

    @property
    def route_key(self) -> tuple[str, str]:
        return route_key(self.method, self.path)

    @property
    def returns(self) -> Shape | None:
        if self.object is None:
            return None
        return ListOf(self.object) if self.is_list else self.object


def route_key(method: str, path: str) -> tuple[str, str]:
    """(method, path with its parameters unnamed): a hand-built `/v1/prices/{price}` and the spec's
    `/v1/prices/{price}` or `{id}` are the same route."""
    return method, re.sub(r"\{[^}]*\}", "{}", path)


@functools.cache
def table() -> dict[str, Any]:
    data = resources.files("mockstripe").joinpath("data/spec_table.json.gz").read_bytes()
    return orjson.loads(gzip.decompress(data))


def source() -> dict[str, str]:
    return table()["source"]


@functools.cache
def operations() -> tuple[Operation, ...]:
    return tuple(
        Operation(
            method=row["method"],
            path=row["path"],
            kind=row["kind"],
            object=row["object"],
            is_list=row["list"],
            path_params=tuple(row["path_params"]),
            params_schema=row["params"],
            content_type=row["content_type"],
        )
        for row in table()["operations"]
    )


def schema_of(object_type: str) -> Schema | None:
    name = table()["objects"].get(object_type)
    return None if name is None else table()["schemas"][name]


def resolve(schema: Schema) -> Schema:
    while "$ref" in schema:
        schema = table()["schemas"][schema["$ref"]]
    return schema


# Parameters


@dataclass(frozen=True, kw_only=True)
class Anything(Param):
    """A part of a schema too deep or too loose to check: taken as sent, unless nested deeper
    than any Stripe parameter is (which could not even be encoded back)."""

    @property
    def accepts_empty(self) -> bool:
        return True

    def coerce(self, value: Any, path: str, account: Any) -> Any:
        if _nesting(value) > _MAX_NESTING:
            raise invalid("Invalid hash: nested too deeply", param=path)
        return value


_MAX_NESTING = 8


def _nesting(value: Any, depth: int = 0) -> int:
    if depth > _MAX_NESTING or not isinstance(value, (dict, list)):
        return depth
    items = value.values() if isinstance(value, dict) else value
    return max((_nesting(item, depth + 1) for item in items), default=depth + 1)


def _is_empty_option(schema: Schema) -> bool:
    """The `enum: [""]` alternative the spec adds to a parameter that can be unset."""
    return schema.get("enum") == [""]


def to_param(schema: Schema, name: str = "", required: bool = False, depth: int = 0) -> Param:
    """The `wire.params` tree of a request schema (`name` is the parameter's own name)."""
    if depth > _MAX_DEPTH:
        return Anything(required=required)
    schema = resolve(schema)
    options = schema.get("anyOf")
    if options:
        kept = [o for o in options if not _is_empty_option(o)]
        nullable = len(kept) < len(options) or None
        if len(kept) == 1:
            return _with(to_param(kept[0], name, required, depth + 1), required, nullable)
        return AnyOf(*(to_param(o, name, False, depth + 1) for o in kept), required=required, nullable=nullable)
    nullable = True if schema.get("nullable") else None
    kind = schema.get("type")
    if "enum" in schema and kind == "string":
        return Enum(*schema["enum"], required=required, nullable=nullable)
    if kind == "string":
        if name == "currency":
            return Currency(required=required, nullable=nullable)
        if name in REFERENCES and schema.get("maxLength") == 5000:
            return Ref(object_type=REFERENCES[name], noun=name.replace("_", " "), required=required, nullable=nullable)
        if schema.get("format") == "decimal":
            return Number(required=required, nullable=nullable, decimal=True)
        return String(required=required, nullable=nullable, max_length=schema.get("maxLength", 5000))
    if kind == "integer":
        return Integer(required=required, nullable=nullable)
    if kind == "number":
        return Number(required=required, nullable=nullable)
    if kind == "boolean":
        return Boolean(required=required, nullable=nullable)
    if kind == "array":
        return List(item=to_param(schema.get("items", {}), "", False, depth + 1), required=required, nullable=nullable)
    if kind == "object":
        properties = schema.get("properties")
        if properties:
            needed = set(schema.get("required", ()))
            return Hash(
                fields={k: to_param(v, k, k in needed, depth + 1) for k, v in properties.items()},
                required=required,
                nullable=nullable,
            )
        if name == "metadata":
            return Map(required=required, nullable=nullable)
        if "additionalProperties" in schema:
            return Map(required=required, nullable=nullable, max_keys=None, max_key_length=None, max_value_length=None)
        return Hash(fields={}, required=required, nullable=nullable)
    return Anything(required=required)


def _with(param: Param, required: bool, nullable: bool | None) -> Param:
    """`param`, accepting "" when the spec allows unsetting it (a copy: `Enum` and `AnyOf` take
    their choices positionally, so `dataclasses.replace` cannot rebuild them)."""
    if nullable is None or param.nullable:
        return param
    clone = copy.copy(param)
    object.__setattr__(clone, "nullable", nullable)
    return clone


@functools.cache
def params_of(operation: Operation) -> Hash:
    """The operation's parameters as one `Hash` (path parameters are not among them)."""
    param = to_param(operation.params_schema)
    return param if isinstance(param, Hash) else Hash(fields={})


# Objects


def noun(object_type: str) -> str:
    """As in "No such payment_intent: 'pi_x'": Stripe names objects of the types it has no
    wording for by their type. UNSURE: for the generic types, the type name as it is."""
    return object_type


def _type_matches(value: Any, schema: Schema, depth: int) -> bool:
    """Whether an example value fits its schema (Stripe's examples and schemas differ in places)."""
    if value is None:
        return bool(schema.get("nullable"))
    schema = resolve(schema)
    if "anyOf" in schema:
        return any(_type_matches(value, o, depth) for o in schema["anyOf"]) or (
            value is None and bool(schema.get("nullable"))
        )
    kind = schema.get("type")
    if kind == "string":
        return isinstance(value, str) and ("enum" not in schema or value in schema["enum"])
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list) and all(_type_matches(v, schema.get("items", {}), depth + 1) for v in value)
    if kind == "object":
        return isinstance(value, dict)
    return True


def default_value(schema: Schema, depth: int = 0) -> Any:
    """A plausible empty value of a schema: null where allowed, else zero, empty or the first choice."""
    if schema.get("nullable"):
        return None
    schema = resolve(schema)
    if schema.get("nullable"):
        return None
    if "anyOf" in schema:
        options = [resolve(o) for o in schema["anyOf"]]
        # An id-or-object field holds an id; anything else, its first form.
        plain = [o for o in options if o.get("type") == "string"] or options
        return default_value(plain[0], depth + 1)
    kind = schema.get("type")
    if kind == "string":
        return schema["enum"][0] if schema.get("enum") else ""
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object" and depth < _MAX_DEPTH:
        properties = schema.get("properties", {})
        if properties.get("object", {}).get("enum") == ["list"]:
            return {"object": "list", "data": [], "has_more": False, "url": ""}
        return {k: default_value(v, depth + 1) for k, v in properties.items() if k in schema.get("required", ())}
    return {} if kind == "object" else None


def shaped(example: Any, schema: Schema, depth: int = 0, every_field: bool = False) -> Any:
    """`example` made to fit `schema`: the fields the schema requires (with `every_field`, all it
    declares), each from the example where it fits, else a default; fields the schema does not
    know are dropped."""
    schema = resolve(schema) if not schema.get("nullable") else schema
    target = resolve(schema)
    properties = target.get("properties")
    if not properties or not isinstance(example, dict) or depth > _MAX_DEPTH:
        return example if _type_matches(example, schema, depth) else default_value(schema, depth)
    required = set(target.get("required", ()))
    result = {}
    for key, sub in properties.items():
        if key in example:
            result[key] = shaped(example[key], sub, depth + 1, every_field) if example[key] is not None else (
                None if _nullable(sub) else default_value(sub, depth + 1)
            )
        elif every_field and _nullable(sub):
            result[key] = None
        elif key in required or every_field:
            value = default_value(sub, depth + 1)
            result[key] = shaped(value, sub, depth + 1, every_field) if isinstance(value, dict) else value
    return result


def _nullable(schema: Schema) -> bool:
    return bool(schema.get("nullable") or resolve(schema).get("nullable"))


@functools.cache
def _template(object_type: str) -> bytes:
    """The encoded blank object of a type (copied per use by decoding)."""
    schema = schema_of(object_type) or {}
    example = table()["fixtures"].get(object_type)
    blank = shaped(example, schema) if example is not None else default_value(schema)
    if not isinstance(blank, dict):
        blank = {}
    blank = {key: _scrubbed(value, (schema.get("properties") or {}).get(key, {}), key) for key, value in blank.items()}
    if "livemode" in blank:
        blank["livemode"] = False
    if "object" in blank:
        blank["object"] = object_type
    return orjson.dumps(blank)


# An object id, a client secret or a URL of Stripe's examples: they name nothing in this account.
_EXAMPLE_REFERENCE = re.compile(r"^([a-z]+_)+[A-Za-z0-9]{8,}|^https?://")


def _scrubbed(value: Any, schema: Schema, key: str, depth: int = 0) -> Any:
    """An example value with what names Stripe's example objects and times taken out: nulled
    where the schema allows, kept otherwise."""
    if key in ("id", "object") and depth == 0:
        return value
    target = resolve(schema) if schema else {}
    if len(target.get("anyOf", ())) == 1:
        target = resolve(target["anyOf"][0])
    if isinstance(value, dict) and depth < _MAX_DEPTH:
        properties = target.get("properties") or {}
        return {k: _scrubbed(v, properties.get(k, {}), k, depth + 1) for k, v in value.items()}
    if not _nullable(schema) if schema else True:
        return value
    if isinstance(value, str) and _EXAMPLE_REFERENCE.match(value):
        return None
    if isinstance(value, int) and target.get("format") == "unix-time":
        return None
    return value


def blank_object(object_type: str) -> Obj:
    """A fresh copy of an object type's blank object."""
    return orjson.loads(_template(object_type))


def complete_object(object_type: str) -> Obj:
    """An object type's blank object with every field its schema declares, optional ones too."""
    schema = schema_of(object_type) or {}
    return shaped(blank_object(object_type), schema, every_field=True)


@functools.cache
def id_format(object_type: str) -> tuple[str, int]:
    """(prefix, random tail length) of the type's ids, as Stripe's example object shows them."""
    example = table()["fixtures"].get(object_type) or {}
    sample = example.get("id")
    if isinstance(sample, str) and "_" in sample:
        prefix, _, tail = sample.rpartition("_")
        return prefix, min(max(len(tail), 14), 24)
    initials = "".join(word[0] for word in re.split(r"[._]", object_type) if word)
    return initials, 24


def fits(value: Any, schema: Schema) -> bool:
    return _type_matches(value, schema, 0)


# Expansion


def _expansion_target(schema: Schema) -> str | None:
    names = schema.get("x-expansionResources") or resolve(schema.get("items", {})).get("x-expansionResources")
    if not names:
        names = schema.get("items", {}).get("x-expansionResources")
    if not names:
        return None
    found = table()["schemas"][names[0]].get("properties", {}).get("object", {}).get("enum")
    return found[0] if found else None


def _embedded(schema: Schema) -> tuple[Schema, str | None, bool]:
    """(the schema a property holds, its object type if it is an object or a list of them, is a list)."""
    options = schema.get("anyOf")
    if options and len(options) == 1:
        schema = options[0]
    target = resolve(schema)
    properties = target.get("properties", {})
    kind = properties.get("object", {}).get("enum")
    if kind == ["list"] and "data" in properties:
        item = resolve(properties["data"].get("items", {}))
        item_kind = item.get("properties", {}).get("object", {}).get("enum")
        return target, item_kind[0] if item_kind else None, True
    return target, kind[0] if kind else None, False


def _walk(schema: Schema, prefix: str, expandable: dict[str, str], nested: dict[str, Shape], depth: int) -> None:
    for field in schema.get("x-expandableFields", ()):
        sub = schema.get("properties", {}).get(field)
        if sub is None:
            continue
        path = prefix + field
        target = _expansion_target(sub)
        if target is not None:
            expandable[path] = target
            continue
        inner, kind, is_list = _embedded(sub)
        if kind is not None:
            nested[path] = ListOf(kind) if is_list else kind
        elif depth < 3:
            _walk(inner, path + ".", expandable, nested, depth + 1)


@functools.cache
def object_types() -> tuple[ObjectType, ...]:
    """Every object type of the spec, with the paths `expand[]` accepts on it."""
    found = []
    for object_type, name in table()["objects"].items():
        expandable: dict[str, str] = {}
        nested: dict[str, Shape] = {}
        _walk(table()["schemas"][name], "", expandable, nested, 0)
        found.append(ObjectType(name=object_type, noun=noun(object_type), expandable=expandable, nested=nested))
    return tuple(found)
