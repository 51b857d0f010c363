"""How the results of the microbatches combine: :class:`Accumulator`, the
built-in :class:`AccumulationType` s, and their resolution against an output.

An accumulation is a left fold over the microbatch results
:math:`y_0, \\dots, y_{n-1}`: ``c = init(spec(y_0)); c = update(c, y_i, i)``
for each ``i``; ``finalize(c)``. Only one result and the carry ``c`` are
alive at a time, which is what bounds the memory. ``aggregate`` is the same
reduction applied at once to a stack of results along axis 0 (what
:func:`micro_vmap` does inside one microbatch).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["AccumulationType", "Accumulator", "accumulator_leaves", "resolve"]


@dataclasses.dataclass(frozen=True)
class Accumulator:
    r"""A fold that combines a function's results over the microbatches.

    With :math:`y_i` the result of microbatch :math:`i` (a pytree), the
    microbatched function returns

    .. math::
       c_0 = \mathrm{init}(\mathrm{spec}(y_0)), \quad
       c_{i+1} = \mathrm{update}(c_i, y_i, i), \quad
       \mathrm{out} = \mathrm{finalize}(c_n)

    where :math:`\mathrm{spec}` gives the ``jax.ShapeDtypeStruct`` s of a
    result. Only :math:`c_i` and one :math:`y_i` are in memory at a time.
    ``aggregate`` reduces a stack of results (a leading axis) in one go; it
    is what :func:`micro_vmap` applies to the examples of one microbatch.
    Each function gets the whole subtree of the output that the accumulator
    stands for in the ``accumulator`` argument (a pytree prefix).

    The same class as ``optax.microbatching.Accumulator`` (fields in the same
    order); the built-in ones are reached through :class:`AccumulationType`.

    Attributes:
      init: ``spec_subtree -> carry``, from the shapes and dtypes of one result.
      update: ``(carry, result_subtree, index) -> carry``.
      finalize: ``carry -> output_subtree``.
      aggregate: ``stacked_results -> output_subtree``, reducing axis 0.

    References:
      Huang et al., *GPipe: Efficient Training of Giant Neural Networks using
      Pipeline Parallelism*, NeurIPS 2019, https://arxiv.org/abs/1811.06965

    Example:
      A maximum over the microbatches:

      >>> import jax, jax.numpy as jnp
      >>> from gradtx import microbatching
      >>> maximum = microbatching.Accumulator(
      ...     init=lambda s: jnp.full(s.shape, -jnp.inf, s.dtype),
      ...     update=lambda c, y, i: jnp.maximum(c, y),
      ...     finalize=lambda c: c,
      ...     aggregate=lambda ys: jnp.max(ys, axis=0),
      ... )
      >>> x = jnp.array([3.0, 7.0, 1.0, 5.0])
      >>> microbatching.microbatch(jnp.max, 0, 2, maximum)(x)
      Array(7., dtype=float32)
    """

    init: Callable[[Any], Any]
    update: Callable[[Any, Any, Any], Any]
    finalize: Callable[[Any], Any]
    aggregate: Callable[[Any], Any]


class AccumulationType(enum.Enum):
    """The built-in ways to combine microbatch results, leaf by leaf.

    - ``MEAN``: :math:`\\frac{1}{n}\\sum_i y_i` over all ``n`` microbatches
      (an average of per-microbatch means is the full-batch mean, since the
      microbatches have equal sizes). Needs floating (or complex) results.
    - ``SUM``: :math:`\\sum_i y_i`.
    - ``RUNNING_MEAN``: the mean over the microbatches actually run
      (``num_real_microbatches`` of them), updated as
      :math:`c \\leftarrow c + (y_i - c)/(i + 1)`. Needs floating results.
    - ``CONCAT``: the results joined along axis 0, in the order of the
      original batch (undoing the column-major split of
      :func:`reshape_batch_axis`).

    SUM, MEAN and RUNNING_MEAN of float16/bfloat16 results accumulate in
    float32 and round once, at the end (optax accumulates in the results'
    dtype).

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import microbatching
      >>> fn = microbatching.microbatch(
      ...     jnp.sum, 0, 2, microbatching.AccumulationType.MEAN)
      >>> fn(jnp.array([1.0, 2.0, 3.0, 4.0]))  # mean of the two sums, 3 and 7
      Array(5., dtype=float32)
    """

    MEAN = enum.auto()
    SUM = enum.auto()
    RUNNING_MEAN = enum.auto()
    CONCAT = enum.auto()


_NEEDS_INEXACT = (AccumulationType.MEAN, AccumulationType.RUNNING_MEAN)
_KINDS = "AccumulationType.MEAN, SUM, RUNNING_MEAN or CONCAT, or an Accumulator"


def _carry_dtype(dtype: Any) -> Any:
    """Floating dtypes narrower than float32 accumulate in float32."""
    if jnp.issubdtype(dtype, jnp.inexact):
        return jnp.promote_types(dtype, jnp.float32)
    return dtype


def _zeros(spec: Any) -> jax.Array:
    """Zeros like ``spec`` (its sharding too), in the carry's dtype."""
    return jnp.zeros_like(spec, dtype=_carry_dtype(spec.dtype))


