"""Sharded optimizer state: 8 fake CPU devices in a subprocess, and one device here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import pytest

import gradtx

SCRIPT = Path(__file__).parent / "scripts" / "sharding_script.py"


@pytest.fixture(scope="module")
def eight() -> dict[str, Any]:
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": os.pathsep.join(
            [str(SCRIPT.parents[2]), os.environ.get("PYTHONPATH", "")]
        ),
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


NAMES = ["adam", "sgd_momentum", "clip_adamw_masked", "inject_hyperparams",
         "multi_steps", "apply_if_finite"]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_state_follows_the_params_sharding(eight: dict[str, Any], name: str) -> None:
    checks = eight["state"][name]
    # init outside jit, init under jit with state_shardings, and a jitted update
    # all keep the kernel-shaped leaves split over the 8 devices like the kernel.
    assert checks == {
        "eager_init": True,
        "jit_init": True,
        "update_keeps": True,
        "kernel_like_sharded": True,
        "updates_kernel_sharded": True,
    }


@pytest.mark.parametrize("mesh", ["zero_auto", "zero_explicit"])
def test_zero1_shards_the_state_and_keeps_the_math(
    eight: dict[str, Any], mesh: str
) -> None:
    z = eight[mesh]
    assert z["mu_w_spec"].startswith("P('data'")  # 16 rows split 8 ways
    assert z["mu_b_spec"] in ("P()", "P(None,)")  # 3 does not divide: replicated
    assert z["params_replicated"]
    assert z["mu_bytes_per_device"] == 16 * 4 * 4 // 8  # 1/8 of Adam's mu
    assert z["max_diff"] < 1e-6  # the same 5 steps as unsharded Adam


def test_data_parallel_example_equals_one_device(eight: dict[str, Any]) -> None:
    ex = eight["example"]
    assert ex["eight_vs_one"] < 1e-5  # losses, BatchNorm statistics, weights
    assert ex["zero_vs_one"] < 1e-5
    assert ex["loss_drops"]


def test_sharded_checkpoint_restores_onto_the_shardings(eight: dict[str, Any]) -> None:
    assert eight["checkpoint"] == {
        "bit_equal": True,
        "shardings_kept": True,
        "mu_split": True,
    }


def test_state_shardings_on_one_device() -> None:
    device = jax.devices()[0]
    params = {"w": jax.device_put(jnp.ones((4, 3)), device), "b": jnp.zeros(3)}
    tx = gradtx.flatten(gradtx.adam(1e-3), max_leaf_size=100)
    shardings = gradtx.state_shardings(tx, params)
    state = jax.jit(tx.init, out_shardings=shardings)(params)
    for leaf, sharding in zip(
        jax.tree.leaves(state), jax.tree.leaves(shardings), strict=True
    ):
        assert leaf.sharding == sharding
    with pytest.raises(TypeError, match=r"params\['w'\] has no sharding"):
        gradtx.state_shardings(
            gradtx.adam(1e-3), {"w": jax.ShapeDtypeStruct((2,), jnp.float32)}
        )


def test_shard_state_rejects_an_unknown_axis() -> None:
    mesh = jax.make_mesh((1,), ("data",))
    with pytest.raises(ValueError, match="'model' is not an axis"):
        gradtx.shard_state(gradtx.adam(1e-3), mesh, "model")
