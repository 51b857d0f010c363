"""The contract's types: ``GradientTransformation`` and the state it keeps."""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

__all__ = [
    "EmptyState",
    "GradientTransformation",
    "GradientTransformationExtraArgs",
    "OptState",
    "Params",
    "TransformInitFn",
    "TransformUpdateExtraArgsFn",
    "TransformUpdateFn",
    "Updates",
]

Params = Any
"""A pytree of arrays: the parameters being optimized."""
Updates = Any
"""A pytree of arrays shaped like the params: gradients or updates."""
OptState = Any
"""A pytree of NamedTuples holding a transformation's state."""


class TransformInitFn(Protocol):
    """``init(params) -> state``: builds the state from example params."""

    def __call__(self, params: Params) -> OptState:
        """Returns the initial state for ``params``."""
        ...


class TransformUpdateFn(Protocol):
    """``update(updates, state, params=None, **extra_args) -> (updates, state)``."""

    def __call__(
        self,
        updates: Updates,
        state: OptState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, OptState]:
        """Returns the transformed updates and the new state."""
        ...


TransformUpdateExtraArgsFn = TransformUpdateFn
"""optax's name for an ``update`` that takes ``**extra_args`` (all gradtx's do)."""


class GradientTransformation(NamedTuple):
    """A pure ``(init, update)`` pair: one training technique.

    Every gradtx transformation's ``update`` also accepts extra keyword
    arguments (e.g. ``value=loss``), which a chain passes to every
    transformation that takes them; :func:`with_extra_args_support` gives any
    transformation (optax's too) that signature.

    Attributes:
      init: ``init(params) -> state``.
      update: ``update(updates, state, params=None, **extra_args) ->
        (updates, state)``.
    """

    init: TransformInitFn
    update: TransformUpdateFn


class GradientTransformationExtraArgs(GradientTransformation):
    """A :class:`GradientTransformation` whose ``update`` takes ``**extra_args``.

    What :func:`with_extra_args_support` returns (optax's name): code that
    holds one can pass extra keyword arguments without inspecting ``update``.
    """


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none."""
