"""reduce_on_plateau: optax's rule and state, checked against optax and a
plain-Python reading of the rule."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

# A loss that improves, plateaus (with noise below rtol), improves again.
VALUES = [5.0, 4.0, 3.0] + [3.0] * 7 + [2.0, 1.0] + [1.0 + 1e-6] * 12 + [0.5] * 3


def _python_rule(values: list[float], **kw: Any) -> list[float]:
    """The scales after each value, from the rule as optax documents it."""
    factor, patience = kw.get("factor", 0.1), kw.get("patience", 10)
    rtol, atol = kw.get("rtol", 1e-4), kw.get("atol", 0.0)
    cooldown, size = kw.get("cooldown", 0), kw.get("accumulation_size", 1)
    min_scale = kw.get("min_scale", 0.0)
    scale, best, bad, cool, acc = 1.0, np.inf, 0, 0, []
    out = []
    for v in values:
        acc.append(v)
        if len(acc) == size:
            avg = float(np.mean(acc))
            acc = []
            improved = avg < (1 - rtol) * best - atol
            best = avg if improved else best
            bad = 0 if improved else bad + 1
            if cool > 0:
                bad, cool = 0, cool - 1
            elif bad == patience:
                scale, bad, cool = max(scale * factor, min_scale), 0, cooldown
            else:
                scale = max(scale, min_scale)
        out.append(scale)
    return out


CASES = [
    {"factor": 0.5, "patience": 3},
    {"factor": 0.5, "patience": 2, "cooldown": 3},
    {"factor": 0.1, "patience": 2, "accumulation_size": 2, "min_scale": 0.02},
    {"factor": 0.5, "patience": 3, "rtol": 0.0, "atol": 0.5},
]


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: "-".join(map(str, kw.values())))
def test_scales_follow_the_rule_and_optax(kw: dict) -> None:
    params = {"w": jnp.ones(3, jnp.float32), "b": jnp.ones((), jnp.float32)}
    grads = jax.tree.map(jnp.ones_like, params)
    runs: dict[str, list[float]] = {}
    for lib, make in (
        ("gradtx", gradtx.reduce_on_plateau),
        ("optax", optax.contrib.reduce_on_plateau),
    ):
        tx = make(**kw)
        update = jax.jit(tx.update)
        state = tx.init(params)
        scales = []
        for v in VALUES:
            u, state = update(grads, state, params, value=jnp.float32(v))
            scales.append(float(u["w"][0]))
        runs[lib] = scales
        if lib == "gradtx":
            final = state
        else:
            for a, b in zip(final, state, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-6)
                assert jnp.asarray(a).dtype == jnp.asarray(b).dtype
    expected = _python_rule(VALUES, **kw)
    np.testing.assert_allclose(runs["gradtx"], expected, rtol=1e-6)
    np.testing.assert_allclose(runs["gradtx"], runs["optax"], rtol=1e-6)
    assert min(expected) < 1.0  # the sequence does trigger reductions


def test_state_fields_are_optax_s() -> None:
    assert gradtx.ReduceLROnPlateauState._fields == (
        optax.contrib.ReduceLROnPlateauState._fields
    )


def test_bad_arguments_and_a_missing_value_name_the_problem() -> None:
    for kw, name in (
        ({"factor": 1.0}, "factor"),
        ({"patience": 0}, "patience"),
        ({"rtol": 2.0}, "rtol"),
        ({"accumulation_size": 0}, "accumulation_size"),
    ):
        with pytest.raises(ValueError, match=f"reduce_on_plateau: {name}"):
            gradtx.reduce_on_plateau(**kw)
    with pytest.raises(ValueError, match="rtol and atol are both 0"):
        gradtx.reduce_on_plateau(rtol=0.0, atol=0.0)
    tx = gradtx.reduce_on_plateau()
    w = jnp.ones(2)
    # A missing argument is a TypeError, as optax's update that requires it;
    # it is reported before the updates are compared with the params.
    with pytest.raises(TypeError, match="update needs the metric"):
        tx.update(w, tx.init(w), w)
    with pytest.raises(TypeError, match="update needs the metric"):
        tx.update((w, w), tx.init(w), w)
    with pytest.raises(ValueError, match="value must be a scalar"):
        tx.update(w, tx.init(w), w, value=jnp.ones(2))
