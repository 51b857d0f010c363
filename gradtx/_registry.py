"""Name lookup shared by the registries (initializers, activations).

An unknown name is an error that lists the valid names and suggests the
closest ones, so a typo costs one read of the message.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TypeVar

__all__ = ["lookup"]

T = TypeVar("T")


def lookup(kind: str, name: object, table: Mapping[str, T]) -> T:
    """Returns ``table[name]``; a clear error for an unknown or non-string name.

    Names are matched exactly, then case-insensitively with ``-`` read as
    ``_`` (``"Leaky-ReLU"`` finds ``"leaky_relu"``).

    Args:
      kind: what the names are, for the message (e.g. ``"activation"``).
      name: what the user asked for.
      table: the valid names and their values.

    Raises:
      TypeError: ``name`` is not a string.
      ValueError: an unknown name; the message lists the valid names and the
        closest matches.
    """
    if not isinstance(name, str):
        raise TypeError(f"the {kind} name must be a string, got {name!r}.")
    if name in table:
        return table[name]
    normal = name.strip().lower().replace("-", "_").replace(" ", "_")
    if normal in table:
        return table[normal]
    close = difflib.get_close_matches(normal, list(table), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(
        f"unknown {kind} {name!r}.{hint} Valid names: {', '.join(sorted(table))}."
    )
