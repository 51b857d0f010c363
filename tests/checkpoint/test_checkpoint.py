"""Checkpoints: exact round trips, exact resume in a new process, clear mismatches."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from gradtx import checkpoint
from gradtx.checkpoint import _restore
from tests.catalogue.cases import CASES, NAMES
from tests.scripts import checkpoint_resume

RESUME_SCRIPT = pathlib.Path(checkpoint_resume.__file__)


def _params(seed: int) -> dict[str, jax.Array]:
    rng = np.random.default_rng(seed)

    def leaf(*shape: int) -> jax.Array:
        return jnp.asarray(rng.normal(size=shape), jnp.float32)

    return {"kernel": leaf(3, 2), "bias": leaf(2), "scale": leaf()}


def assert_bit_equal(got: Any, expected: Any) -> None:
    """Same structure, and every leaf of the same type, dtype and bytes."""
    assert jax.tree.structure(got) == jax.tree.structure(expected)
    for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
        assert type(g) is type(e)
        assert g.dtype == e.dtype and g.shape == e.shape
        assert np.asarray(g).tobytes() == np.asarray(e).tobytes()


def _adam_checkpoint(directory: pathlib.Path) -> dict[str, jax.Array]:
    params = _params(0)
    tx = gradtx.adam(0.05)
    checkpoint.save(directory, (params, tx.init(params)))
    return params


@pytest.mark.parametrize("name", NAMES)
def test_every_transformation_round_trips_bit_exactly(
    name: str, tmp_path: pathlib.Path
) -> None:
    tx = CASES[name][0]()
    update = jax.jit(tx.update)
    params = _params(0)
    state = tx.init(params)
    for i in range(2):
        updates, state = update(_params(i + 1), state, params)
        params = gradtx.apply_updates(params, updates)
    checkpoint.save(tmp_path, (params, state))

    fresh = _params(9)
    restored = checkpoint.restore(tmp_path, (fresh, tx.init(fresh)))
    assert_bit_equal(restored, (params, state))

    # The restored state drops into the compiled step and gives the same update.
    compiled = update._cache_size()  # type: ignore[attr-defined]
    grads = _params(3)
    expected = update(grads, state, params)
    got = update(grads, restored[1], restored[0])
    assert update._cache_size() == compiled  # type: ignore[attr-defined]
    assert_bit_equal(got, expected)


def test_resume_in_a_new_process_is_bit_exact(tmp_path: pathlib.Path) -> None:
    tx, params, batch = checkpoint_resume.setup()
    step = gradtx.make_step(tx, checkpoint_resume.loss_fn)
    state = tx.init(params)
    params, state = checkpoint_resume.train(step, params, state, batch, 50)
    checkpoint.save(tmp_path / "ckpt", (params, state), step=50)
    assert int(gradtx.tree_get(state, "ScaleByAdamState/count")) == 50
    params, state = checkpoint_resume.train(step, params, state, batch, 50)

    out = tmp_path / "resumed.npz"
    cmd = [sys.executable, str(RESUME_SCRIPT), str(tmp_path / "ckpt" / "50"), str(out)]
    cmd += ["50"] + (["--x64"] if jax.config.jax_enable_x64 else [])  # type: ignore[attr-defined]
    env = {**os.environ, "PYTHONPATH": str(RESUME_SCRIPT.parents[2])}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr

    with np.load(out) as resumed:
        straight = checkpoint_resume.flat(params)
        assert sorted(resumed.files) == sorted(straight)
        for key, x in straight.items():
            assert resumed[key].dtype == x.dtype, key
            assert resumed[key].tobytes() == x.tobytes(), key


def test_restoring_into_another_optimizer_names_the_first_differing_path(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = _adam_checkpoint(tmp_path)
    monkeypatch.setattr(_restore, "ocp", None)  # fail before orbax reads
    sgd = gradtx.sgd(0.05, momentum=0.9)
    # adam's state is (ScaleByAdamState(count, mu, nu), EmptyState()); sgd's is
    # (EmptyState(), TraceState(trace)).
    msg = (
        "tree[1][0].count: the checkpoint has int32[] here, the target has no "
        "leaf at this path (its leaf in that place is tree[1][1].trace['bias'])."
    )
    with pytest.raises(gradtx.TreeMismatchError, match=re.escape(msg)):
        checkpoint.restore(tmp_path, (params, sgd.init(params)))


def test_a_state_dtype_change_names_the_first_differing_path(
    tmp_path: pathlib.Path,
) -> None:
    params = _adam_checkpoint(tmp_path)
    tx = gradtx.adam(0.05, mu_dtype=jnp.bfloat16)
    msg = (
        "tree[1][0].mu['bias']: the checkpoint has float32[2], the target "
        "expects bfloat16[2]."
    )
    with pytest.raises(gradtx.TreeMismatchError, match=re.escape(msg)):
        checkpoint.restore(tmp_path, (params, tx.init(params)))


def test_params_of_another_shape_name_the_first_differing_path(
    tmp_path: pathlib.Path,
) -> None:
    _adam_checkpoint(tmp_path)
    params = {**_params(0), "kernel": jnp.zeros((4, 2), jnp.float32)}
    tx = gradtx.adam(0.05)
    msg = (
        "tree[0]['kernel']: the checkpoint has float32[3,2], the target expects "
        "float32[4,2]."
    )
    with pytest.raises(gradtx.TreeMismatchError, match=re.escape(msg)) as info:
        checkpoint.restore(tmp_path, (params, tx.init(params)))
    assert isinstance(info.value, ValueError)
    assert str(tmp_path / "tree.json") in str(info.value)  # where to look


def test_other_containers_and_missing_leaves_are_named(tmp_path: pathlib.Path) -> None:
    x = jnp.zeros(2, jnp.float32)
    checkpoint.save(tmp_path, {"a": (x, x), "b": x})
    with pytest.raises(
        gradtx.TreeMismatchError,
        match=re.escape(
            "tree['a']: the checkpoint has a tuple here, the target expects a list."
        ),
    ):
        checkpoint.restore(tmp_path, {"a": [x, x], "b": x})
    with pytest.raises(
        gradtx.TreeMismatchError,
        match=re.escape(
            "tree['c']: the checkpoint has no leaf at this path (it has fewer "
            "leaves), the target expects float32[2]."
        ),
    ):
        checkpoint.restore(tmp_path, {"a": (x, x), "b": x, "c": x})
    with pytest.raises(
        gradtx.TreeMismatchError,
        match=re.escape("tree['b']: the checkpoint has float32[2] here"),
    ):
        checkpoint.restore(tmp_path, {"a": (x, x)})


def test_restore_keeps_the_target_shardings(tmp_path: pathlib.Path) -> None:
    tx = gradtx.adamw(0.05, weight_decay=0.1)
    params = _params(0)
    tree = (params, tx.init(params))
    checkpoint.save(tmp_path, tree)
    sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    target = jax.device_put(tree, sharding)
    restored = checkpoint.restore(tmp_path, target)
    for got, want in zip(
        jax.tree.leaves(restored), jax.tree.leaves(target), strict=True
    ):
        assert got.sharding == want.sharding
    # An abstract target (no allocation) comes back on the default device.
    abstract = jax.eval_shape(lambda: tree)
    restored = checkpoint.restore(tmp_path, abstract)
    assert_bit_equal(restored, tree)
    assert not any(x.committed for x in jax.tree.leaves(restored))


def test_mixed_leaves_round_trip(tmp_path: pathlib.Path) -> None:
    special = jnp.array([np.nan, np.inf, -0.0, 1e-40], jnp.float32)
    tree = {
        "none": None,
        "empty": gradtx.EmptyState(),
        "masked": gradtx.MaskedNode(),
        "list": [special, special.astype(jnp.bfloat16), special.astype(jnp.float16)],
        "count": jnp.array(7, jnp.int32),
        "flag": jnp.array([True, False]),
        "numpy": np.arange(3, dtype=np.int16),
    }
    checkpoint.save(tmp_path, tree)
    target = jax.tree.map(
        jnp.zeros_like, {k: v for k, v in tree.items() if k != "numpy"}
    )
    target["numpy"] = np.zeros(3, np.int16)
    assert_bit_equal(checkpoint.restore(tmp_path, target), tree)


def test_steps_overwrite_and_missing_checkpoints(tmp_path: pathlib.Path) -> None:
    x = {"w": jnp.ones(2, jnp.float32)}
    assert checkpoint.latest_step(tmp_path) is None
    for step in (5, 20, 10):
        path = checkpoint.save(tmp_path, {"w": x["w"] * step}, step=step)
        assert path == tmp_path / str(step)
    assert checkpoint.latest_step(tmp_path) == 20
    restored = checkpoint.restore(tmp_path, x, step=20)
    np.testing.assert_array_equal(restored["w"], [20.0, 20.0])
    layout = json.loads((tmp_path / "20" / "tree.json").read_text())
    assert layout["step"] == 20
    assert layout["leaves"][0]["keys"] == ["['w']"]

    with pytest.raises(FileExistsError, match="overwrite=True"):
        checkpoint.save(tmp_path, x, step=20)
    checkpoint.save(tmp_path, x, step=20, overwrite=True)
    np.testing.assert_array_equal(
        checkpoint.restore(tmp_path, x, step=20)["w"], [1.0, 1.0]
    )

    with pytest.raises(FileNotFoundError, match=r"latest_step"):
        checkpoint.restore(tmp_path, x)  # the steps are in subdirectories
    with pytest.raises(ValueError, match="step must be an int"):
        checkpoint.save(tmp_path, x, step=-1)
    with pytest.raises(TypeError, match=r"tree\['w'\] is a str"):
        checkpoint.save(tmp_path / "bad", {"w": "text"})


def test_injected_hyperparams_restore_from_a_plain_dict_state(
    tmp_path: pathlib.Path,
) -> None:
    # Before InjectedHyperparams, inject_hyperparams' state held a plain dict:
    # checkpoints of that layout restore into today's state, which keeps its
    # own type (and so its checks of tree_set values).
    params = _params(0)
    tx = gradtx.inject_hyperparams(gradtx.adam)(learning_rate=0.05)
    state = tx.init(params)
    old_style = state._replace(hyperparams=dict(state.hyperparams))
    checkpoint.save(tmp_path, (params, old_style))
    restored = checkpoint.restore(tmp_path, (params, state))
    assert_bit_equal(restored, (params, state))
    assert type(restored[1].hyperparams) is gradtx.InjectedHyperparams
    with pytest.raises(ValueError, match="learning_rate must be in"):
        gradtx.tree_set(restored[1], learning_rate=-0.1)
