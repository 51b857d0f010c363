"""Sequential microbatching: :func:`microbatch` and :func:`reshape_batch_axis`.

The batch axis of size :math:`B = n m` is split column-major into ``n``
microbatches of ``m`` rows (microbatch ``a`` holds rows ``a, a + n, a + 2n,
...``), so a batch axis sharded in contiguous blocks keeps its sharding on
the ``m`` axis. A ``lax.fori_loop`` then evaluates the function on one
microbatch at a time, folding the results with an accumulator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate
from gradtx.microbatching._accumulators import (
    AccumulationType,
    Accumulator,
    accumulator_leaves,
    resolve,
)

__all__ = [
    "build",
    "microbatch",
    "real_microbatches",
    "reshape_batch_axis",
    "size_of_microbatch",
]


def size_of_microbatch(fn: str, microbatch_size: Any, *, optional: bool) -> None:
    """Raises unless ``microbatch_size`` is an int >= 1 (or None if optional)."""
    if microbatch_size is None and optional:
        return
    validate.integer(
        fn, "microbatch_size", microbatch_size, low=1, meaning="rows per microbatch"
    )


def _split(x: jax.Array, size: int, axis: int) -> jax.Array:
    """``x``'s ``axis`` of length ``n * size`` as ``(n, size)``, column-major."""
    n = x.shape[axis] // size
    rows = x.reshape((*x.shape[:axis], size, n, *x.shape[axis + 1 :]))
    return jnp.swapaxes(rows, axis, axis + 1)


def reshape_batch_axis(tree: Any, microbatch_size: int, axis: int = 0) -> Any:
    r"""Splits every leaf's batch axis into ``(num_microbatches, microbatch_size)``.

    A leaf's ``axis`` of length :math:`B = n m` (:math:`m` =
    ``microbatch_size``) becomes the two axes :math:`(n, m)` at the same
    place, in column-major order:

    .. math::
       y[\dots, a, b, \dots] = x[\dots, a + n b, \dots]

    so microbatch :math:`a` takes every :math:`n`-th row from row :math:`a`.
    When the batch axis is sharded in contiguous blocks over devices, the
    blocks stay on the :math:`m` axis (each microbatch is spread over all
    devices) and the :math:`n` axis, the one a loop walks, is unsharded.

    Args:
      tree: a pytree of arrays, each with a batch axis ``axis``.
      microbatch_size: :math:`m`, an int >= 1 dividing every batch size.
      axis: the batch axis (negative counts from the end).

    Returns:
      The tree, each leaf with one more axis.

    Raises:
      ValueError: ``microbatch_size`` is not an int >= 1 or does not divide a
        leaf's batch size, or ``axis`` is out of range for a leaf (optax's
        errors come from the reshape, without the leaf's path).

    References:
      Huang et al., *GPipe: Efficient Training of Giant Neural Networks using
      Pipeline Parallelism*, NeurIPS 2019, https://arxiv.org/abs/1811.06965

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import microbatching
      >>> microbatching.reshape_batch_axis(jnp.arange(6), 2)
      Array([[0, 3],
             [1, 4],
             [2, 5]], dtype=int32)
    """
    fn = "reshape_batch_axis"
    size_of_microbatch(fn, microbatch_size, optional=False)
    validate.axis(fn, "axis", axis)

    def leaf(path: Any, x: Any) -> jax.Array:
        x = jnp.asarray(x)
        where = f"tree{jax.tree_util.keystr(path)}"
        ax = validate.axis(fn, "axis", axis, tuple(x.shape), hint=f"({where})")
        if x.shape[ax] % microbatch_size:
            raise validate.error(
                ValueError,
                fn,
                f"{where} has batch size {x.shape[ax]} (axis {axis} of shape "
                f"{tuple(x.shape)}), which is not divisible by "
                f"microbatch_size={microbatch_size}.",
            )
        return _split(x, microbatch_size, ax)

    return jax.tree_util.tree_map_with_path(leaf, tree)


def _names(fn: str, argnames: Any) -> tuple[str, ...]:
    if isinstance(argnames, str):
        return (argnames,)
    names = tuple(argnames)
    for name in names:
        if not isinstance(name, str):
            raise validate.error(
                TypeError, fn, f"argnames takes strings, got {name!r} in {argnames!r}."
            )
    if len(set(names)) != len(names):
        raise validate.error(ValueError, fn, f"argnames {argnames!r} repeats a name.")
    return names


def real_microbatches(fn: str, num_real_microbatches: Any) -> None:
    """Raises unless ``num_real_microbatches`` is None or an integer >= 0."""
    n = num_real_microbatches
    if n is None:
        return
    dtype = n.dtype if hasattr(n, "dtype") else np.asarray(n).dtype
    if isinstance(n, bool) or not jnp.issubdtype(dtype, jnp.integer):
        raise validate.error(
            TypeError,
            fn,
            f"num_real_microbatches must be None or an integer, got {n!r}.",
        )
    if np.ndim(n) != 0:
        raise validate.error(
            ValueError,
            fn,
            f"num_real_microbatches must be a scalar, got shape {np.shape(n)}.",
        )
    if validate.is_concrete(n) and int(n) < 0:
        raise validate.error(
            ValueError, fn, f"num_real_microbatches must be >= 0, got {n!r}."
        )


