r"""The building kit: what a new transformation is written with.

A transformation is a :class:`~gradtx.GradientTransformation`: an ``init``
that builds a state (a NamedTuple of arrays, or :class:`~gradtx.EmptyState`)
and an ``update`` that maps updates to updates. The helpers here give a
hand-written one the guarantees of gradtx's own:

* :func:`check_updates` checks, at trace time, that the updates match the
  params and the per-parameter state, and names the first leaf path that
  differs;
* :func:`map_leaves` runs the per-leaf math in at least float32 (bfloat16 and
  float16 leaves are computed in float32 and cast back), traced once per leaf
  shape and dtype under ``jit`` (so a model with thousands of leaves compiles
  fast);
* :func:`init_empty_state`, :func:`stateless`, :func:`stateless_with_tree_map`
  and :func:`with_extra_args_support` are optax's, with gradtx's checks.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx.core._types import (
    EmptyState,
    GradientTransformation,
    GradientTransformationExtraArgs,
    OptState,
    Params,
    Updates,
)

__all__ = [
    "check_updates",
    "identity",
    "init_empty_state",
    "map_leaves",
    "stateless",
    "stateless_with_tree_map",
    "with_extra_args_support",
]


def init_empty_state(params: Params) -> EmptyState:
    """The ``init`` of a transformation that keeps no state.

    Unlike optax's, it checks ``params`` (a leaf that is not an array, or an
    integer leaf, is a clear error at once).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> gradtx.init_empty_state({"w": jnp.zeros(2)})
      EmptyState()
    """
    validate.params("init", params)
    return EmptyState()


def check_updates(
    updates: Updates,
    params: Params | None = None,
    state_tree: Any = None,
    *,
    name: str = "state",
    dtypes: str = "exact",
    fn: str = "update",
) -> None:
    """Checks ``update``'s inputs at trace time; names the first bad leaf path.

    Shapes and structures are static, so under ``jit`` this runs once, when
    the step is traced, and costs nothing per step.

    Args:
      updates: the incoming updates.
      params: the params passed to ``update`` (None: not checked).
      state_tree: a per-parameter tree of the state, built by ``init`` (e.g.
        ``state.mu``), that ``updates`` must match (None: not checked).
      name: how the message names ``state_tree`` (e.g. ``"my_tx state.mu"``).
      dtypes: how the dtypes of ``updates`` and ``state_tree`` must agree:
        ``"exact"``, ``"real"`` (``state_tree`` holds the real dtype of
        complex updates), ``"kind"`` (both floating, or both complex) or
        ``"ignore"``.
      fn: the function the message names first (your transformation's).

    Raises:
      TreeMismatchError: the trees differ; the message names the first leaf
        path, what was expected there and what was found.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> params = {"w": jnp.zeros(3)}
      >>> gradtx.check_updates({"w": jnp.zeros(2)}, params)
      Traceback (most recent call last):
        ...
      gradtx.errors.TreeMismatchError: update: updates['w']: expected float32[3] ...
    """
    validate.updates(fn, updates, params, state_tree, name=name, dtypes=dtypes)


def map_leaves(
    fn: Callable[..., Any],
    *trees: Any,
    scalars: tuple[Any, ...] = (),
    outputs: int = 0,
) -> Any:
    r"""``fn(*leaves, *scalars)`` at each leaf position of ``trees``, in float32+.

    The per-leaf math of a transformation. Floating leaves narrower than
    float32 (bfloat16, float16) reach ``fn`` cast to float32 (complex leaves
    to complex64), so an ``eps`` of 1e-8 does not round to 0; each result is
    cast back to the dtype of the leaf of ``trees[j]`` for output ``j`` (the
    first tree's with ``outputs=0``). Under ``jit``, ``fn`` is traced once per
    distinct leaf shape and dtype and inlined by XLA: the compiled program is
    the same, and tracing a step over thousands of leaves is several times
    faster. ``fn`` must take every traced value it uses as an argument: pass
    step-dependent scalars (a bias correction, a learning rate) in
    ``scalars``, never from a closure. Python numbers in ``scalars`` stay
    constants.

    Args:
      fn: ``fn(leaf_0, ..., leaf_n, *scalars)`` returning an array, or a
        tuple of ``outputs`` arrays.
      *trees: trees with the structure of ``trees[0]`` (check them first, e.g.
        with :func:`check_updates`).
      scalars: extra arguments passed to every call (arrays or numbers).
      outputs: 0 for one result tree, ``k`` for ``k`` result trees.

    Returns:
      A tree like ``trees[0]``, or a tuple of ``outputs`` such trees.

    Example:
      A momentum-like update, :math:`m_t = \beta m_{t-1} + g_t`:

      >>> import gradtx, jax.numpy as jnp
      >>> def leaf(g, m, beta):
      ...     new_m = beta * m + g
      ...     return new_m, new_m
      >>> g = {"w": jnp.ones(2, jnp.bfloat16)}
      >>> m = {"w": jnp.full(2, 0.5, jnp.bfloat16)}
      >>> out, new_m = gradtx.map_leaves(leaf, g, m, scalars=(0.9,), outputs=2)
      >>> out["w"]
      Array([1.45, 1.45], dtype=bfloat16)
    """
    if not trees:
        raise TypeError("map_leaves needs at least one tree.")
    first, treedef = jax.tree.flatten(trees[0])
    columns = [first, *(treedef.flatten_up_to(t) for t in trees[1:])]  # type: ignore[attr-defined]
    widths = max(outputs, 1)
    dtypes = [
        [jnp.result_type(x) for x in columns[min(j, len(columns) - 1)]]
        for j in range(widths)
    ]

    def up_fn(*args: Any) -> Any:
        n = len(columns)
        leaves = [_up(x) for x in args[:n]]
        return fn(*leaves, *args[n:])

    up_fn.__name__ = up_fn.__qualname__ = getattr(fn, "__name__", "leaf")
    results = numerics.leafwise(up_fn, *trees, scalars=scalars, outputs=outputs)
    if not outputs:
        return jax.tree.unflatten(
            treedef,
            [
                jnp.asarray(r).astype(d)
                for r, d in zip(treedef.flatten_up_to(results), dtypes[0], strict=True)  # type: ignore[attr-defined]
            ],
        )
    return tuple(
        jax.tree.unflatten(
            treedef,
            [
                jnp.asarray(r).astype(d)
                for r, d in zip(treedef.flatten_up_to(res), dtypes[j], strict=True)  # type: ignore[attr-defined]
            ],
        )
        for j, res in enumerate(results)
    )


def _up(x: Any) -> Any:
    if isinstance(x, jax.Array | jax.core.Tracer) and jnp.issubdtype(
        x.dtype, jnp.inexact
    ):
        return numerics.up(x)
    return x


def takes_extra_args(update: Callable[..., Any]) -> bool:
    """Whether ``update`` accepts ``**kwargs``."""
    try:
        sig = inspect.signature(update)
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())


def with_extra_args_support(tx: Any) -> GradientTransformationExtraArgs:
    """``tx`` with an ``update`` that accepts (and, if ``tx``'s does not, drops)
    extra keyword arguments.

    Decided once, when it is called: a chain or a wrapper normalizes its inner
    transformations with it and then always calls
    ``update(updates, state, params, **extra_args)``. Works for gradtx's and
    optax's transformations (and any object with ``init`` and ``update``).

    Args:
      tx: a transformation.

    Returns:
      A :class:`GradientTransformationExtraArgs` (``tx`` itself if it is one).

    Raises:
      TypeError: ``tx`` is not a transformation (e.g. ``gradtx.adam`` instead
        of ``gradtx.adam(1e-3)``).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> plain = gradtx.GradientTransformation(
      ...     gradtx.init_empty_state, lambda u, s, p=None: (u, s))
      >>> tx = gradtx.with_extra_args_support(plain)
      >>> tx.update(jnp.ones(2), tx.init(jnp.zeros(2)), value=3.0)[0]
      Array([1., 1.], dtype=float32)
    """
    tx = as_transformation(tx, "with_extra_args_support's argument")
    if isinstance(tx, GradientTransformationExtraArgs):
        return tx
    if takes_extra_args(tx.update):
        return GradientTransformationExtraArgs(tx.init, tx.update)
    inner = tx.update

    def update(
        updates: Updates,
        state: OptState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, OptState]:
        del extra_args
        return inner(updates, state, params)

    return GradientTransformationExtraArgs(tx.init, update)


def as_transformation(t: Any, where: str) -> GradientTransformation:
    """``t`` if it has ``init`` and ``update``; else a TypeError naming ``where``."""
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
        check_updates(updates, params)
        return updates, state

    return GradientTransformation(init_empty_state, update)


def stateless(
    f: Callable[[Updates, Params | None], Updates],
) -> GradientTransformation:
    """Makes a stateless transformation from ``f(updates, params) -> updates``.

    Args:
      f: a pure function of the updates and the params (``None`` when the
        caller passes no params).

    Returns:
      A :class:`GradientTransformation` whose state is :class:`EmptyState`.

    Raises:
      TypeError: ``f`` is not callable.

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> negate = gradtx.stateless(lambda u, p: jax.tree.map(lambda g: -g, u))
      >>> negate.update(jnp.ones(2), negate.init(jnp.zeros(2)))[0]
      Array([-1., -1.], dtype=float32)
    """
    if not callable(f):
        raise TypeError(f"stateless expects a function (updates, params), got {f!r}.")

    def update(
        updates: Updates, state: OptState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, OptState]:
        check_updates(updates, params)
        return f(updates, params), state

    return GradientTransformation(init_empty_state, update)


def stateless_with_tree_map(
    f: Callable[[jax.Array, jax.Array | None], jax.Array],
) -> GradientTransformation:
    """Makes a stateless transformation from a per-leaf ``f(update, param)``.

    ``f`` gets each update leaf and the param leaf at the same path (``None``
    when the caller passes no params), as in optax. Leaves are passed as they
    are (no float32 cast): use :func:`map_leaves` inside :func:`stateless` for
    half-precision math.

    Args:
      f: a pure function of one update array and one param array (or None).

    Returns:
      A :class:`GradientTransformation` whose state is :class:`EmptyState`.

    Raises:
      TypeError: ``f`` is not callable.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.stateless_with_tree_map(lambda g, p: g + 0.1 * p)
      >>> params = jnp.array([1.0, -2.0])
      >>> tx.update(jnp.zeros(2), tx.init(params), params)[0]
      Array([ 0.1, -0.2], dtype=float32)
    """
    if not callable(f):
        raise TypeError(
            f"stateless_with_tree_map expects a function (update, param), got {f!r}."
        )

    def update(
        updates: Updates, state: OptState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, OptState]:
        check_updates(updates, params)
        if params is None:
            return jax.tree.map(lambda u: f(u, None), updates), state
        return jax.tree.map(f, updates, params), state

    return GradientTransformation(init_empty_state, update)
