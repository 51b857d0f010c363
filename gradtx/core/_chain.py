"""Composition: ``chain`` and ``named_chain``."""

from __future__ import annotations

from typing import Any

from gradtx.core._kit import as_transformation, with_extra_args_support
from gradtx.core._types import (
    GradientTransformation,
    GradientTransformationExtraArgs,
    OptState,
    Params,
    Updates,
)

__all__ = ["chain", "named_chain"]


def chain(*args: GradientTransformation) -> GradientTransformationExtraArgs:
    """Applies transformations one after the other; the state is a tuple of theirs.

    Any object with ``init`` and ``update`` works, optax's transformations
    included. Extra keyword arguments of ``update`` go to every transformation
    whose ``update`` accepts ``**kwargs``.

    Args:
      *args: the transformations, applied first to last.

    Returns:
      A :class:`GradientTransformationExtraArgs` (as optax's ``chain``, even when
      no argument takes extra arguments) whose state is a tuple with one entry
      per transformation.

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
        with_extra_args_support(as_transformation(t, f"chain argument {i}"))
        for i, t in enumerate(args)
    )

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
        for t, s in zip(ts, state, strict=True):
            updates, s = t.update(updates, s, params, **extra_args)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformationExtraArgs(init, update)


def named_chain(
    *args: tuple[str, GradientTransformation],
) -> GradientTransformationExtraArgs:
    """Like :func:`chain`, but the state is a dict keyed by the given names.

    Args:
      *args: ``(name, transformation)`` pairs, applied first to last.

    Returns:
      A :class:`GradientTransformationExtraArgs` whose state is ``{name: state}``, so a
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
    for i, pair in enumerate(args):
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
        ts.append(as_transformation(pair[1], f"named_chain entry {pair[0]!r}"))
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

    return GradientTransformationExtraArgs(init, update)
