"""The exceptions gradtx raises.

The checks that raise them live in ``gradtx._internal.validate``.
"""

from __future__ import annotations

__all__ = ["TreeMismatchError"]


class TreeMismatchError(ValueError):
    """Two pytrees that must match (updates, params, optimizer state) do not.

    The message names the first leaf path that differs, what was expected and
    what was found, e.g.
    ``adam: updates['Dense_0']['bias']: expected float32[64] (as in params), got
    float32[32].``
    It subclasses :class:`ValueError`, so ``except ValueError`` catches it.
    """
