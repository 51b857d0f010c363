"""gradtx.activations.get / names: complete, jax.nn-compatible, helpful errors."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx.activations as acts

JAX_NAMES = {
    "celu",
    "elu",
    "gelu",
    "glu",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "identity",
    "leaky_relu",
    "log_sigmoid",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "soft_sign",
    "softplus",
    "sparse_plus",
    "sparse_sigmoid",
    "squareplus",
    "swish",
    "tanh",
}
NEW_NAMES = {
    "geglu",
    "hardshrink",
    "prelu",
    "rrelu",
    "snake",
    "softshrink",
    "squared_relu",
    "swiglu",
    "tanhshrink",
    "threshold",
}
# The arguments that a parametrized activation needs besides x.
CALL_KWARGS: dict[str, dict[str, Any]] = {
    "prelu": {"negative_slope": 0.1},
    "rrelu": {"key": jax.random.key(0)},
    "threshold": {"threshold": 0.0, "value": -1.0},
}
HALVING = {"glu", "swiglu", "geglu"}
GRID = jnp.linspace(-4.0, 4.0, 96, dtype=jnp.float32).reshape(12, 8)


def test_names_are_sorted_and_complete() -> None:
    names = acts.names()
    assert isinstance(names, tuple)
    assert list(names) == sorted(names)
    assert set(names) == JAX_NAMES | NEW_NAMES | {"linear"}
    assert set(acts.__all__) >= NEW_NAMES  # every new activation is exported


@pytest.mark.parametrize("name", sorted(JAX_NAMES))
def test_jax_names_give_jax_nn_values(name: str) -> None:
    ours, theirs = acts.get(name), getattr(jax.nn, name)
    np.testing.assert_array_equal(ours(GRID), theirs(GRID))


def test_linear_is_the_identity() -> None:
    np.testing.assert_array_equal(acts.get("linear")(GRID), GRID)


@pytest.mark.parametrize("name", acts.names())
def test_every_name_works_on_float32_and_keeps_it(name: str) -> None:
    f = acts.get(name)
    assert callable(f)
    y = f(GRID, **CALL_KWARGS.get(name, {}))
    assert y.dtype == jnp.float32
    assert y.shape == ((12, 4) if name in HALVING else (12, 8))
    assert bool(jnp.all(jnp.isfinite(y)))


def test_new_names_give_the_exported_functions() -> None:
    for name in NEW_NAMES:
        assert acts.get(name) is getattr(acts, name)


def test_lookup_is_forgiving_about_case_and_dashes() -> None:
    assert acts.get("Leaky-ReLU") is jax.nn.leaky_relu
    assert acts.get("SQUARED-RELU") is acts.squared_relu


def test_unknown_names_list_the_valid_ones_and_suggest_the_closest() -> None:
    with pytest.raises(ValueError, match=r"unknown activation 'rleu'") as info:
        acts.get("rleu")
    message = str(info.value)
    assert "Did you mean 'relu'" in message
    for name in acts.names():
        assert name in message
    with pytest.raises(ValueError, match=r"Did you mean 'swiglu'"):
        acts.get("swigul")
    with pytest.raises(TypeError, match="must be a string"):
        acts.get(jax.nn.relu)  # type: ignore[arg-type]
