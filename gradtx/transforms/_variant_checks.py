"""Checks that the Adam variants' blocks share (``scale_by_adamax``,
``scale_by_amsgrad``, ``scale_by_nadam``, ``scale_by_adan``,
``scale_by_radam``, ``scale_by_adopt``, ``scale_by_belief``, ``scale_by_yogi``,
``scale_by_ademamix``): their ``eps`` against ``eps_root``, as
:func:`gradtx.scale_by_adam` checks it, and the complex params an algorithm is
not defined for. Messages are made with ``validate``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.core import Params
from gradtx.transforms._moments import EPS_ZERO

__all__ = ["refuse_complex"]


def check_eps(
    fn: str, eps: Any, eps_root: Any = None, *, positive_anyway: bool = False
) -> None:
    """``eps >= 0`` (and ``eps_root >= 0``), not both 0.

    A division by :math:`\\sqrt{v + \\epsilon_{root}} + \\epsilon` with both 0
    divides 0 by 0 for a coordinate whose gradients have all been 0.
    ``positive_anyway``: the denominator is positive whatever ``eps`` (Yogi's
    positive initial accumulator), so 0 is accepted.
    """
    validate.number(fn, "eps", eps, low=0.0)
    if eps_root is not None:
        validate.number(fn, "eps_root", eps_root, low=0.0)
    if validate.concrete_float(eps) != 0.0:
        return
    if eps_root is not None and validate.concrete_float(eps_root) != 0.0:
        return
    if positive_anyway:
        return
    alt, fix = (
        ("", "")
        if eps_root is None
        else (
            " (or [0, inf) with eps_root > 0)",
            ", or eps_root > 0",
        )
    )
    raise validate.error(ValueError, fn, EPS_ZERO.format(alt=alt, eps=eps, fix=fix))


def refuse_complex(fn: str, params: Params, why: str) -> None:
    """TypeError naming the first complex leaf of ``params``, saying ``why``."""
    for path, x in jax.tree_util.tree_flatten_with_path(params)[0]:
        if jnp.iscomplexobj(x):
            raise validate.error(
                TypeError,
                fn,
                f"params{jax.tree_util.keystr(path)} is {validate.spec(x)}, a complex "
                f"array: {why} Split it into real and imaginary parts (two real "
                "leaves) to use it.",
            )
