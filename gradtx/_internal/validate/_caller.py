"""Who complains: the public function that a check's message names.

Every check takes ``fn``, the name of the public function it runs for, and
every message starts with ``"{fn}: "``. A function that builds other public
functions from its own arguments (``adam`` builds ``scale_by_adam``) names
itself around that work with :func:`named`; the checks made inside then name
it instead of the building block, so ``adam(b2=1.5)`` says
``adam: b2 must be in [0, 1), got 1.5.`` The outermost name wins: it is the
function the user called. Without :func:`named`, each building block names
itself, which is still correct.

Only wrap code that forwards the function's own arguments: a user's callback
(an augmentation stage, an initializer, a schedule) called inside would have
its own errors named after the wrapper.

Checks that run later, in ``update``, outside any :func:`named` block, take
the name the factory resolved when it was built: ``fn = who("scale_by_adam")``.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TypeVar

__all__ = ["error", "named", "who"]

_E = TypeVar("_E", bound=Exception)
_CALLER: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "gradtx_caller", default=None
)


@contextlib.contextmanager
def named(fn: str) -> Iterator[str]:
    """Names ``fn`` in the messages of the checks made inside, unless an outer
    caller is named already (the outermost wins).

    A context manager (``with named("adam"):``) and a decorator
    (``@named("adam")``). Yields the name the checks give.

    The name may go on to say where in the function's input the checks run,
    as ``compare.load_config`` does for each entry of a file:
    ``named("load_config: the config 'c.toml': variants[1]")`` makes
    ``load_config: the config 'c.toml': variants[1]: dropout must be ...``.

    Example:
      >>> from gradtx._internal import validate
      >>> with validate.named("adam"):
      ...     validate.number("scale_by_adam", "b2", 1.5, high=1.0, high_open=True)
      Traceback (most recent call last):
        ...
      ValueError: adam: b2 must be in (-inf, 1), got 1.5.
    """
    outer = _CALLER.get()
    if outer is not None:
        yield outer
        return
    token = _CALLER.set(fn)
    try:
        yield fn
    finally:
        _CALLER.reset(token)


def who(fn: str) -> str:
    """The name a check made now gives: the outermost named caller, else ``fn``."""
    return _CALLER.get() or fn


def error(kind: type[_E], fn: str, text: str) -> _E:
    """``kind("{fn}: {text}")``, ``fn`` resolved by :func:`who`.

    The one way a message is made: ``text`` starts with the argument's name,
    e.g. ``raise error(ValueError, fn, f"eps must be > 0, got {eps!r}.")``.
    """
    return kind(f"{who(fn)}: {text}")
