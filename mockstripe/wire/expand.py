"""`expand[]`: replace ids with the objects they name, along dotted paths up to 4 levels deep."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from .errors import invalid
from .objects import ObjectType

if TYPE_CHECKING:
    from ..store import Account

MAX_DEPTH = 4


def expand(
    value: dict[str, Any], paths: list[str], types: Mapping[str, ObjectType], account: Account
) -> dict[str, Any]:
    """A copy of `value` with each path expanded; the stored objects are never modified."""
    for path in dict.fromkeys(paths):
        segments = path.split(".")
        if sum(1 for s in segments if s != "data") > MAX_DEPTH:
            raise invalid(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
        value = _walk(value, segments, None, "", path, types, account)
    return value


def _walk(
    value: Any,
    segments: list[str],
    owner: ObjectType | None,
    inner: str,
    path: str,
    types: Mapping[str, ObjectType],
    account: Account,
) -> Any:
    if not isinstance(value, dict):
        return value  # null or an id we could not resolve: nothing to expand into
    head, rest = segments[0], segments[1:]
    if value.get("object") == "list" and "data" in value:
        if head != "data":
            raise _cannot(path, hint=_through_data(path, segments))
        expanded = [_walk(item, rest, None, "", path, types, account) for item in value["data"]] if rest else value["data"]
        return {**value, "data": expanded}
    if isinstance(value.get("object"), str) and value["object"] in types and not inner:
        owner = types[value["object"]]
    if owner is None:
        raise _cannot(path)
    key = inner + head
    if key in owner.expandable and head in value:
        target = value[head]
        if isinstance(target, str):
            target = _fetch(account, owner.expandable[key], target)
        new = _walk(target, rest, None, "", path, types, account) if rest else target
    elif key in owner.expand_only:
        target = owner.expand_only[key](account, value)
        new = _walk(target, rest, None, "", path, types, account) if rest else target
    elif rest and head in value and value[head] is None and _declared_below(owner, [key, *rest]):
        return value  # a null hash on the way to a declared expansion (e.g. `from_invoice.invoice`)
    elif rest and isinstance(value.get(head), dict):
        child = value[head]
        nested_owner = types.get(child.get("object")) if isinstance(child.get("object"), str) else None
        if nested_owner is not None or (child.get("object") == "list"):
            new = _walk(child, rest, nested_owner, "", path, types, account)
        else:
            new = _walk(child, rest, owner, key + ".", path, types, account)
    else:
        raise _cannot(path)
    return {**value, head: new}


def _declared_below(owner: ObjectType, segments: list[str]) -> bool:
    """Whether the path reaches an expansion the owner declares (and possibly goes on inside it)."""
    path = ".".join(segments)
    return any(path == p or path.startswith(p + ".") for p in (*owner.expandable, *owner.expand_only))


def _fetch(account: Account, type_name: str, object_id: str) -> Any:
    # Deleted objects expand to their stub, as on Stripe.
    found = account.collection(type_name).objects.get(object_id)
    return found if found is not None else object_id


def _through_data(path: str, remaining: list[str]) -> str:
    """`path` with `data` inserted where it reached a list: `subscriptions` -> `data.subscriptions`."""
    done = path.split(".")[: -len(remaining)]
    return ".".join([*done, "data", *remaining])


def _cannot(path: str, hint: str | None = None) -> Exception:
    message = f"This property cannot be expanded ({path})."
    if hint:
        message += f" You may want to try expanding '{hint}' instead."
    return invalid(message, param="expand")
