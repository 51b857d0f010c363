"""The gradient-transformation contract: types, ``chain`` and ``apply_updates``.

A :class:`GradientTransformation` is a pair of pure functions. ``init(params)``
builds the state (a pytree of NamedTuples); ``update(updates, state, params)``
maps the incoming updates (gradients, at the head of a chain) to outgoing
updates and a new state. Transformations compose with :func:`chain`, and the
final updates are added to the params with :func:`apply_updates`.

The contract is optax's, so gradtx and optax transformations mix both ways.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp

from gradtx import _numerics
from gradtx.errors import check_params, check_tree_matches

__all__ = [
    "EmptyState",
    "GradientTransformation",
    "OptState",
    "Params",
    "TransformInitFn",
    "TransformUpdateFn",
    "Updates",
    "apply_updates",
    "chain",
    "identity",
    "named_chain",
    "stateless",
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


class GradientTransformation(NamedTuple):
    """A pure ``(init, update)`` pair: one training technique.

    Attributes:
      init: ``init(params) -> state``.
      update: ``update(updates, state, params=None, **extra_args) ->
        (updates, state)``. Extra keyword arguments (e.g. ``value=loss``) are
        passed down a chain to every transformation that accepts them.
    """

    init: TransformInitFn
    update: TransformUpdateFn


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none."""


def _init_empty(params: Params) -> EmptyState:
    check_params(params)
    return EmptyState()


def identity() -> GradientTransformation:
    """Passes updates through unchanged; keeps no state.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.identity()
      >>> tx.update(jnp.ones(2), tx.init(jnp.zeros(2)))[0]
      Array([1., 1.], dtype=float32)
    """

    def update(
        updates: Updates, state: OptState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, OptState]:
        check_against_params(updates, params)
        return updates, state

    return GradientTransformation(_init_empty, update)


def stateless(
    fn: Callable[[Updates, Params | None], Updates],
) -> GradientTransformation:
    """Makes a stateless transformation from ``fn(updates, params) -> updates``.

    Args:
      fn: a pure function of the updates and the params (``None`` when the
        caller passes no params).

    Returns:
      A :class:`GradientTransformation` whose state is :class:`EmptyState`.

    Raises:
      TypeError: ``fn`` is not callable.

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> negate = gradtx.stateless(lambda u, p: jax.tree.map(lambda g: -g, u))
      >>> negate.update(jnp.ones(2), negate.init(jnp.zeros(2)))[0]
      Array([-1., -1.], dtype=float32)
    """
    if not callable(fn):
        raise TypeError(f"stateless expects a function (updates, params), got {fn!r}.")

    def update(
        updates: Updates, state: OptState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, OptState]:
        check_against_params(updates, params)
        return fn(updates, params), state

    return GradientTransformation(_init_empty, update)


_GRADS_HINT = (
    "The gradients must have the structure and shapes of the params (compute "
    "them with jax.grad of a function of those params)."
)


def check_against_params(updates: Updates, params: Params | None) -> None:
    """Trace-time check that ``updates`` matches ``params`` (when given)."""
    if params is None:
        return
    check_tree_matches(
        updates,
        params,
        got_name="updates",
        expected_name="params",
        dtypes="kind",
        hint=_GRADS_HINT,
    )
    check_params(params)


def _as_transform(t: Any, where: str) -> GradientTransformation:
    init, update = getattr(t, "init", None), getattr(t, "update", None)
    if callable(init) and callable(update):
        return t  # type: ignore[no-any-return,unused-ignore]
    hint = ""
    if callable(t):
        name = getattr(t, "__name__", repr(t))
        hint = f" Did you mean {name}(...)? Optimizers must be called to be built."
    raise TypeError(
        f"{where} is {t!r}, which is not a GradientTransformation (an object with "
        f"init and update functions).{hint}"
    )


def _takes_extra_args(update: Callable[..., Any]) -> bool:
    try:
        sig = inspect.signature(update)
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())


