"""monitor_norms: the norms around its inner transformation, kept in its state."""

from __future__ import annotations

import jax
import pytest

import gradtx
from tests.sample_trees import LAYER_GRADS as GRADS
from tests.sample_trees import LAYER_PARAMS as PARAMS
from tests.sample_trees import norm64 as _norm


def test_monitor_records_norms_around_its_inner_transformation() -> None:
    tx = gradtx.named_chain(
        ("raw", gradtx.monitor_norms()),
        ("clip", gradtx.monitor_norms(gradtx.clip_by_global_norm(1.0))),
        ("sgd", gradtx.sgd(0.1)),
    )
    _, state = jax.jit(tx.update)(GRADS, tx.init(PARAMS), PARAMS)
    g, p = _norm(GRADS), _norm(PARAMS)
    assert float(gradtx.tree_get(state, "raw/updates_norm_in")) == pytest.approx(g)
    assert float(gradtx.tree_get(state, "raw/updates_norm_out")) == pytest.approx(g)
    assert float(gradtx.tree_get(state, "clip/updates_norm_in")) == pytest.approx(g)
    assert float(gradtx.tree_get(state, "clip/updates_norm_out")) == pytest.approx(1.0)
    assert float(gradtx.tree_get(state, "clip/params_norm")) == pytest.approx(p)
    ratio = float(gradtx.tree_get(state, "clip/update_param_ratio"))
    assert ratio == pytest.approx(1.0 / p)


def test_monitor_needs_params() -> None:
    tx = gradtx.monitor_norms()
    with pytest.raises(ValueError, match="pass params"):
        tx.update(GRADS, tx.init(PARAMS))
