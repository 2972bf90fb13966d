"""Collection functions: contains, empty, first, last, intersection, union, join, skip, take, length.

Collections are strings, arrays and (for contains, empty, intersection, union) objects. Array
membership uses the same equality as ``equals()``.
"""
from __future__ import annotations

from ..errors import EvaluationError
from ..functions import function
from ..values import describe, to_text, type_name


@function("contains", "collection: string|array|object", "value: any")
def contains(collection, value):
    if isinstance(collection, list):
        return any(item == value for item in collection)
    if not isinstance(value, str):
        where = "text in a string" if isinstance(collection, str) else "a key in an object"
        raise EvaluationError(f"to look for {where} the value must be a string, not {describe(value)}")
    return value in collection


@function("empty", "collection: string|array|object|null")
def empty(collection):
    return collection is None or len(collection) == 0


@function("first", "collection: string|array|null")
def first(collection):
    if collection is None:
        return None
    if isinstance(collection, str):
        return collection[:1]
    return collection[0] if collection else None


@function("last", "collection: string|array|null")
def last(collection):
    if collection is None:
        return None
    if isinstance(collection, str):
        return collection[-1:]
    return collection[-1] if collection else None


def _same_kind(collections) -> str:
    kinds = {type_name(c) for c in collections}
    if len(kinds) != 1:
        raise EvaluationError("the collections must be all arrays or all objects, not a mix of "
                              + " and ".join(sorted(kinds)))
    return kinds.pop()


@function("intersection", "collection1: array|object", "collections: array|object+")
def intersection(*collections):
    if _same_kind(collections) == "object":
        keys = [key for key in collections[0] if all(key in c and c[key] == collections[0][key] for c in collections)]
        return {key: collections[-1][key] for key in keys}
    result: list = []
    for item in collections[0]:
        if all(item in c for c in collections[1:]) and item not in result:
            result.append(item)
    return result


@function("union", "collection1: array|object", "collections: array|object+")
def union(*collections):
    if _same_kind(collections) == "object":
        merged: dict = {}
        for each in collections:
            merged.update(each)
        return merged
    result: list = []
    for each in collections:
        result.extend(item for item in each if item not in result)
    return result


@function("join", "collection: array", "delimiter: string")
def join(collection, delimiter):
    return delimiter.join(to_text(item) for item in collection)


@function("skip", "collection: array", "count: integer")
def skip(collection, count):
    return collection[max(count, 0):]


@function("take", "collection: string|array", "count: integer")
def take(collection, count):
    return collection[:max(count, 0)]


@function("length", "collection: string|array")
def length(collection):
    return len(collection)