def _call_update(
    t: GradientTransformation,
    extra: bool,
    updates: Updates,
    state: OptState,
    params: Params | None,
    extra_args: dict[str, Any],
) -> tuple[Updates, OptState]:
    if extra:
        return t.update(updates, state, params, **extra_args)
    return t.update(updates, state, params)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Applies transformations one after the other; the state is a tuple of theirs.

    Any object with ``init`` and ``update`` works, optax's transformations
    included. Extra keyword arguments of ``update`` go to every transformation
    whose ``update`` accepts ``**kwargs``.

    Args:
      *transforms: the transformations, applied first to last.

    Returns:
      A :class:`GradientTransformation` whose state is a tuple with one entry per
      transformation.

    Raises:
      TypeError: an argument is not a transformation (e.g. ``gradtx.adam``
        instead of ``gradtx.adam(1e-3)``).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.chain(gradtx.clip(1.0), gradtx.scale(-0.1))
      >>> tx.update(jnp.array([5.0, -0.5]), tx.init(jnp.zeros(2)))[0]
      Array([-0.1 ,  0.05], dtype=float32)
    """
    ts = tuple(
        _as_transform(t, f"chain argument {i}") for i, t in enumerate(transforms)
    )
    extras = tuple(_takes_extra_args(t.update) for t in ts)

    def init(params: Params) -> tuple[OptState, ...]:
        return tuple(t.init(params) for t in ts)

    def update(
        updates: Updates,
        state: tuple[OptState, ...],
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, tuple[OptState, ...]]:
        if not isinstance(state, tuple) or len(state) != len(ts):
            got = len(state) if isinstance(state, tuple) else type(state).__name__
            raise ValueError(
                f"state of a chain of {len(ts)} transformations must be a tuple of "
                f"{len(ts)} states (the output of its init), got {got}."
            )
        new_state = []
        for t, e, s in zip(ts, extras, state, strict=True):
            updates, s = _call_update(t, e, updates, s, params, extra_args)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)


def named_chain(
    *transforms: tuple[str, GradientTransformation],
) -> GradientTransformation:
    """Like :func:`chain`, but the state is a dict keyed by the given names.

    Args:
      *transforms: ``(name, transformation)`` pairs, applied first to last.

    Returns:
      A :class:`GradientTransformation` whose state is ``{name: state}``, so a
      part of the state can be read by name (see :func:`gradtx.tree_get`).

    Raises:
      TypeError: an argument is not a ``(str, transformation)`` pair.
      ValueError: a name is used twice.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.named_chain(("clip", gradtx.clip(1.0)),
      ...                         ("adam", gradtx.scale_by_adam()))
      >>> state = tx.init(jnp.zeros(2))
      >>> sorted(state)
      ['adam', 'clip']
      >>> int(state["adam"].count)
      0
    """
    names: list[str] = []
    ts: list[GradientTransformation] = []
    for i, pair in enumerate(transforms):
        if not (
            isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
        ):
            raise TypeError(
                f"named_chain argument {i} must be a (name, transformation) pair, "
                f"got {pair!r}."
            )
        if pair[0] in names:
            raise ValueError(f"named_chain: the name {pair[0]!r} is used twice.")
        names.append(pair[0])
        ts.append(_as_transform(pair[1], f"named_chain entry {pair[0]!r}"))
    inner = chain(*ts)

    def init(params: Params) -> dict[str, OptState]:
        return dict(zip(names, inner.init(params), strict=True))

    def update(
        updates: Updates,
        state: dict[str, OptState],
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, dict[str, OptState]]:
        if not isinstance(state, dict) or set(state) != set(names):
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(
                f"state of this named_chain must be a dict with keys {names} (the "
                f"output of its init), got {got}."
            )
        updates, new = inner.update(
            updates, tuple(state[n] for n in names), params, **extra_args
        )
        return updates, dict(zip(names, new, strict=True))

    return GradientTransformation(init, update)


def apply_updates(params: Params, updates: Updates) -> Params:
    """Returns ``params + updates``, each leaf keeping its param's dtype.

    Args:
      params: the current params.
      updates: updates shaped like ``params`` (a ``None`` leaf of ``params``
        must be ``None`` in ``updates`` too, and stays ``None``).

    Returns:
      The new params, with the dtype of each leaf of ``params`` (a bfloat16
      param stays bfloat16 even when its update is float32).

    Raises:
      TreeMismatchError: ``updates`` does not have the structure and shapes of
        ``params``; the message names the first leaf path that differs.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> gradtx.apply_updates(jnp.ones(2, jnp.bfloat16), jnp.full(2, 0.5))
      Array([1.5, 1.5], dtype=bfloat16)
    """
    check_tree_matches(
        updates,
        params,
        got_name="updates",
        expected_name="params",
        dtypes="ignore",
        hint="apply_updates adds each update to the param at the same path.",
    )
    return _numerics.leafwise(_add_leaf, params, updates)


def _add_leaf(p: jax.Array, u: jax.Array) -> jax.Array:
    return jnp.asarray(p + u).astype(jnp.result_type(p))
