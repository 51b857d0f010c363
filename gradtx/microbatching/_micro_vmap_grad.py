"""``vmap`` and per-example gradients, microbatched: :func:`micro_vmap`,
:func:`micro_grad`.

:func:`micro_vmap` vectorizes ``fun`` over one microbatch with ``jax.vmap``,
reduces the microbatch's rows with the accumulator's ``aggregate``, and
folds the microbatches with :func:`microbatch`. :func:`micro_grad` is
:func:`micro_vmap` of ``jax.value_and_grad``: per-example gradients,
transformed (clipped, squared...) one example at a time, then combined.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

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
from gradtx.microbatching._microbatch import (
    build,
    real_microbatches,
    size_of_microbatch,
)

__all__ = ["IndividualOutputs", "micro_grad", "micro_vmap"]


class IndividualOutputs(NamedTuple):
    """The per-example outputs of :func:`micro_grad`, each with a batch axis.

    Example:
      >>> from gradtx.microbatching._micro_vmap_grad import IndividualOutputs
      >>> IndividualOutputs(values=1.0, metrics=None, aux=None).values
      1.0
    """

    values: Any  # fun's value for each example, shape (batch,)
    metrics: Any  # metrics_fn of each example's gradient
    aux: Any  # fun's auxiliary output for each example (has_aux), else None


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def _vmap_axes(fn: str, in_axes: Any) -> int | tuple[int | None, ...]:
    """``in_axes`` as an int or a tuple of ints and Nones, else a TypeError."""
    if _is_int(in_axes):
        return int(in_axes)
    if (
        isinstance(in_axes, Sequence)
        and not isinstance(in_axes, str)
        and all(a is None or _is_int(a) for a in in_axes)
    ):
        return tuple(None if a is None else int(a) for a in in_axes)
    raise validate.error(
        TypeError,
        fn,
        f"in_axes must be an int or a sequence of ints and Nones, one per "
        f"positional argument, got {in_axes!r}.",
    )


def _micro_vmap(
    fn: str,
    fun: Callable[..., Any],
    in_axes: int | tuple[int | None, ...],
    microbatch_size: int | None,
    vmap_fn: Callable[..., Any],
    accumulator: Any,
    num_real_microbatches: Any,
) -> Callable[..., Any]:
    """:func:`micro_vmap` with checked arguments; errors name ``fn``."""

    def mapped_fun(*args: Any, **kwargs: Any) -> Any:
        if isinstance(in_axes, int):
            axes: tuple[int | None, ...] = (in_axes,) * len(args)
        elif len(in_axes) != len(args):
            raise validate.error(
                ValueError,
                fn,
                f"in_axes={in_axes!r} has {len(in_axes)} entries, but the call has "
                f"{len(args)} positional argument(s): give one axis (or None) each.",
            )
        else:
            axes = in_axes

        def vmap_reduce(*a: Any, kwargs: dict[str, Any]) -> Any:
            out = vmap_fn(fun, axes, 0)(*a, **kwargs)
            return resolve(fn, accumulator, out, None).aggregate(out)

        if microbatch_size is None:
            return vmap_reduce(*args, kwargs=kwargs)
        nums = tuple(i for i, a in enumerate(axes) if a is not None)
        batch_axes = (*(a for a in axes if a is not None), 0)
        micro = build(
            fn,
            vmap_reduce,
            nums,
            microbatch_size,
            accumulator,
            ("kwargs",),
            batch_axes,
            num_real_microbatches,
            shown_axes=in_axes,
        )
        return micro(*args, kwargs=kwargs)

    return mapped_fun


def micro_vmap(
    fun: Callable[..., Any],
    in_axes: int | Sequence[int | None] = 0,
    out_axes: Any = 0,
    *,
    microbatch_size: int | None = None,
    vmap_fn: Callable[..., Any] = jax.vmap,
    accumulator: Accumulator | AccumulationType | Any = AccumulationType.CONCAT,
    num_real_microbatches: int | jax.Array | None = None,
) -> Callable[..., Any]:
    r"""``jax.vmap`` over a batch too large to vectorize at once.

    With the mapped arguments split into :math:`n` microbatches :math:`x_i`
    of ``microbatch_size`` rows (column-major, see
    :func:`reshape_batch_axis`),

    .. math::
       \mathrm{out} = \bigoplus_{i=0}^{n-1}
       \mathrm{aggregate}\big(\mathrm{vmap}(\mathrm{fun})(x_i)\big)

    where ``aggregate`` reduces the rows of one microbatch and
    :math:`\oplus` combines the microbatches, both by the ``accumulator``.
    The default CONCAT gives exactly ``jax.vmap(fun, in_axes)(x)``; SUM and
    MEAN give its sum or mean over the batch without ever holding the
    per-example outputs of more than one microbatch.

    Memory: only one microbatch is vectorized at a time (a
    ``lax.fori_loop`` walks them), so peak memory scales with
    ``microbatch_size``; with ``microbatch_size=None`` it is one
    ``jax.vmap`` over the whole batch, then the reduction.

    Args:
      fun: the function to map.
      in_axes: the mapped axis of each positional argument (None: not
        mapped), or one int for all of them. Keyword arguments are mapped
        along axis 0, as with ``jax.vmap``.
      out_axes: must be 0 (the outputs' batch axis leads).
      microbatch_size: rows per microbatch (None: one microbatch).
      vmap_fn: a function with ``jax.vmap``'s signature, used to map.
      accumulator: how to reduce over the batch: CONCAT (keep it), SUM,
        MEAN, RUNNING_MEAN, an :class:`Accumulator`, or a pytree prefix of
        ``fun``'s output with these at its leaves.
      num_real_microbatches: run only the first this many microbatches (see
        :func:`microbatch`).

    Returns:
      A function taking ``fun``'s arguments, each with a batch axis.

    Raises:
      NotImplementedError: ``out_axes`` is not 0.
      TypeError: ``in_axes`` is not an int or a sequence of ints and Nones.
      ValueError: as :func:`microbatch`; also an ``in_axes`` sequence whose
        length is not the number of positional arguments.

    Where gradtx differs from optax: an int ``in_axes`` maps every positional
    argument, as in ``jax.vmap`` (optax maps only the first and then fails
    with two or more); the checks above; the differences of
    :func:`microbatch`.

    References:
      Huang et al., *GPipe: Efficient Training of Giant Neural Networks using
      Pipeline Parallelism*, NeurIPS 2019, https://arxiv.org/abs/1811.06965

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import microbatching
      >>> x = jnp.arange(8.0)
      >>> microbatching.micro_vmap(lambda v: v**2, microbatch_size=2)(x)
      Array([ 0.,  1.,  4.,  9., 16., 25., 36., 49.], dtype=float32)
      >>> microbatching.micro_vmap(
      ...     lambda v, w: v * w, microbatch_size=4,
      ...     accumulator=microbatching.AccumulationType.SUM)(x, x)  # x @ x
      Array(140., dtype=float32)
    """
    fn = "micro_vmap"
    if not callable(fun):
        raise validate.error(TypeError, fn, f"fun must be callable, got {fun!r}.")
    if not (_is_int(out_axes) and out_axes == 0):
        raise validate.error(
            NotImplementedError,
            fn,
            f"out_axes must be 0 (the batch axis leads the outputs), got {out_axes!r}.",
        )
    axes = _vmap_axes(fn, in_axes)
    size_of_microbatch(fn, microbatch_size, optional=True)
    accumulator_leaves(fn, accumulator)
    real_microbatches(fn, num_real_microbatches)
    return _micro_vmap(
        fn, fun, axes, microbatch_size, vmap_fn, accumulator, num_real_microbatches
    )


def micro_grad(
    fun: Callable[..., Any],
    has_aux: bool = False,
    argnums: int | Sequence[int] = 0,
    *,
    batch_argnums: int | Sequence[int] = 1,
    keep_batch_dim: bool = True,
    microbatch_size: int | None = None,
    accumulator: Accumulator | AccumulationType | Any = AccumulationType.SUM,
    transform_fn: Callable[[Any], Any] = lambda x: x,
    metrics_fn: Callable[[Any], Any] = lambda x: None,
    num_real_microbatches: int | jax.Array | None = None,
) -> Callable[..., tuple[Any, IndividualOutputs]]:
    r"""Per-example gradients of ``fun``, transformed, then combined.

    For each example :math:`x_j` of the batch arguments (``batch_argnums``),
    with :math:`g_j = \nabla_\theta\, \mathrm{fun}(\theta, x_j)` (the
    gradient with respect to ``argnums``), the returned function gives

    .. math::
       \Big(\bigoplus_{j=1}^{B} T(g_j),\;
       \big(\mathrm{fun}(\theta, x_j),\ M(g_j),\ \mathrm{aux}_j\big)_{j=1}^{B}\Big)

    with :math:`T` = ``transform_fn``, :math:`M` = ``metrics_fn`` and
    :math:`\oplus` the ``accumulator`` (SUM by default, so a per-example
    mean loss gives :math:`B` times the batch gradient; MEAN gives the
    gradient of the batch's mean loss). Clipping each :math:`g_j` in
    :math:`T` is DP-SGD's per-example clipping.

    Memory: per-example gradients (one parameter-sized tree per example)
    are computed ``microbatch_size`` examples at a time and reduced at once,
    so they never exist for the whole batch.

    Args:
      fun: the loss, ``fun(params, batch, ...)`` by default.
      has_aux: whether ``fun`` returns ``(value, aux)``.
      argnums: the argument(s) to differentiate with respect to.
      batch_argnums: the positional argument(s) with a batch axis (axis 0).
        Keyword arguments are batched too, along axis 0.
      keep_batch_dim: whether ``fun`` sees each example with a batch axis of
        size 1 (True) or without one (False).
      microbatch_size: examples per microbatch (None: the whole batch).
      accumulator: how to combine the transformed gradients (a pytree prefix
        of ``transform_fn``'s output).
      transform_fn: applied to each example's gradient before combining.
      metrics_fn: applied to each example's gradient; returned per example.
      num_real_microbatches: run only the first this many microbatches.

    Returns:
      A function of ``fun``'s arguments returning ``(combined, aux)``, with
      ``aux`` an :class:`IndividualOutputs` of per-example ``values``,
      ``metrics`` and ``aux``.

    Raises:
      TypeError: ``has_aux``/``keep_batch_dim`` not a bool, a non-int index,
        or a non-callable ``fun``/``transform_fn``/``metrics_fn``.
      ValueError: as :func:`micro_vmap`; also ``argnums`` or
        ``batch_argnums`` beyond the call's positional arguments.

    Where gradtx differs from optax: positional arguments after the last
    batch argument are allowed (unmapped; optax's ``in_axes`` is too short
    for them); the checks above; the differences of :func:`microbatch`.

    References:
      Abadi et al., *Deep Learning with Differential Privacy*, CCS 2016,
      https://arxiv.org/abs/1607.00133

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import microbatching
      >>> def loss(params, features, targets):
      ...     return 0.5 * jnp.mean((features @ params - targets) ** 2)
      >>> grad_fn = microbatching.micro_grad(
      ...     loss, batch_argnums=(1, 2), microbatch_size=2,
      ...     accumulator=microbatching.AccumulationType.MEAN,
      ...     transform_fn=lambda g: (g, g**2), metrics_fn=jnp.linalg.norm)
      >>> (grad, grad_sq), aux = grad_fn(
      ...     jnp.zeros(1), jnp.ones((4, 1)), jnp.array([0.0, 2.0, 4.0, 6.0]))
      >>> grad, grad_sq  # per-example gradients are -0, -2, -4, -6
      (Array([-3.], dtype=float32), Array([14.], dtype=float32))
      >>> aux.metrics
      Array([0., 2., 4., 6.], dtype=float32)
    """
    fn = "micro_grad"
    for name, f in (("fun", fun), ("transform_fn", transform_fn)):
        if not callable(f):
            raise validate.error(TypeError, fn, f"{name} must be callable, got {f!r}.")
    if not callable(metrics_fn):
        raise validate.error(
            TypeError, fn, f"metrics_fn must be callable, got {metrics_fn!r}."
        )
    validate.boolean(fn, "has_aux", has_aux)
    validate.boolean(fn, "keep_batch_dim", keep_batch_dim)
    diff_nums = validate.axes(fn, "argnums", argnums)
    batch_nums = validate.axes(fn, "batch_argnums", batch_argnums)
    if not batch_nums:
        raise validate.error(
            ValueError, fn, "batch_argnums is empty; name the batched argument(s)."
        )
    size_of_microbatch(fn, microbatch_size, optional=True)
    combined = (accumulator, AccumulationType.CONCAT)
    accumulator_leaves(fn, combined)
    real_microbatches(fn, num_real_microbatches)

    def with_aux(*args: Any, **kwargs: Any) -> Any:
        return fun(*args, **kwargs) if has_aux else (fun(*args, **kwargs), None)

    value_and_grad = jax.value_and_grad(with_aux, argnums, has_aux=True)

    def per_example(*args: Any, **kwargs: Any) -> tuple[Any, IndividualOutputs]:
        (value, aux), grad = value_and_grad(*args, **kwargs)
        outputs = IndividualOutputs(values=value, metrics=metrics_fn(grad), aux=aux)
        return transform_fn(grad), outputs

    def grad_fn(*args: Any, **kwargs: Any) -> tuple[Any, IndividualOutputs]:
        for name, nums in (("argnums", diff_nums), ("batch_argnums", batch_nums)):
            for i in nums:
                if not -len(args) <= i < len(args):
                    raise validate.error(
                        ValueError,
                        fn,
                        f"{name}={nums if len(nums) > 1 else nums[0]!r} names "
                        f"positional argument {i}, but the call has {len(args)}.",
                    )
        batched = {i % len(args) for i in batch_nums}
        in_axes = tuple(0 if i in batched else None for i in range(len(args)))
        if keep_batch_dim:
            args = tuple(
                jax.tree.map(lambda x: jnp.expand_dims(x, 1), a) if i in batched else a
                for i, a in enumerate(args)
            )
        mapped = _micro_vmap(
            fn,
            per_example,
            in_axes,
            microbatch_size,
            jax.vmap,
            combined,
            num_real_microbatches,
        )
        result: tuple[Any, IndividualOutputs] = mapped(*args, **kwargs)
        return result

    return grad_fn
