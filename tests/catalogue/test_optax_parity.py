"""Parity with optax: the same transformation, 60 steps, the same gradients.

optax is the reference implementation that gradtx's users switch from; for
every building block and optimizer with an optax counterpart, gradtx must give
the same params to 1e-6 (float32) over many steps, on a pytree of mixed
shapes, with constant learning rates and schedules (see ``cases.py``).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
from tests.catalogue.cases import CASES, OPTAX_REAL_ONLY, OPTIMIZER_NAMES, PARITY_NAMES

STEPS = 60
SHAPES = {"kernel": (5, 3), "bias": (3,), "scale": (), "conv": (2, 2, 3, 4)}


def _tree(rng: np.random.Generator, dtype: Any, scale: float = 1.0) -> dict:
    out = {}
    for k, s in SHAPES.items():
        x = rng.normal(size=s) * scale
        if jnp.issubdtype(dtype, jnp.complexfloating):
            x = x + 1j * rng.normal(size=s) * scale
        out[k] = jnp.asarray(x, dtype)
    return out


def _run(tx: Any, apply: Any, params: dict, grads: list[dict]) -> dict:
    @jax.jit
    def run(params: dict, grads: dict) -> dict:
        def step(carry: Any, g: dict) -> tuple[Any, None]:
            p, s = carry
            # A gradient that depends on the params too (a quadratic pull to 0).
            g = jax.tree.map(lambda gi, pi: gi + 0.5 * pi, g, p)
            u, s = tx.update(g, s, p)
            return (apply(p, u), s), None

        (p, _), _ = jax.lax.scan(step, (params, tx.init(params)), grads)
        return p

    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *grads)
    return run(params, stacked)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.complex64], ids=["f32", "c64"])
@pytest.mark.parametrize("name", PARITY_NAMES)
def test_matches_optax_over_many_steps(name: str, dtype: Any) -> None:
    make, make_optax, complex_ok = CASES[name]
    assert make_optax is not None
    if dtype == jnp.complex64 and not complex_ok:
        pytest.skip("this transformation does not take complex params")
    if dtype == jnp.complex64 and name in OPTAX_REAL_ONLY:
        pytest.skip("optax's counterpart does not take complex params")
    rng = np.random.default_rng(0)
    params = _tree(rng, dtype)
    grads = [_tree(rng, dtype, scale=0.5) for _ in range(STEPS)]
    ours_tx, theirs_tx = make(), make_optax()
    if name not in OPTIMIZER_NAMES:  # a building block: make it take small steps
        ours_tx = gradtx.chain(ours_tx, gradtx.scale(-0.05))
        theirs_tx = optax.chain(theirs_tx, optax.scale(-0.05))
    ours = _run(ours_tx, gradtx.apply_updates, params, grads)
    theirs = _run(theirs_tx, optax.apply_updates, params, grads)
    for k in SHAPES:
        assert ours[k].dtype == params[k].dtype
        np.testing.assert_allclose(ours[k], theirs[k], rtol=0, atol=1e-6, err_msg=k)
    # The run moved the params: parity is not the trivial "nothing happened".
    moved = max(float(jnp.max(jnp.abs(ours[k] - params[k]))) for k in SHAPES)
    assert moved > 1e-3 or name == "set_to_zero"


def test_parity_test_can_fail() -> None:
    """A deliberately different optimizer is caught by the same comparison."""
    rng = np.random.default_rng(0)
    params = _tree(rng, jnp.float32)
    grads = [_tree(rng, jnp.float32, 0.5) for _ in range(STEPS)]
    ours = _run(gradtx.adam(0.05, b2=0.99), gradtx.apply_updates, params, grads)
    theirs = _run(optax.adam(0.05), optax.apply_updates, params, grads)
    assert max(float(jnp.max(jnp.abs(ours[k] - theirs[k]))) for k in SHAPES) > 1e-4