def _batch_leaves(
    fn: str,
    argnums: tuple[int, ...],
    argnames: tuple[str, ...],
    in_axes: tuple[int, ...],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> list[tuple[Any, int, str, Any]]:
    """Each batch argument as ``(slot, batch axis, label, subtree)``.

    ``slot`` is a positional index (normalized) or a keyword name.
    """
    out: list[tuple[Any, int, str, Any]] = []
    for i, ax in zip(argnums, in_axes, strict=False):
        if not -len(args) <= i < len(args):
            raise validate.error(
                ValueError,
                fn,
                f"argnums={argnums!r} names positional argument {i}, but the call "
                f"has {len(args)} positional argument(s). Pass it positionally, or "
                "name a keyword argument in argnames.",
            )
        i %= len(args)
        out.append((i, ax, f"args[{i}]", args[i]))
    for name, ax in zip(argnames, in_axes[len(argnums) :], strict=True):
        if name not in kwargs:
            raise validate.error(
                ValueError,
                fn,
                f"argnames={argnames!r} names {name!r}, but the call's keyword "
                f"arguments are {sorted(kwargs)}.",
            )
        out.append((name, ax, name, kwargs[name]))
    return out


def build(
    fn: str,
    fun: Callable[..., Any],
    argnums: tuple[int, ...],
    microbatch_size: int,
    accumulator: Any,
    argnames: tuple[str, ...],
    in_axes: tuple[int, ...],
    num_real_microbatches: Any,
    shown_axes: Any = None,
) -> Callable[..., Any]:
    """:func:`microbatch` with checked arguments; errors name ``fn``.

    ``shown_axes`` is the ``in_axes`` the user wrote (default: ``in_axes``).
    """
    shown = in_axes if shown_axes is None else shown_axes

    def microbatched(*args: Any, **kwargs: Any) -> Any:
        slots = _batch_leaves(fn, argnums, argnames, in_axes, args, kwargs)
        sizes: dict[str, int] = {}
        axes: list[Any] = []
        for _, ax, label, tree in slots:
            flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
            leaf_axes = []
            for path, x in flat:
                where = label + jax.tree_util.keystr(path)
                shape = tuple(np.shape(x))
                hint = f"It is the batch axis of {where}."
                a = validate.axis(fn, "in_axes", ax, shape, shown=shown, hint=hint)
                sizes[where] = shape[a]
                leaf_axes.append(a)
            axes.append(jax.tree.unflatten(treedef, leaf_axes))
        if not sizes:
            raise validate.error(
                ValueError,
                fn,
                "the batch arguments (argnums, argnames) hold no arrays, so there "
                "is no batch axis to split.",
            )
        if len(set(sizes.values())) > 1:
            listing = ", ".join(f"{k}: {v}" for k, v in sizes.items())
            raise validate.error(
                ValueError,
                fn,
                "the batch arguments must have equal batch sizes along their "
                f"in_axes, got {listing}.",
            )
        batch_size = next(iter(sizes.values()))
        if batch_size % microbatch_size:
            raise validate.error(
                ValueError,
                fn,
                f"the batch size {batch_size} is not divisible by "
                f"microbatch_size={microbatch_size}.",
            )
        count = batch_size // microbatch_size
        split = [
            jax.tree.map(lambda x, a: _split(jnp.asarray(x), microbatch_size, a), t, ax)
            for (_, _, _, t), ax in zip(slots, axes, strict=True)
        ]

        def run(index: Any) -> Any:
            new_args, new_kwargs = list(args), dict(kwargs)
            for (slot, _, _, _), tree, ax in zip(slots, split, axes, strict=True):
                part = jax.tree.map(
                    lambda x, a: jax.lax.dynamic_index_in_dim(x, index, a, False),
                    tree,
                    ax,
                )
                if isinstance(slot, int):
                    new_args[slot] = part
                else:
                    new_kwargs[slot] = part
            return fun(*new_args, **new_kwargs)

        spec = jax.eval_shape(run, 0)
        acc = resolve(fn, accumulator, spec, count)
        steps: Any = count
        if num_real_microbatches is not None:
            n = num_real_microbatches
            if validate.is_concrete(n):
                if int(n) > count:
                    raise validate.error(
                        ValueError,
                        fn,
                        f"num_real_microbatches={int(n)} exceeds the {count} "
                        f"microbatches of the batch ({batch_size} rows / "
                        f"microbatch_size={microbatch_size}).",
                    )
                steps = int(n)
            else:
                steps = jnp.clip(n, 0, count)
        carry = jax.lax.fori_loop(
            0, steps, lambda i, c: acc.update(c, run(i), i), acc.init(spec)
        )
        return acc.finalize(carry)

    return microbatched


def microbatch(
    fun: Callable[..., Any],
    argnums: int | Sequence[int],
    microbatch_size: int | None,
    accumulator: Accumulator | AccumulationType | Any = AccumulationType.SUM,
    *,
    argnames: str | Sequence[str] = (),
    in_axes: int | Sequence[int] = 0,
    num_real_microbatches: int | jax.Array | None = None,
) -> Callable[..., Any]:
    r"""Evaluates ``fun`` one microbatch at a time and combines the results.

    The batch arguments (``argnums``, ``argnames``) are split along their
    ``in_axes`` into :math:`n = B / m` microbatches :math:`x_0, \dots,
    x_{n-1}` of :math:`m` = ``microbatch_size`` rows (column-major, see
    :func:`reshape_batch_axis`), and

    .. math::
       \mathrm{out} = \bigoplus_{i=0}^{n-1} \mathrm{fun}(x_i)

    with :math:`\oplus` the ``accumulator``: SUM (:math:`\sum_i`), MEAN
    (:math:`\frac1n\sum_i`), RUNNING_MEAN, CONCAT (rows back in the batch's
    order), or a custom :class:`Accumulator`, per subtree of the output. The
    result equals ``fun`` on the full batch whenever ``fun`` decomposes that
    way (a sum, a mean, a per-row map); a function that mixes rows (a
    product of neighbours) gives the microbatches' combination instead.

    Memory: a ``lax.fori_loop`` runs the microbatches in sequence, so only
    one microbatch's intermediates (activations, per-example gradients) and
    the accumulator's carry are alive at a time: peak memory scales with
    :math:`m`, not :math:`B`, at the cost of :math:`n` sequential steps.

    Args:
      fun: the function to microbatch.
      argnums: index or indices of the positional arguments with a batch axis.
      microbatch_size: rows per microbatch, an int >= 1 dividing the batch
        size; None returns ``fun`` itself.
      accumulator: how to combine the results: an :class:`AccumulationType`,
        an :class:`Accumulator`, or a pytree prefix of ``fun``'s output with
        these at its leaves.
      argnames: name or names of keyword arguments with a batch axis.
      in_axes: the batch axis of each of ``argnums + argnames`` (one int for
        all); negative axes count from each leaf's end.
      num_real_microbatches: if given, only the first this many microbatches
        are run (a traced value works, without recompiling; it is clipped to
        ``[0, n]``), e.g. for a padded batch.

    Returns:
      A function taking ``fun``'s arguments.

    Raises:
      ValueError: at once, for a ``microbatch_size`` that is not an int >= 1,
        repeated ``argnums``/``argnames``, an ``in_axes`` of the wrong length
        or an unknown accumulator; when called, for ``argnums``/``argnames``
        the call lacks, an ``in_axes`` out of range, unequal batch sizes
        (each leaf's is listed), a batch size not divisible by
        ``microbatch_size``, an ``accumulator`` that is not a prefix of the
        output, or a concrete ``num_real_microbatches`` above ``n``.
      TypeError: MEAN or RUNNING_MEAN of non-floating results.

    Where gradtx differs from optax: the checks above (optax fails with
    IndexError, KeyError or a reshape error, or reads out of range);
    negative ``in_axes``; float16/bfloat16 sums accumulate in float32; MEAN
    of non-floating results is a TypeError (optax: ValueError).

    References:
      Huang et al., *GPipe: Efficient Training of Giant Neural Networks using
      Pipeline Parallelism*, NeurIPS 2019, https://arxiv.org/abs/1811.06965

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import microbatching
      >>> kinds = microbatching.AccumulationType
      >>> fun = lambda x: (x + 1, jnp.sum(3 * x))
      >>> micro = microbatching.microbatch(
      ...     fun, argnums=0, microbatch_size=2, accumulator=(kinds.CONCAT, kinds.SUM))
      >>> micro(jnp.array([1, 2, 3, 4]))
      (Array([2, 3, 4, 5], dtype=int32), Array(30, dtype=int32))
    """
    fn = "microbatch"
    if not callable(fun):
        raise validate.error(TypeError, fn, f"fun must be callable, got {fun!r}.")
    size_of_microbatch(fn, microbatch_size, optional=True)
    nums = validate.axes(fn, "argnums", argnums)
    if len(set(nums)) != len(nums):
        raise validate.error(ValueError, fn, f"argnums {argnums!r} repeats an index.")
    names = _names(fn, argnames)
    axes = validate.axes(fn, "in_axes", in_axes)
    if isinstance(in_axes, int | np.integer):
        axes = axes * (len(nums) + len(names))
    elif len(axes) != len(nums) + len(names):
        raise validate.error(
            ValueError,
            fn,
            f"in_axes={in_axes!r} has {len(axes)} entries, but argnums + argnames "
            f"name {len(nums) + len(names)} arguments: give one axis each, "
            "or one int for all.",
        )
    accumulator_leaves(fn, accumulator)
    real_microbatches(fn, num_real_microbatches)
    if microbatch_size is None:
        return fun
    return build(
        fn,
        fun,
        nums,
        microbatch_size,
        accumulator,
        names,
        axes,
        num_real_microbatches,
        shown_axes=in_axes,
    )
