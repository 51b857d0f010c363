r"""Muon's building blocks: momentum orthogonalized by Newton-Schulz steps, and
the shape-dependent scale of the orthogonal update.

The update rule is written once, on :func:`gradtx.muon`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import safe_increment, up, zero_count
from gradtx.core import GradientTransformation, Params, Updates, init_empty_state
from gradtx.transforms._adam import _first_moment_zeros
from gradtx.transforms._lbfgs import real_dtype_of
from gradtx.transforms._moments import DECAY, ema_of_updates

__all__ = [
    "MuonDimensionNumbers",
    "MuonState",
    "orthogonalize_via_newton_schulz",
    "scale_by_muon",
    "scale_by_shape",
]

DEFAULT_NS_COEFFS = (3.4445, -4.7750, 2.0315)
NS_COEFFS_PRESETS: dict[str, Any] = {
    "standard": DEFAULT_NS_COEFFS,
    "dion": (
        (4.0848, -6.8946, 2.9270),
        (3.9505, -6.3029, 2.6377),
        (3.7418, -5.5913, 2.3037),
        (2.8769, -3.1427, 1.2046),
        (2.8366, -3.0525, 1.2012),
    ),
}
PRECONDITIONINGS = ("frobenius", "spectral", "aol", "schatten")


class MuonDimensionNumbers(NamedTuple):
    """Which axes of a weight are the matrix that Muon orthogonalizes (optax's).

    The weight maps ``x @ W = y``: ``reduction_axis`` (axes summed over, the
    fan-in) and ``output_axis`` (the fan-out). Any other axis is a batch axis:
    each slice along it is orthogonalized on its own. A PyTorch ``Linear``
    weight, stored (out, in), is ``MuonDimensionNumbers(1, 0)``.

    Example:
      >>> import gradtx
      >>> gradtx.MuonDimensionNumbers(reduction_axis=(0, 1), output_axis=2)
      MuonDimensionNumbers(reduction_axis=(0, 1), output_axis=2)
    """

    reduction_axis: Sequence[int] | int = 0
    output_axis: Sequence[int] | int = 1


DimensionNumbers = Any  # a MuonDimensionNumbers or None, a tree of them, or a function


class _Box:
    """A dimension-numbers entry as a pytree leaf (None and NamedTuples are nodes)."""

    __slots__ = ("dims",)

    def __init__(self, dims: MuonDimensionNumbers | None) -> None:
        self.dims = dims


def _is_dims(x: Any) -> bool:
    return x is None or isinstance(x, MuonDimensionNumbers)


def _resolve(fn: str, spec: DimensionNumbers, tree: Any) -> list[Any]:
    """One entry of ``spec`` per leaf of ``tree``: ``spec`` is None (None for
    every leaf: a matrix), a tree of :class:`MuonDimensionNumbers` and None like
    ``tree`` or a prefix of it, or a function ``tree -> such a tree``."""
    if spec is None:
        return [None] * len(jax.tree.leaves(tree))
    if callable(spec) and not isinstance(spec, MuonDimensionNumbers):
        spec = spec(tree)
    try:
        boxes = jax.tree.map(
            lambda d, sub: jax.tree.map(lambda _: _Box(d), sub),
            spec,
            tree,
            is_leaf=_is_dims,
        )
    except (ValueError, TypeError) as err:
        raise validate.error(
            ValueError,
            fn,
            "the weight dimension numbers must be a tree of MuonDimensionNumbers "
            "(or None) with the structure of the params, or a prefix of it: "
            f"{err}",
        ) from None
    return [b.dims for b in jax.tree.leaves(boxes)]


def _with_paths(tree: Any) -> list[tuple[Any, Any]]:
    return jax.tree_util.tree_flatten_with_path(tree)[0]


def _axes(ndim: int, dims: MuonDimensionNumbers) -> tuple[tuple[int, ...], ...]:
    """(batch, reduction, output) axes of an array of rank ``ndim``, non-negative."""
    norm = lambda a: tuple(int(i) % ndim for i in ((a,) if isinstance(a, int) else a))  # noqa: E731
    red, out = norm(dims.reduction_axis), norm(dims.output_axis)
    batch = tuple(i for i in range(ndim) if i not in red + out)
    return batch, red, out


def _check_leaf(fn: str, path: str, x: Any, dims: MuonDimensionNumbers | None) -> None:
    shape = tuple(jnp.shape(x))
    if dims is None:
        if len(shape) != 2:
            raise validate.error(
                ValueError,
                fn,
                f"updates{path} has shape {shape}: Muon's blocks take matrices. "
                "Give weight_dimension_numbers for a leaf of another rank, "
                "or use muon(), which sends the leaves that are not matrices to Adam.",
            )
        return
    if len(shape) < 2:
        raise validate.error(
            ValueError, fn, f"updates{path} has shape {shape}; Muon needs rank >= 2."
        )
    try:
        _, red, out = _axes(len(shape), dims)
    except TypeError:
        red, out = (), ()
    if not red or not out or set(red) & set(out) or len(set(red)) < len(red):
        raise validate.error(
            ValueError,
            fn,
            f"updates{path} of shape {shape}: {dims} must name distinct, disjoint "
            "reduction and output axes.",
        )


def _fans(shape: tuple[int, ...], dims: MuonDimensionNumbers | None) -> tuple[int, int]:
    _, red, out = _axes(len(shape), dims or MuonDimensionNumbers())
    return math.prod(shape[i] for i in red), math.prod(shape[i] for i in out)


def _orthogonalize(
    x: jax.Array, coeffs: jax.Array, preconditioning: str, eps: Any
) -> jax.Array:
    """Newton-Schulz on one matrix.

    A wide :math:`X` takes :math:`aX + (bA + cA^2)X` with :math:`A = XX^H`, as
    optax does; a tall one the same step on :math:`X^\top` written without
    transposing, :math:`aX + X(bA + cA^2)` with :math:`A = X^H X`. The steps
    run in a loop, so that XLA keeps two buffers of the matrix, not one per
    step.
    """
    tall = x.shape[0] > x.shape[1]

    def gram(x: jax.Array) -> jax.Array:
        return x.T.conj() @ x if tall else x @ x.T.conj()

    def step(x: jax.Array, a: jax.Array, c: jax.Array) -> jax.Array:
        m = c[1] * a + c[2] * (a @ a)
        return c[0] * x + (x @ m if tall else m @ x)

    if preconditioning == "frobenius":
        x = x / (jnp.linalg.norm(x) + eps)
    elif preconditioning == "spectral":
        x = x / (jnp.linalg.norm(x, ord=2) + eps)
    first = 0
    if preconditioning in ("aol", "schatten"):  # the first step rescales
        a = gram(x)
        if preconditioning == "aol":  # Boissin et al. 2025
            s = jax.lax.rsqrt(jnp.maximum(jnp.abs(a).sum(axis=-1), eps))
            x = x * (s[None, :] if tall else s[:, None])
            a = a * s[:, None] * s[None, :]
        else:  # the Schatten-4 norm (Grishina et al. 2025)
            s = jax.lax.rsqrt(jnp.maximum(jnp.linalg.norm(a), eps))
            x, a = x * s, a * s**2
        x, first = step(x, a, coeffs[0]), 1
    return jax.lax.fori_loop(
        first, coeffs.shape[0], lambda i, x: step(x, gram(x), coeffs[i]), x
    )


def orthogonalize_via_newton_schulz(
    x: jax.Array,
    ns_coeffs: jax.Array,
    ns_steps: int = 5,
    preconditioning: str = "frobenius",
    eps: Any = 1e-8,
    dimension_numbers: MuonDimensionNumbers | None = None,
) -> jax.Array:
    r"""An approximately orthogonal matrix with the singular vectors of ``x``.

    ``ns_steps`` steps :math:`X \leftarrow aX + b(XX^H)X + c(XX^H)^2X` (one per
    row when ``ns_coeffs`` has shape (n, 3)) after dividing ``x`` by a norm, so
    that :math:`U\Sigma V^H \mapsto U S' V^H` with :math:`S'_{ii}` near 1
    (Jordan's coefficients give values in about [0.7, 1.2]). Arrays of another
    rank are reshaped by ``dimension_numbers`` (a 2-D ``x`` always uses
    ``MuonDimensionNumbers(0, 1)``). Computed in ``x``'s dtype.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.transforms._muon import orthogonalize_via_newton_schulz
      >>> o = orthogonalize_via_newton_schulz(jnp.diag(jnp.array([4.0, 1.0])),
      ...                                     jnp.array([3.4445, -4.7750, 2.0315]))
      >>> jnp.round(jnp.diag(o), 1)  # 4 and 1 both map near 1
      Array([0.7, 0.7], dtype=float32)
    """
    if x.ndim != 2 and not isinstance(dimension_numbers, MuonDimensionNumbers):
        raise ValueError(
            "orthogonalize_via_newton_schulz: x must be a matrix, or give "
            f"dimension_numbers; got shape {x.shape}."
        )
    dims = MuonDimensionNumbers() if x.ndim == 2 else dimension_numbers
    coeffs = jnp.asarray(ns_coeffs, x.real.dtype)
    if coeffs.ndim == 1:
        coeffs = jnp.broadcast_to(coeffs, (int(ns_steps), 3))
    batch, red, out = _axes(x.ndim, dims)  # type: ignore[arg-type]
    order = batch + red + out
    sizes = [math.prod(x.shape[i] for i in axes) for axes in (batch, red, out)]
    if x.ndim == 2:
        return _orthogonalize(x, coeffs, preconditioning, eps)
    flat = x.transpose(order).reshape(sizes)
    done = jax.vmap(lambda m: _orthogonalize(m, coeffs, preconditioning, eps))(flat)
    unflat = done.reshape([x.shape[i] for i in order])
    return unflat.transpose([order.index(i) for i in range(x.ndim)])


def ns_coefficients(fn: str, ns_coeffs: Any, ns_steps: Any) -> tuple[np.ndarray, int]:
    """``ns_coeffs`` as a float64 NumPy array (a preset's name resolved), and the
    number of steps."""
    if isinstance(ns_coeffs, str):
        ns_coeffs = NS_COEFFS_PRESETS[
            validate.choice(fn, "ns_coeffs", ns_coeffs, list(NS_COEFFS_PRESETS))
        ]
    validate.integer(fn, "ns_steps", ns_steps, low=1, meaning="Newton-Schulz steps")
    try:
        arr = np.asarray(ns_coeffs, np.float64)
    except (TypeError, ValueError):
        arr = None
    if (
        arr is None
        or arr.ndim not in (1, 2)
        or arr.shape[-1] != 3
        or not np.isfinite(arr).all()
    ):
        raise validate.error(
            ValueError,
            fn,
            "ns_coeffs must be 3 finite numbers (a, b, c), or one such row per "
            f"step, or a preset name {sorted(NS_COEFFS_PRESETS)}; got {ns_coeffs!r}.",
        )
    if arr.ndim == 2 and arr.shape[0] > ns_steps:
        raise validate.error(
            ValueError,
            fn,
            f"ns_coeffs has {arr.shape[0]} rows, one per step, but "
            f"ns_steps={ns_steps}; give ns_steps >= the rows (all rows are used, "
            "as in optax).",
        )
    return arr, int(ns_steps)


class MuonState(NamedTuple):
    """State of :func:`scale_by_muon` (optax's fields)."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    mu: Any  # like params (dtype: mu_dtype or the param's): momentum
    ns_coeffs: jax.Array  # [3] or [n, 3], the params' real dtype (float32+)


def scale_by_muon(
    ns_coeffs: Any = DEFAULT_NS_COEFFS,
    ns_steps: int = 5,
    beta: Any = 0.95,
    eps: Any = 1e-8,
    mu_dtype: Any = None,
    *,
    nesterov: bool = True,
    adaptive: bool = False,
    preconditioning: str = "frobenius",
    weight_dimension_numbers: DimensionNumbers = None,
    bias_correction: bool = False,
) -> GradientTransformation:
    r"""Orthogonalizes the momentum of matrix updates by Newton-Schulz steps.

    Produces :math:`\mathrm{NS}(\tilde B_t)`; see :func:`gradtx.muon` for the
    full rule, its references and the arguments (the same names). Every leaf
    must be a matrix, or have an entry in ``weight_dimension_numbers`` (a
    :class:`MuonDimensionNumbers`, a tree of them like the params, or a
    function ``updates -> such a tree``; None: every leaf is a matrix).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state :class:`MuonState`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``mu_dtype`` is not a floating dtype, or a flag not a bool.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_muon()
      >>> g = jnp.array([[3.0, 0.0], [0.0, 0.5]])
      >>> u, _ = tx.update(g, tx.init(g))
      >>> jnp.round(jnp.diag(u), 1)  # singular values near 1, whatever g's
      Array([0.7, 1. ], dtype=float32)
    """
    fn = validate.who("scale_by_muon")
    coeffs, steps = ns_coefficients(fn, ns_coeffs, ns_steps)
    validate.number(fn, "beta", beta, **DECAY)
    validate.number(fn, "eps", eps, low=0.0, low_open=True, hint=_EPS_HINT)
    validate.dtype(fn, "mu_dtype", mu_dtype, kind="inexact", optional=True)
    for name, flag in (
        ("nesterov", nesterov),
        ("adaptive", adaptive),
        ("bias_correction", bias_correction),
    ):
        validate.boolean(fn, name, flag)
    validate.choice(fn, "preconditioning", preconditioning, PRECONDITIONINGS)
    how = "exact" if mu_dtype is None else "ignore"

    def init(params: Params) -> MuonState:
        validate.params(fn, params)
        return MuonState(
            count=zero_count(),
            mu=_first_moment_zeros(params, mu_dtype),
            ns_coeffs=jnp.asarray(coeffs, real_dtype_of(params)),
        )

    def update(
        updates: Updates, state: MuonState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, MuonState]:
        validate.updates(
            fn, updates, params, state.mu, name="scale_by_muon state.mu", dtypes=how
        )
        leaves, treedef = jax.tree.flatten(updates)
        paths = [jax.tree_util.keystr(p) for p, _ in _with_paths(updates)]
        dims = _resolve(fn, weight_dimension_numbers, updates)
        for path, x, d in zip(paths, leaves, dims, strict=True):
            _check_leaf(fn, path, x, d)
        count = safe_increment(state.count)
        bc = numerics.bias_correction(beta, count)
        bc_next = numerics.bias_correction(beta, safe_increment(count))
        outs, mus = [], []
        mu_leaves = treedef.flatten_up_to(state.mu)  # type: ignore[attr-defined]
        for g, m_old, d in zip(leaves, mu_leaves, dims, strict=True):
            m = ema_of_updates(g, m_old, beta)
            g32 = up(g)
            if nesterov and bias_correction:  # optax: Dozat's NAdam form
                b = beta * (m / bc_next.astype(m.real.dtype)) + (1 - beta) * (
                    g32 / bc.astype(m.real.dtype)
                )
            elif nesterov:  # Jordan 2024
                b = beta * m + (1 - beta) * g32
            else:
                b = m / bc.astype(m.real.dtype) if bias_correction else m
            o = orthogonalize_via_newton_schulz(
                b, state.ns_coeffs.astype(b.real.dtype), steps, preconditioning, eps, d
            )
            if adaptive:  # Bernstein & Newhouse 2024: the dual norm of b
                o = jnp.sum(b.conj() * o) * o
            outs.append(o.astype(g.dtype))
            mus.append(m.astype(m_old.dtype))
        new_state = MuonState(count, jax.tree.unflatten(treedef, mus), state.ns_coeffs)
        return jax.tree.unflatten(treedef, outs), new_state

    return GradientTransformation(init, update)


_EPS_HINT = (
    "Newton-Schulz divides by a norm of the momentum plus eps, and a leaf whose "
    "gradients have all been 0 would divide 0 by 0."
)


def scale_by_shape(
    weight_dimension_numbers: DimensionNumbers = None,
    consistent_rms: Any = None,
) -> GradientTransformation:
    r"""Scales each matrix update by a factor of its shape (Muon's, optax's).

    :math:`\sqrt{\max(1, n_{out}/n_{in})}` (Jordan 2024: the same RMS-to-RMS
    operator norm for every layer), or with ``consistent_rms``
    :math:`r \sqrt{\max(n_{in}, n_{out})}` (Liu et al. 2025: an update RMS of
    about :math:`r`, AdamW's for :math:`r = 0.2`); :math:`n_{in}, n_{out}` are
    the sizes of the reduction and output axes given by
    ``weight_dimension_numbers`` (as in :func:`scale_by_muon`; None: every
    leaf is a matrix ``(n_in, n_out)``).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_shape()
      >>> tx.update(jnp.ones((1, 4)), tx.init(jnp.ones((1, 4))))[0]  # sqrt(4/1)
      Array([[2., 2., 2., 2.]], dtype=float32)
    """
    fn = validate.who("scale_by_shape")
    validate.optional_number(
        fn, "consistent_rms", consistent_rms, low=0.0, low_open=True
    )

    def update(
        updates: Updates, state: Any, params: Params | None = None, **_: Any
    ) -> tuple[Updates, Any]:
        validate.updates(fn, updates, params)
        leaves, treedef = jax.tree.flatten(updates)
        dims = _resolve(fn, weight_dimension_numbers, updates)
        paths = [jax.tree_util.keystr(p) for p, _ in _with_paths(updates)]
        for path, x, d in zip(paths, leaves, dims, strict=True):
            _check_leaf(fn, path, x, d)
        outs = []
        for x, d in zip(leaves, dims, strict=True):
            fan_in, fan_out = _fans(tuple(x.shape), d)
            if consistent_rms is None:
                factor: Any = math.sqrt(max(1.0, fan_out / fan_in))
            else:
                factor = math.sqrt(max(fan_in, fan_out)) * consistent_rms
            outs.append((up(x) * jnp.asarray(factor, up(x).real.dtype)).astype(x.dtype))
        return jax.tree.unflatten(treedef, outs), state

    return GradientTransformation(init_empty_state, update)