def _stack_zeros(spec: Any, n: int) -> jax.Array:
    """Zeros for ``n`` results like ``spec``, stacked on a new leading axis."""
    return jnp.broadcast_to(jnp.zeros_like(spec), (n, *spec.shape))


def _sum_update(carry: Any, value: Any, index: Any) -> Any:
    del index
    return jax.tree.map(lambda c, y: c + y.astype(c.dtype), carry, value)


def _running_update(carry: Any, value: Any, index: Any) -> Any:
    def step(c: jax.Array, y: jax.Array) -> jax.Array:
        return c + (y.astype(c.dtype) - c) / jnp.asarray(index + 1).astype(c.dtype)

    return jax.tree.map(step, carry, value)


def _builtin(kind: AccumulationType, spec: Any, count: int | None) -> Accumulator:
    """The built-in accumulator ``kind`` for the subtree whose specs are ``spec``.

    ``count`` is the number of microbatches (None: only ``aggregate`` is used).
    The carry keeps the subtree's structure; ``finalize`` restores dtypes.
    """
    dtypes = jax.tree.map(lambda s: s.dtype, spec)

    def restore(carry: Any) -> Any:
        return jax.tree.map(lambda c, d: c.astype(d), carry, dtypes)

    def init(s: Any) -> Any:
        return jax.tree.map(_zeros, s)

    if kind is AccumulationType.SUM:
        return Accumulator(init, _sum_update, restore, _aggregate(jnp.sum))
    if kind is AccumulationType.MEAN:
        n = 1 if count is None else count
        return Accumulator(
            init,
            _sum_update,
            lambda c: restore(jax.tree.map(lambda x: x / n, c)),
            _aggregate(jnp.mean),
        )
    if kind is AccumulationType.RUNNING_MEAN:
        return Accumulator(init, _running_update, restore, _aggregate(jnp.mean))
    n = 1 if count is None else count
    return Accumulator(
        lambda s: jax.tree.map(lambda x: _stack_zeros(x, n), s),
        lambda c, y, i: jax.tree.map(lambda a, b: a.at[i].set(b), c, y),
        lambda c: jax.tree.map(_interleave, c),
        lambda ys: ys,
    )


def _aggregate(reduce: Callable[..., jax.Array]) -> Callable[[Any], Any]:
    def leaf(v: jax.Array) -> jax.Array:
        if jnp.issubdtype(v.dtype, jnp.inexact):
            return reduce(v, axis=0, dtype=_carry_dtype(v.dtype)).astype(v.dtype)
        return reduce(v, axis=0).astype(v.dtype)

    return lambda values: jax.tree.map(leaf, values)


