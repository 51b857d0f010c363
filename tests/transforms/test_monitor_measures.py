"""monitor(measures): optax's monitor of stateless and stateful measurements."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx


def _solver(lib, clip: float = 1.0):  # type: ignore[no-untyped-def]
    return lib.chain(
        lib.sgd(learning_rate=0.1, momentum=0.9),
        lib.monitor(
            {
                "norm_before_clip": lib.tree.norm,
                "is_clipped_ema": lib.measure_with_ema(
                    lambda x: lib.tree.norm(x) > clip, decay=0.9
                ),
            }
        ),
        lib.clip_by_global_norm(clip),
    )


def test_monitor_matches_optax_and_a_plain_reading() -> None:
    params0 = jnp.array([1.0, 2.0, 3.0])
    got = {}
    for lib in (gradtx, optax):
        solver, params = _solver(lib), params0
        state = solver.init(params)
        step = jax.jit(solver.update)
        rows = []
        for _ in range(4):
            grads = 2 * params  # the gradient of sum(x**2)
            updates, state = step(grads, state)
            params = params + updates
            rows.append(
                [
                    float(lib.tree.get(state, n))
                    for n in ("norm_before_clip", "is_clipped_ema")
                ]
            )
        got[lib.__name__] = np.array(rows)
    np.testing.assert_allclose(got["gradtx"], got["optax"], rtol=1e-6)
    # By hand: SGD with momentum's update norm, and the debiased EMA of
    # whether it exceeded 1.
    p, mom, ema, rows = np.array([1.0, 2.0, 3.0]), np.zeros(3), 0.0, []
    for t in range(1, 5):
        mom = 2 * p + 0.9 * mom
        u = -0.1 * mom
        n = np.linalg.norm(u)
        ema = 0.9 * ema + 0.1 * float(n > 1.0)
        rows.append([n, ema / (1 - 0.9**t)])
        p = p + u * min(1.0, 1.0 / n)
    np.testing.assert_allclose(got["gradtx"], rows, rtol=1e-5)


def test_monitor_passes_updates_and_starts_empty() -> None:
    tx = gradtx.monitor({"sum": lambda u: jnp.sum(u)})
    state = tx.init(jnp.zeros(2))
    # Zeros shaped like the measurement, not optax's empty dict: one state
    # structure from init on.
    assert float(state.measurements["sum"]) == 0.0
    assert state.measure_states == (gradtx.EmptyState(),)
    u = jnp.array([1.0, 2.0])
    out, state = tx.update(u, state)
    assert out is u and float(state.measurements["sum"]) == 3.0


def test_monitor_rejects_what_is_not_a_measure() -> None:
    with pytest.raises(
        TypeError, match=r"monitor: measures must be a dict.*monitor_norms"
    ):
        gradtx.monitor(gradtx.sgd(0.1))
    with pytest.raises(TypeError, match=r"monitor: measures\['x'\] must be a function"):
        gradtx.monitor({"x": 3.0})
