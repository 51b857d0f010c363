"""Random pytrees for the ``gradtx.tree`` tests, and how results are compared.

The trees mix what optimizers meet: nested dicts, tuples and lists, ``None``
leaves, scalars and zero-size arrays, in float32, bfloat16, float64,
complex64 and int32 (``tests/conftest.py`` enables float64).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import gradtx.tree

F32, BF16, F64, C64, I32 = (
    jnp.float32,
    jnp.bfloat16,
    jnp.float64,
    jnp.complex64,
    jnp.int32,
)


def leaf(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> jax.Array:
    """Random values of a dtype: small integers, or normal (complex) floats."""
    if jnp.issubdtype(dtype, jnp.integer):
        return jnp.asarray(rng.integers(-5, 6, shape), dtype)
    x = rng.standard_normal(shape)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        x = x + 1j * rng.standard_normal(shape)
    return jnp.asarray(x, dtype)


MIXED = (F32, BF16, F64, C64, I32, F32)  # dtypes of the leaves, in leaf order


def tree(seed: int, dtypes: tuple[Any, ...] = MIXED) -> Any:
    """A nested tree with a scalar, a zero-size leaf and a ``None`` leaf.

    Its six leaves have fixed shapes and, in leaf order, the given dtypes
    (cycled: ``tree(seed, (F32,))`` is all float32). Trees of the same dtypes
    share shapes, so eager operations on them share compiled kernels.
    """
    rng = np.random.default_rng(seed)
    d = [dtypes[i % len(dtypes)] for i in range(6)]
    return {
        "blocks": (
            leaf(rng, (), d[0]),
            [leaf(rng, (2, 2), d[1]), leaf(rng, (0,), d[2])],
        ),
        "dense": {"b": leaf(rng, (2,), d[3]), "w": leaf(rng, (3, 2), d[4])},
        "skip": None,
        "step": leaf(rng, (3,), d[5]),
    }


def positive(t: Any) -> Any:
    """``t`` with every element made positive (divisors, moments)."""
    return jax.tree.map(lambda x: jnp.abs(x) + jnp.ones((), x.dtype), t)


_RTOL = {"bfloat16": 2e-2, "float16": 2e-3, "float32": 2e-6, "complex64": 2e-6}


def rtol(*trees: Any) -> float:
    """The relative tolerance for results computed from ``trees``: that of their
    least precise floating leaf (float64 and integers: 1e-12)."""
    names = {jnp.result_type(x).name for t in trees for x in jax.tree.leaves(t)}
    return max([_RTOL.get(n, 1e-12) for n in names], default=1e-12)


def same_structure(a: Any, b: Any) -> bool:
    """Whether two pytrees have the same structure (containers and keys)."""
    return bool(jax.tree.structure(a) == jax.tree.structure(b))  # type: ignore[operator]


def _numpy(x: Any) -> np.ndarray:
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.complexfloating):
        return x.astype(np.complex128)
    if np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_:
        return x
    return x.astype(np.float64)  # float16, bfloat16, float32, float64


def assert_close(
    got: Any, want: Any, rtol: float = 0.0, *, dtypes: bool = True, atol: float = 0.0
) -> None:
    """Same structure, dtypes (unless ``dtypes=False``) and values (to ``rtol``;
    ``atol`` defaults to ``rtol``, for values of order one)."""
    assert same_structure(got, want), (got, want)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        if dtypes:
            assert jnp.result_type(g) == jnp.result_type(w), (g, w)
        np.testing.assert_allclose(
            _numpy(g), _numpy(w), rtol=rtol, atol=atol or rtol, equal_nan=True
        )


def eager_and_jit(fn: Callable[..., Any], *trees: Any) -> tuple[Any, Any]:
    """``fn(*trees)`` eagerly and under ``jax.jit`` (trees as traced arguments)."""
    return fn(*trees), jax.jit(fn)(*trees)


Cases = dict[str, tuple[Callable[..., Any], tuple[Any, ...]]]


def jit_all(cases: Cases) -> Callable[[], dict[str, tuple[Any, Any]]]:
    """A function returning, for every case, ``fn(gradtx.tree, *args)`` and
    ``fn(optax.tree, *args)`` computed under ``jax.jit``: one compilation for
    all cases and both libraries, on first use.

    The arguments are traced; Python numbers inside ``fn`` stay constants.
    """

    @functools.cache
    def results() -> dict[str, tuple[Any, Any]]:
        def run(args: dict[str, tuple[Any, ...]]) -> dict[str, tuple[Any, Any]]:
            return {
                n: (fn(gradtx.tree, *args[n]), fn(optax.tree, *args[n]))
                for n, (fn, _) in cases.items()
            }

        return jax.jit(run)({n: a for n, (_, a) in cases.items()})

    return results