def _interleave(carry: jax.Array) -> jax.Array:
    """``(n, m, ...)`` to ``(n * m, ...)``, row ``a + n * b`` being ``[a, b]``.

    The inverse of :func:`reshape_batch_axis` at axis 0 (a column-major merge).
    """
    n, m = carry.shape[:2]
    return jnp.swapaxes(carry, 0, 1).reshape((n * m, *carry.shape[2:]))


def accumulator_leaves(fn: str, accumulator: Any) -> tuple[list[Any], Any, list[str]]:
    """The leaves of the ``accumulator`` prefix tree, its treedef and paths.

    Raises:
      ValueError: a leaf is neither an AccumulationType nor an Accumulator.
    """
    flat, treedef = jax.tree_util.tree_flatten_with_path(accumulator)
    paths = [jax.tree_util.keystr(path) for path, _ in flat]
    for path, (_, leaf) in zip(paths, flat, strict=True):
        if not isinstance(leaf, AccumulationType | Accumulator):
            raise validate.error(
                ValueError,
                fn,
                f"accumulator{path} is {leaf!r}; expected {_KINDS} (a pytree "
                "prefix of fun's output with these at its leaves).",
            )
    return [leaf for _, leaf in flat], treedef, paths


def resolve(fn: str, accumulator: Any, spec: Any, count: int | None) -> Accumulator:
    """One :class:`Accumulator` for a whole output whose specs are ``spec``.

    Its carry is a list with one entry per leaf of ``accumulator``. ``count``
    is the number of microbatches (None where only ``aggregate`` is used).

    Raises:
      ValueError: ``accumulator`` is not a prefix of the output, has an
        unknown leaf, or CONCATs a scalar result.
      TypeError: MEAN or RUNNING_MEAN of non-floating results.
    """
    leaves, treedef, paths = accumulator_leaves(fn, accumulator)
    try:
        subtrees = treedef.flatten_up_to(spec)
    except (ValueError, TypeError):
        raise validate.error(
            ValueError,
            fn,
            f"accumulator {accumulator!r} is not a pytree prefix of fun's output, "
            f"whose structure is {jax.tree.structure(spec)}.",
        ) from None
    accs = []
    for leaf, sub, path in zip(leaves, subtrees, paths, strict=True):
        if isinstance(leaf, Accumulator):
            accs.append(leaf)
            continue
        for sub_path, s in jax.tree_util.tree_flatten_with_path(sub)[0]:
            where = path + jax.tree_util.keystr(sub_path)
            if leaf is AccumulationType.CONCAT and count is not None and not s.shape:
                raise validate.error(
                    ValueError,
                    fn,
                    f"accumulator{path} is CONCAT, which joins results along axis "
                    f"0, but fun's output{where} is a scalar. Use SUM or MEAN, or "
                    "return one row per example.",
                )
            if leaf in _NEEDS_INEXACT and not jnp.issubdtype(s.dtype, jnp.inexact):
                raise validate.error(
                    TypeError,
                    fn,
                    f"accumulator{path} is {leaf}, which needs floating "
                    f"results, but fun's output{where} has dtype {s.dtype}. "
                    "Cast it (e.g. .astype(jnp.float32)) or use SUM.",
                )
        accs.append(_builtin(leaf, sub, count))

    def init(s: Any) -> list[Any]:
        return [a.init(x) for a, x in zip(accs, treedef.flatten_up_to(s), strict=True)]

    def update(carry: list[Any], value: Any, index: Any) -> list[Any]:
        values = treedef.flatten_up_to(value)
        return [
            a.update(c, v, index) for a, c, v in zip(accs, carry, values, strict=True)
        ]

    def finalize(carry: list[Any]) -> Any:
        return treedef.unflatten(
            [a.finalize(c) for a, c in zip(accs, carry, strict=True)]
        )

    def aggregate(values: Any) -> Any:
        stacked = treedef.flatten_up_to(values)
        return treedef.unflatten(
            [a.aggregate(v) for a, v in zip(accs, stacked, strict=True)]
        )

    return Accumulator(init, update, finalize, aggregate)
