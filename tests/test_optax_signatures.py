"""Switching the import line: every name gradtx shares with optax takes
optax's parameters, in optax's order, under optax's names (gradtx may add
keyword arguments after them)."""

from __future__ import annotations

import inspect
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

# Shared names whose signature is still gradtx's own, and why.
# (None today: gradtx's monitor of norms is monitor_norms, and monitor is
# optax's.)
DIFFERENT: dict[str, str] = {}


def _shared() -> list[str]:
    out = []
    for name in gradtx.__all__:
        ours, theirs = getattr(gradtx, name), getattr(optax, name, None)
        if theirs is None or isinstance(ours, type) or not callable(ours):
            continue
        try:
            inspect.signature(ours), inspect.signature(theirs)
        except (TypeError, ValueError):
            continue
        out.append(name)
    return out


SHARED = _shared()


def test_the_shared_names_are_many() -> None:
    assert len(SHARED) >= 90, len(SHARED)  # the test is not vacuous


@pytest.mark.parametrize("name", [n for n in SHARED if n not in DIFFERENT])
def test_optax_s_parameters_in_optax_s_order(name: str) -> None:
    ours = list(inspect.signature(getattr(gradtx, name)).parameters.values())
    theirs = list(inspect.signature(getattr(optax, name)).parameters.values())
    assert [p.name for p in ours[: len(theirs)]] == [p.name for p in theirs]
    for a, b in zip(ours, theirs, strict=False):
        assert a.kind == b.kind, (name, a.name)
    extra = ours[len(theirs) :]
    assert all(
        p.kind is inspect.Parameter.KEYWORD_ONLY or p.default is not p.empty
        for p in extra
    ), f"{name}: an added parameter must be optional"


def test_scale_by_learning_rate_defaults_to_optax_s_identity() -> None:
    g = jnp.array([1.0, -2.0])
    for lib in (gradtx, optax):
        tx = lib.scale_by_learning_rate()
        np.testing.assert_array_equal(tx.update(g, tx.init(g))[0], g)


def test_the_deprecated_seed_of_add_noise_is_an_int_key() -> None:
    g = {"w": jnp.ones(3)}
    runs: dict[str, Any] = {}
    for kw in ({"seed": 5}, {"key": 5}):
        tx = gradtx.noisy_sgd(0.1, **kw)
        runs[str(kw)] = jax.jit(tx.update)(g, tx.init(g), g)[0]["w"]
    np.testing.assert_array_equal(*runs.values())
    with pytest.raises(TypeError, match="add_noise: give key or seed"):
        gradtx.add_noise(0.1, 0.55, key=1, seed=1)


def test_global_norm_takes_optax_s_keyword() -> None:
    tree = {"a": jnp.array([3.0]), "b": jnp.array([4.0])}
    assert float(gradtx.global_norm(updates=tree)) == 5.0  # sqrt(9 + 16)
