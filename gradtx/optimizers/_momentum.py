"""The momentum stage that SGD and RMSProp share, and where it sits in a chain."""

from __future__ import annotations

from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain, identity
from gradtx.transforms import trace

__all__ = ["momentum_stage", "with_momentum"]


def momentum_stage(
    fn: str, momentum: Any, nesterov: bool, accumulator_dtype: Any = None
) -> GradientTransformation:
    """``trace(momentum, nesterov)``, or the identity for ``momentum=None``.

    ``fn`` is the optimizer, named in the messages.
    """
    validate.optional_number(
        fn, "momentum", momentum, low=0.0, high=1.0, high_open=True
    )
    validate.boolean(fn, "nesterov", nesterov)
    if momentum is None:
        if nesterov:
            raise validate.error(
                ValueError,
                fn,
                "nesterov=True needs a momentum, e.g. momentum=0.9; got momentum=None.",
            )
        return identity()
    return trace(momentum, nesterov=nesterov, accumulator_dtype=accumulator_dtype)


def with_momentum(
    fn: str,
    scaling: GradientTransformation | None,
    lr: GradientTransformation,
    momentum: GradientTransformation,
    momentum_after_lr: bool,
) -> GradientTransformation:
    """``scaling``, then the learning rate and the momentum in the given order."""
    validate.boolean(fn, "momentum_after_lr", momentum_after_lr)
    head = () if scaling is None else (scaling,)
    if momentum_after_lr:
        return chain(*head, lr, momentum)
    return chain(*head, momentum, lr)
