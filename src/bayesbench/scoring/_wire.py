"""Plain-data boundary between the trusted harness and a sandboxed function (stdlib only).

Used twice: the trusted side imports ``encode``/``decode``; the sandbox runs this file's
source as the head of its program and then calls ``serve``. Nothing that crosses is code or
an object with behaviour: one JSON line per call and per reply. Values JSON lacks get a tag,
so that equality on the trusted side is exact: ``{"$": "tuple", "v": [...]}`` (also ``set``,
``frozenset``, ``dict`` as key/value pairs, ``bytes`` as hex) and ``{"$": "float", "v": "inf"}``
(``-inf``, ``nan``). Every JSON object is a tag, so a dict can never pose as one. A subclass
of a built-in type (``Counter``, a namedtuple, a ``str`` whose ``__eq__`` lies) crosses as the
plain base value it holds, read with the base type's own methods: its behaviour stays behind.
Anything else is refused.
"""

import json

_SCALARS = (str, int, float, bool, type(None))
_SEQUENCES = {tuple: "tuple", set: "set", frozenset: "frozenset"}
_FLOATS = {"inf": float("inf"), "-inf": float("-inf"), "nan": float("nan")}


class WireError(ValueError):
    """A value that cannot cross the boundary (not plain data, or a malformed message)."""


# Subclass -> the plain base value, through the base type's own slots (never the subclass's).
_BASES = (
    (bool, bool), (int, int.__int__), (float, float.__float__), (str, str.__str__),
    (bytes, bytes.__bytes__), (list, list.copy), (tuple, lambda t: tuple(tuple.__iter__(t))),
    (dict, dict.copy), (set, set.copy), (frozenset, frozenset.copy),
)


def encode(value):
    """A JSON-ready form of ``value`` (built-in types; subclasses as their base value)."""
    kind = type(value)
    if kind not in _SCALARS and kind not in _SEQUENCES and kind not in (list, dict, bytes):
        for base, plain in _BASES:
            if isinstance(value, base):
                value = plain(value)
                kind = type(value)
                break
    if kind is float and value != value or kind is float and value in (float("inf"), float("-inf")):
        return {"$": "float", "v": repr(value)}
    if kind in _SCALARS:
        return value
    if kind is list:
        return [encode(v) for v in value]
    if kind in _SEQUENCES:
        items = [encode(v) for v in value]
        if kind is not tuple:
            items.sort(key=lambda x: json.dumps(x, sort_keys=True))  # stable text for the same set
        return {"$": _SEQUENCES[kind], "v": items}
    if kind is dict:
        return {"$": "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind is bytes:
        return {"$": "bytes", "v": value.hex()}
    raise WireError("values of type %s cannot cross the sandbox boundary (plain data only)" % kind.__name__)


def decode(data):
    """The value ``encode`` made ``data`` from; ``WireError`` for anything else."""
    kind = type(data)
    if kind in _SCALARS:
        return data
    if kind is list:
        return [decode(v) for v in data]
    if kind is dict and set(data) == {"$", "v"}:
        tag, v = data["$"], data["v"]
        if tag == "float" and v in _FLOATS:
            return _FLOATS[v]
        if tag == "bytes" and type(v) is str:
            try:
                return bytes.fromhex(v)
            except ValueError:
                raise WireError("malformed bytes value") from None
        if type(v) is list:
            if tag == "tuple":
                return tuple(decode(x) for x in v)
            if tag in ("set", "frozenset"):
                items = [decode(x) for x in v]
                try:
                    return set(items) if tag == "set" else frozenset(items)
                except TypeError:
                    raise WireError("unhashable member in a %s" % tag) from None
            if tag == "dict":
                if not all(type(p) is list and len(p) == 2 for p in v):
                    raise WireError("malformed dict value")
                try:
                    return {decode(k): decode(x) for k, x in v}
                except TypeError:
                    raise WireError("unhashable dict key") from None
    raise WireError("not a plain-data value: %.80r" % (data,))


def dumps(message):
    return (json.dumps(message, allow_nan=False, separators=(",", ":")) + "\n").encode()


def serve(source, entry_point, fd_in=3, fd_out=4):
    """Sandbox side: run ``source`` as ``__main__``, then answer one call per request line."""
    import builtins
    import os

    reader, writer = os.fdopen(fd_in, "rb"), os.fdopen(fd_out, "wb")
    os.set_inheritable(fd_in, False)
    os.set_inheritable(fd_out, False)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    exec(compile(source, "main.py", "exec"), namespace)
    if not callable(namespace.get(entry_point)):
        raise NameError("the program defines no function %r" % entry_point)
    fn = namespace[entry_point]
    for line in reader:
        try:
            request = json.loads(line)
            value = fn(*decode(request["args"]), **decode(request["kwargs"]))
            reply = dumps({"ok": encode(value)})
        except Exception as exc:  # the candidate's failure is an answer too
            reply = dumps({"error": ("%s: %s" % (type(exc).__name__, exc))[:300]})
        writer.write(reply)
        writer.flush()
