"""Cross-device BatchNorm on 8 CPU devices: equal to one device and to Flax.

The 8 devices need ``XLA_FLAGS`` set before JAX starts, so the computation runs
in a subprocess (``tests/scripts/sharded_batch_norm.py``); this 2-core machine fakes the
devices with ``--xla_force_host_platform_device_count``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "scripts" / "sharded_batch_norm.py"
ROOT = SCRIPT.parents[2]


@pytest.fixture(scope="module")
def differences() -> dict[str, float]:
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "case",
    [
        "batch_norm",
        "batch_norm_grad",
        "batch_renorm",
        "batch_renorm_grad",
        "ghost_batch_norm",
        "ghost_batch_norm_grad",
        "module_three_steps",
        "fast_batch_norm",
    ],
)
def test_sharded_equals_single_device(differences: dict[str, float], case: str) -> None:
    # Outputs, running statistics and gradients (input and scale), to 1e-5.
    assert differences[case] < 1e-5, differences


@pytest.mark.parametrize(
    "case",
    [
        "large_mean_3000_var",
        "large_mean_10000_var",
        "large_mean_ghost_var",
        "large_mean_renorm_var",
        "large_mean_module_var",
    ],
)
def test_sharded_variance_is_accurate_at_large_means(
    differences: dict[str, float], case: str
) -> None:
    # Relative error against float64 NumPy, inputs of mean 3e3 / 1e4 and
    # variance 1 in float32: the two-pass variance with its second pmean. The
    # one-pass E[x^2] - E[x]^2 (the previous main) is off by 3 to 19 here.
    assert differences[case] < 1e-5, differences


@pytest.mark.parametrize(
    "case",
    ["mask_module_vs_flax", "axis_index_groups", "axis_index_groups_module_vs_flax"],
)
def test_sharded_mask_and_axis_index_groups(
    differences: dict[str, float], case: str
) -> None:
    # A mask under shard_map, and axis_index_groups under pmap, against
    # flax.nnx.BatchNorm and against one device on each group's data.
    assert differences[case] < 1e-5, differences
