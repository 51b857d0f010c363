"""The shared harness of the optimizer tests: problems, runners, references.

``test_numpy_reference.py`` and each optimizer family's tests check gradtx
against a NumPy reference written from the paper (``numpy_reference.py`` and
the family's own reference module) with these helpers: the same problem (a
pytree of mixed shapes with seeded gradients of different magnitudes per
leaf), gradtx run through one jitted step, the reference run in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import gradtx
from tests.optimizers import numpy_reference as ref

STEPS = 50
SHAPES = {"w": (3, 4), "b": (4,), "scalar": ()}
GRAD_SCALE = {"w": 1.0, "b": 1e-3, "scalar": 10.0}
RTOL, ATOL = 1e-10, 1e-12  # float64 against float64
RTOL32, ATOL32 = 1e-5, 1e-6  # float32 gradtx against the float64 reference

MakeTx = Callable[[], gradtx.GradientTransformation]
MakeRef = Callable[[], ref.Reference]


def make_problem(
    seed: int = 0, dtype: Any = np.float64, steps: int = STEPS
) -> tuple[ref.Tree, list[ref.Tree]]:
    """Initial params and ``steps`` gradient trees, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    is_complex = np.issubdtype(dtype, np.complexfloating)

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        x = rng.normal(size=shape)
        if is_complex:
            x = x + 1j * rng.normal(size=shape)
        return np.asarray(x, dtype)

    params = {k: draw(s) for k, s in SHAPES.items()}
    mean = {k: draw(s) for k, s in SHAPES.items()}
    grads = [
        {
            k: np.asarray(GRAD_SCALE[k] * (mean[k] + draw(s)), dtype)
            for k, s in SHAPES.items()
        }
        for _ in range(steps)
    ]
    return params, grads


def run_gradtx(
    tx: gradtx.GradientTransformation, params: ref.Tree, grads: list[ref.Tree]
) -> ref.Tree:
    """Runs ``tx`` for ``len(grads)`` steps through one jitted step function."""

    @jax.jit
    def step(p: Any, state: Any, g: Any) -> tuple[Any, Any]:
        updates, state = tx.update(g, state, p)
        return gradtx.apply_updates(p, updates), state

    p = {k: jnp.asarray(v) for k, v in params.items()}
    state = tx.init(p)
    for g in grads:
        p, state = step(p, state, g)
    return {k: np.asarray(v) for k, v in p.items()}


def run_reference(
    reference: ref.Reference, params: ref.Tree, grads: list[ref.Tree]
) -> ref.Tree:
    """Runs the NumPy reference in float64 (complex128 for complex params)."""
    wide = np.complex128 if np.iscomplexobj(params["w"]) else np.float64

    def cast(tree: ref.Tree) -> ref.Tree:
        return {k: np.asarray(v, wide) for k, v in tree.items()}

    return ref.run(reference, cast(params), [cast(g) for g in grads])


def assert_trees_close(
    actual: ref.Tree, expected: ref.Tree, rtol: float, atol: float
) -> None:
    assert actual.keys() == expected.keys()
    for k in expected:
        np.testing.assert_allclose(
            actual[k], expected[k], rtol=rtol, atol=atol, err_msg=k
        )


def max_rel_diff(a: ref.Tree, b: ref.Tree) -> float:
    """The largest ``|a - b| / (|b| + 1e-12)`` over all leaves."""
    return max(float(np.max(np.abs(a[k] - b[k]) / (np.abs(b[k]) + 1e-12))) for k in a)


def moved(final: ref.Tree, initial: ref.Tree) -> float:
    return max(float(np.max(np.abs(final[k] - initial[k]))) for k in final)


# Schedules: gradtx's and the reference's, written independently. gradtx
# schedules built from Python floats compute in float32 by design (see
# gradtx.schedules); float64 values make them float64, as float64 params need.
def linear_gradtx(init: float, end: float, steps: int) -> gradtx.Schedule:
    return gradtx.linear_schedule(np.float64(init), np.float64(end), steps)


def linear_ref(init: float, end: float, steps: int) -> Callable[[int], float]:
    """``init`` to ``end`` in a straight line over ``steps`` steps, then held."""
    return lambda t: init + (end - init) * min(t, steps) / steps


def inverse_time(lr0: float) -> Callable[[Any], Any]:
    """``lr0 / (1 + t)``: a plain Python function, for gradtx and the reference."""
    return lambda t: lr0 / (1 + t)
