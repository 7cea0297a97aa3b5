"""Every v1 operation of Stripe's spec that no area builds by hand, answered from the spec.

Each operation's kind (see `wire.spec`) picks its handler: creates store a new object of the
answered type (Stripe's example object, with a new id, `created`, and the parameters that match
its fields), retrieves find it, updates merge into it, lists page through the account's objects
newest first, deletes leave the stub, and actions answer the named object in a plausible state.
Everything goes through the account's store, so events are recorded as for hand-built objects.
These answers are plausible, not faithful: each carries `Mockstripe-Fidelity: generic`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..routing import Area, Call, Download, Endpoint
from ..store import Account
from ..wire.errors import invalid, no_such
from ..wire.ids import random_tail, stable_id_like
from ..wire.lists import in_range, list_object
from ..wire.params import Hash, merge_metadata
from ..wire.spec import (
    REFERENCES,
    Operation,
    blank_object,
    fits,
    id_format,
    noun,
    object_types,
    operations,
    params_of,
    resolve,
    route_key,
    schema_of,
)

Obj = dict[str, Any]

FIDELITY = "generic"

# The status an action leaves its object in, where the action's name alone does not tell (the others
# take the status value that starts like the action: cancel -> canceled, expire -> expired, ...).
# Applied only when the object's schema lists that status.
PLAUSIBLE_STATUS: dict[str, str] = {
    "confirm": "succeeded",
    "capture": "succeeded",
    "finalize": "open",
    "pay": "paid",
    "mark_uncollectible": "uncollectible",
    "activate": "active",
    "deactivate": "inactive",
    "submit": "submitted",
}

# UNSURE: how to answer a request that would make an object of a hand-built type another way.
CREATED_BY_HAND = (
    "{method} {path} is not supported by mockstripe: it would make a {object} another way than "
    "its own endpoint. Create it there instead, or see the README for what is implemented."
)

# Query parameters of a list that are paging, not filters.
_NOT_FILTERS = frozenset({"limit", "starting_after", "ending_before", "expand", "page", "query"})


def _new_id(object_type: str) -> str:
    prefix, length = id_format(object_type)
    return f"{prefix}_{random_tail(length)}"


def _fields(object_type: str | None) -> dict[str, Any]:
    schema = schema_of(object_type) if object_type else None
    return (schema or {}).get("properties", {})


def _changes(obj: Obj, params: dict[str, Any], fields: dict[str, Any]) -> Obj:
    """The fields of `obj` that `params` set: those the object has, given in a type it holds."""
    changes: Obj = {}
    for key, value in params.items():
        schema = fields.get(key)
        if schema is None or key in ("id", "object", "expand"):
            continue
        if key == "metadata" and isinstance(obj.get("metadata"), dict):
            changes[key] = merge_metadata(obj["metadata"], value)
        elif isinstance(value, dict) and isinstance(obj.get(key), dict):
            changes[key] = _merged(obj[key], value, schema)
        elif fits(value, schema):
            changes[key] = value
    return changes


def _merged(current: Obj, given: dict[str, Any], schema: dict[str, Any]) -> Obj:
    """`current` with the parts of a hash parameter that fit it, key by key."""
    fields = _properties(schema)
    merged = dict(current)
    for key, value in given.items():
        if key not in current or key not in fields:
            continue
        if isinstance(value, dict) and isinstance(current[key], dict):
            merged[key] = _merged(current[key], value, fields[key])
        elif fits(value, fields[key]):
            merged[key] = value
    return merged


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    schema = resolve(schema)
    options = schema.get("anyOf") or []
    if len(options) == 1:
        schema = resolve(options[0])
    return schema.get("properties") or {}


def _find_anywhere(account: Account, object_id: str) -> bool:
    return any(collection.get(object_id) is not None for collection in account.collections.values())


def _check_parents(call: Call, names: Iterable[str], last_type: str | None = None) -> None:
    """Each object the path names must be in the account: of its type where the name tells it
    (`last_type` is the type of the last, for the error)."""
    names = tuple(names)
    for name in names:
        value = call.path_params[name]
        object_type = REFERENCES.get(name) or (last_type if name == names[-1] else None)
        if name in REFERENCES:
            found = call.account.find(REFERENCES[name], value) is not None
        else:
            found = value == call.account.own_id or _find_anywhere(call.account, value)
        if not found:
            raise no_such(noun(object_type or name), value, name, status=404)


def _target(op: Operation, call: Call) -> Obj:
    """The object of the answered type the path names last (404 if the account has none)."""
    name = op.path_params[-1]
    _check_parents(call, op.path_params[:-1])
    found = call.account.find(op.object, call.path_params[name]) if op.object else None
    if found is None or not _belongs(op, call, found):
        raise no_such(noun(op.object or name), call.path_params[name], name, status=404)
    return found


def owner_fields(path: str) -> dict[str, str]:
    """Path parameter -> the field that names it on an object under it: its own name, or for an
    `{id}` the noun before it (`/v1/transfers/{id}/reversals`: `transfer`)."""
    segments = path.split("/")
    fields = {}
    for before, segment in zip(segments, segments[1:], strict=False):
        if segment.startswith("{"):
            name = segment[1:-1]
            fields[name] = before.removesuffix("s") if name == "id" else name
    return fields


def _belongs(op: Operation, call: Call, obj: Obj) -> bool:
    """Whether `obj` is the one of the owners the path names (another customer's tax id is not)."""
    known = set(parents_of(call.account, obj).values())
    for name, field in list(owner_fields(op.path).items())[:-1]:
        value, recorded = call.path_params[name], obj.get(field)
        if value not in known and isinstance(recorded, str) and recorded != value:
            return False
    return True


def _new_object(op: Operation, call: Call) -> Obj:
    """A new object of the answered type, from its blank, the parameters and the path."""
    obj = blank_object(op.object) if op.object else {}
    if "id" in obj and op.object:
        obj["id"] = _new_id(op.object)
    if "created" in obj:
        obj["created"] = call.now()
    fields = _fields(op.object)
    for name, field in owner_fields(op.path).items():
        value = call.path_params[name]
        if field in fields and field != "id" and fits(value, fields[field]):
            obj[field] = value
        # ... and where the object says whose it is (a tax id's `owner.customer`).
        for nested in obj.values():
            if isinstance(nested, dict) and isinstance(nested.get(field), str):
                nested[field] = value
    obj.update(_changes(obj, call.params, fields))
    return obj


def create(op: Operation, call: Call) -> Obj:
    _check_parents(call, op.path_params, op.object if op.kind == "action" else None)
    obj = _new_object(op, call)
    if "id" not in obj or not op.object:
        return obj
    # The objects the path names (a product's feature names its product only there).
    return call.account.create(obj, parents=dict(call.path_params))


def parents_of(account: Account, obj: Obj) -> dict[str, str]:
    """The path parameters of the request that created `obj` (`{"product": "prod_..."}`)."""
    return account.collection(obj["object"]).private.get(obj["id"], {}).get("parents", {})


def retrieve(op: Operation, call: Call) -> Obj:
    return _target(op, call)


def update(op: Operation, call: Call) -> Obj:
    obj = _target(op, call)
    return call.account.update(obj, _changes(obj, call.params, _fields(op.object)))


def delete(op: Operation, call: Call) -> Obj:
    if not op.object or not op.path.endswith("}"):
        # Something named by its owner alone (`/v1/customers/{customer}/discount`): nothing is
        # kept of it here, so there is only the stub to answer.
        _check_parents(call, op.path_params)
        if not op.object:
            return {"deleted": True}
        return {"id": stable_id_like(_new_id(op.object), call.path), "object": op.object, "deleted": True}
    return call.account.delete(_target(op, call))


def _matches(call: Call, op: Operation) -> Callable[[Obj], bool]:
    """Keep the objects whose fields equal the filters given in the path and the query."""
    wanted: dict[str, Any] = {name: call.path_params[name] for name in op.path_params}
    created = None
    for key, value in call.params.items():
        if key == "created" and value is not None:
            created = value
        elif key not in _NOT_FILTERS and isinstance(value, (str, int, bool)):
            wanted[key] = value

    def keep(obj: Obj) -> bool:
        parents = parents_of(call.account, obj)
        return all(obj.get(k, parents.get(k, v)) == v for k, v in wanted.items()) and (
            created is None or in_range(obj.get("created", 0), created)
        )

    return keep


def list_objects(op: Operation, call: Call) -> Obj:
    _check_parents(call, op.path_params)
    if not op.object:
        return list_object([], False, call.path)
    return call.page(op.object, _matches(call, op))


# One clause of Stripe's search language that is matched here: `field:'value'` or
# `metadata['key']:'value'`; clauses joined by AND must all hold, by OR any.
_CLAUSE = re.compile(r"""(\w+)(?:\[['"]([^'"]+)['"]\])?\s*:\s*['"]([^'"]*)['"]""")


def _search_matches(query: str) -> Callable[[Obj], bool]:
    """Equality clauses of a search query; anything else in it matches everything."""
    clauses = _CLAUSE.findall(query)
    any_of = " OR " in query

    def holds(obj: Obj, field: str, key: str, value: str) -> bool:
        found = obj.get(field)
        if key:
            found = found.get(key) if isinstance(found, dict) else None
        return str(found).lower() == value.lower() if isinstance(found, (str, int)) else False

    def keep(obj: Obj) -> bool:
        if not clauses:
            return True
        results = (holds(obj, *clause) for clause in clauses)
        return any(results) if any_of else all(results)

    return keep


def search(op: Operation, call: Call) -> Obj:
    limit = call.params.get("limit") or 10
    keep = _search_matches(call.params.get("query") or "")
    found = [o for o in call.account.collection(op.object).newest_first() if keep(o)] if op.object else []
    return {
        "object": "search_result",
        "data": found[:limit],
        "has_more": len(found) > limit,
        "next_page": None,
        "url": call.path,
    }


# A one-page, blank PDF: what a quote's PDF download answers.
BLANK_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def singleton(op: Operation, call: Call) -> Obj | Download:
    """An object named by its path alone (`/v1/balance`): the same one on every call."""
    _check_parents(call, op.path_params)
    if op.content_type == "application/pdf":
        return Download(BLANK_PDF, op.content_type)
    obj = blank_object(op.object) if op.object else {}
    if "id" in obj and op.object:
        obj["id"] = stable_id_like(_new_id(op.object), call.account.key, call.path)
    if "created" in obj:
        obj["created"] = call.now()
    return obj


def _status_after(action: str, object_type: str) -> str | None:
    choices = resolve(_fields(object_type).get("status", {})).get("enum") or ()
    wanted = PLAUSIBLE_STATUS.get(action)
    if wanted in choices:
        return wanted
    stem = action.rstrip("e")
    return next((choice for choice in choices if choice.startswith(stem)), None)


def action(op: Operation, call: Call) -> Obj:
    """A named step on an object (`.../{id}/cancel`), or a request that makes a new one."""
    last = op.path_params[-1] if op.path_params else None
    obj = call.account.find(op.object, call.path_params[last]) if last and op.object else None
    if obj is None:
        # Not a step on an object of its own type: a request that makes one (a token, a report).
        return create(op, call)
    _check_parents(call, op.path_params[:-1])
    changes = _changes(obj, call.params, _fields(op.object))
    status = _status_after(op.path.rsplit("/", 1)[-1], op.object) if op.object else None
    event = "updated"
    if status is not None and obj.get("status") != status:
        changes["status"] = status
        if f"{op.object}.{status}" in call.server.events.known_types:
            event = status
    return call.account.update(obj, changes, action=event)


HANDLERS: dict[str, Callable[[Operation, Call], Obj | Download]] = {
    "create": create,
    "retrieve": retrieve,
    "update": update,
    "delete": delete,
    "list": list_objects,
    "search": search,
    "singleton": singleton,
    "action": action,
}


def unchanged(op: Operation, call: Call) -> Obj:
    """A change to an object whose behaviour is built by hand (a subscription's `resume`): the
    generic layer does not know its rules, so it answers the object as it is rather than risk
    leaving it in a state the hand-built code never makes."""
    return _target(op, call)


def refused(op: Operation, call: Call) -> Obj:
    """A new object of a type built by hand, made another way than its own endpoint: it would
    lack what the hand-built code keeps beside it."""
    raise invalid(CREATED_BY_HAND.format(method=op.method, path=op.path, object=op.object))


@dataclass(frozen=True, kw_only=True)
class SpecParams(Hash):
    """An operation's parameters, translated from the spec on first use: translating all of them
    would cost every server start for the few operations a suite calls."""

    operation: Operation

    def coerce(self, value: Any, path: str, account: Account | None) -> dict[str, Any]:
        return params_of(self.operation).coerce(value, path, account)


def _endpoint(op: Operation, hand_built_types: frozenset[str]) -> Endpoint:
    run = HANDLERS[op.kind]
    if op.object in hand_built_types:
        if op.kind == "create":
            run = refused
        elif op.kind in ("update", "delete") or (op.kind == "action" and op.path_params):
            run = unchanged

    def handle(call: Call) -> Obj | Download:
        return run(op, call)

    return Endpoint(
        op.method,
        op.path,
        handle,
        SpecParams(operation=op),
        f"{op.kind} (generic)",
        returns=op.returns,
        fidelity=FIDELITY,
    )


def area(built_by_hand: Iterable[Area], with_endpoints: bool = True) -> Area:
    """The spec's object types, and generic endpoints for every operation none of the areas
    `built_by_hand` answers."""
    taken = {route_key(e.method, e.path) for a in built_by_hand for e in a.endpoints}
    hand_built_types = frozenset(t.name for a in built_by_hand for t in a.types)
    endpoints = (
        tuple(_endpoint(op, hand_built_types) for op in operations() if op.route_key not in taken)
        if with_endpoints
        else ()
    )
    return Area(name="generic", types=object_types(), endpoints=endpoints)

