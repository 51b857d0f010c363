"""The kit: identity and stateless."""

from __future__ import annotations

import jax
import numpy as np

import gradtx
from tests.sample_trees import small_grads as _grads
from tests.sample_trees import small_params as _params


def test_identity_and_stateless() -> None:
    p = _params()
    g = _grads(0)
    u, _ = gradtx.identity().update(g, gradtx.identity().init(p), p)
    assert u is g
    double = gradtx.stateless(lambda u, p: jax.tree.map(lambda x, y: 2 * x + y, u, p))
    u, s = double.update(g, double.init(p), p)
    assert s == gradtx.EmptyState()
    np.testing.assert_allclose(u["w"], 2 * g["w"] + p["w"])
