"""Checks of non-numeric arguments: dtypes, choices, axes, PRNG keys, lists."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal.validate._caller import error

__all__ = ["axes", "axis", "choice", "dtype", "key", "lookup", "sequence"]

_T = TypeVar("_T")

_DTYPE_KINDS = {
    "float": ("a floating dtype", (jnp.floating,)),
    "real": ("a real floating dtype", (jnp.floating,)),
    "inexact": ("a floating or complex dtype", (jnp.floating, jnp.complexfloating)),
}


def dtype(
    fn: str,
    name: str,
    value: Any,
    *,
    kind: str = "float",
    optional: bool = False,
    why: str = "",
) -> Any:
    """Returns ``value`` as a ``jnp.dtype`` (None for None, when ``optional``).

    Args:
      fn: the public function's name.
      name: the argument's name.
      value: what the user passed, e.g. ``jnp.bfloat16``.
      kind: ``"float"`` or ``"real"`` (a real floating dtype; "real" says so
        in the message), or ``"inexact"`` (floating or complex).
      optional: whether None (the default dtype) is accepted.
      why: a parenthesis saying why, for the message.

    Raises:
      TypeError: ``value`` is not a dtype of that kind.
    """
    if value is None and optional:
        return None
    try:
        dt = None if value is None else jnp.dtype(value)
    except (TypeError, ValueError):
        dt = None
    what, kinds = _DTYPE_KINDS[kind]
    if dt is None or not any(jnp.issubdtype(dt, k) for k in kinds):
        none = "None or " if optional else ""
        why = f" {why}" if why else ""
        raise error(
            TypeError,
            fn,
            f"{name} must be {none}{what}{why}, e.g. jnp.float32 or jnp.bfloat16; "
            f"got {value!r}.",
        )
    return dt


def choice(
    fn: str, name: str, value: object, choices: Sequence[str], hint: str = ""
) -> str:
    """Returns ``value`` if it is one of ``choices``; else a message that teaches.

    Raises:
      TypeError: ``value`` is not a string.
      ValueError: ``value`` is not one of ``choices``; the message names the
        argument, the value, the valid choices and the closest one.
    """
    valid = ", ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise error(TypeError, fn, f"{name} must be one of {valid}, got {value!r}.")
    if value in choices:
        return value
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.5)
    guess = f" Did you mean {close[0]!r}?" if close else ""
    extra = f" {hint}" if hint else ""
    raise error(
        ValueError,
        fn,
        f"{name}={value!r} is not valid; choose one of {valid}.{guess}{extra}",
    )


def lookup(fn: str, kind: str, value: object, table: Mapping[str, _T]) -> _T:
    """Returns ``table[value]``: a name looked up in a registry, forgivingly.

    Names are matched exactly, then case-insensitively with ``-`` and spaces
    read as ``_`` (``"Leaky-ReLU"`` finds ``"leaky_relu"``). An unknown name
    costs one read of the message: it lists the valid names and suggests the
    closest ones.

    Args:
      fn: the public function's name.
      kind: what the names are, for the message (e.g. ``"activation"``).
      value: what the user asked for.
      table: the valid names and their values.

    Raises:
      TypeError: ``value`` is not a string.
      ValueError: an unknown name.
    """
    if not isinstance(value, str):
        raise error(TypeError, fn, f"the {kind} name must be a string, got {value!r}.")
    if value in table:
        return table[value]
    normal = value.strip().lower().replace("-", "_").replace(" ", "_")
    if normal in table:
        return table[normal]
    close = difflib.get_close_matches(normal, list(table), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise error(
        ValueError,
        fn,
        f"unknown {kind} {value!r}.{hint} Valid names: {', '.join(sorted(table))}.",
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(
        value, bool | np.bool_
    )


def axes(fn: str, name: str, value: Any, *, allow_int: bool = True) -> tuple[int, ...]:
    """``value`` (a sequence of int axes, or one int) as a tuple of ints.

    Args:
      fn: the public function's name.
      name: the argument's name.
      value: what the user passed.
      allow_int: whether one int stands for one axis; if not, the message
        shows the one-element tuple to write instead.

    Raises:
      TypeError: not a sequence of ints (nor an int, where allowed).
    """
    if _is_int(value):
        if allow_int:
            return (int(value),)
    elif not isinstance(value, str):
        try:
            items = tuple(value)
        except TypeError:
            items = None
        if items is not None:
            for a in items:
                if not _is_int(a):
                    raise error(TypeError, fn, f"{name} takes int axes, got {a!r}.")
            return tuple(int(a) for a in items)
    if allow_int:
        raise error(
            TypeError,
            fn,
            f"{name} must be an int or a sequence of ints, got {value!r}.",
        )
    raise error(
        TypeError,
        fn,
        f"{name} must be a sequence of axes, e.g. (1, 2), got {value!r}; for one "
        f"axis write ({value!r},).",
    )


def axis(
    fn: str,
    name: str,
    value: Any,
    shape: tuple[int, ...] | None = None,
    *,
    shown: Any = None,
    hint: str = "",
) -> int:
    """``value``, an axis of an array of ``shape``, as an int in ``[0, ndim)``.

    Negative axes count from the end; an axis out of range raises, never
    wraps modulo the rank. Without ``shape``, only the type is checked (and
    ``value`` returned as an int).

    Args:
      fn: the public function's name.
      name: the argument's name.
      value: the axis.
      shape: the shape of the array it indexes, if known yet.
      shown: what to show as the argument's value (default: ``value``), e.g.
        the whole tuple an axis comes from.
      hint: a sentence appended to the message.

    Raises:
      TypeError: not an int.
      ValueError: out of range for ``shape``.
    """
    if not _is_int(value):
        raise error(TypeError, fn, f"{name} takes int axes, got {value!r}.")
    if shape is None:
        return int(value)
    ndim = len(shape)
    if not -ndim <= value < ndim:
        shown = value if shown is None else shown
        raise error(
            ValueError,
            fn,
            f"{name}={shown!r} names axis {value}, but the input has shape {shape} "
            f"(rank {ndim}): axes must be in [{-ndim}, {ndim}), negative ones "
            f"counting from the end. {hint}".rstrip(),
        )
    return int(value) % ndim


def key(fn: str, name: str, value: Any) -> None:
    """Raises TypeError unless ``value`` looks like a PRNG key (a JAX array)."""
    if not isinstance(value, jax.Array):
        raise error(
            TypeError,
            fn,
            f"{name} must be a PRNG key (jax.random.key(seed)), got "
            f"{type(value).__name__}.",
        )


def sequence(
    fn: str,
    name: str,
    value: Any,
    *,
    item: str = "value",
    items: str = "",
    kind: type | None = None,
    rule: str = "",
    hint: str = "",
    iterable: bool = False,
) -> list[Any]:
    """``value``, a non-empty list of ``item`` s, as a new list.

    A list, a tuple or a 1-D NumPy array is accepted (with ``iterable``, any
    iterable, a generator included); never a string or a mapping, and never
    one ``kind`` alone, which gets a message of its own.

    Args:
      fn: the public function's name.
      name: the argument's name.
      value: what the user passed.
      item: what one element is, for the messages (``"seed"``).
      items: the plural (default: ``item`` + ``"s"``).
      kind: the type every element must have (None: not checked).
      rule: what a valid value is, in words (default: ``"a list of {items}"``).
      hint: a sentence appended to every message, saying how to fix it.
      iterable: accept any iterable, not only a sequence.

    Raises:
      TypeError: not a list (a string, a mapping, one ``kind``...), or an
        element that is not a ``kind``; the message names its index.
      ValueError: an empty list.
    """
    rule = rule or f"a list of {items or item + 's'}"
    extra = f" {hint}" if hint else ""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if kind is not None and isinstance(value, kind):
        raise error(TypeError, fn, f"{name} must be {rule}, got one {item}.{extra}")
    ok = Iterable if iterable else Sequence
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, ok):
        raise error(
            TypeError, fn, f"{name} must be {rule}, got {reprlib.repr(value)}.{extra}"
        )
    out = list(value)
    if not out:
        raise error(
            ValueError, fn, f"{name} is empty; give at least one {item}.{extra}"
        )
    if kind is not None:
        for i, x in enumerate(out):
            if not isinstance(x, kind):
                text = f"{name}[{i}] is {reprlib.repr(x)}, not a {item}.{extra}"
                raise error(TypeError, fn, text)
    return out
