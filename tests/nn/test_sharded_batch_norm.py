"""Cross-device BatchNorm under shard_map on 8 CPU devices equals one device.

The 8 devices need ``XLA_FLAGS`` set before JAX starts, so the computation runs
in a subprocess (``sharded_batch_norm.py``); this 2-core machine fakes the
devices with ``--xla_force_host_platform_device_count``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("sharded_batch_norm.py")
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
    ],
)
def test_sharded_equals_single_device(differences: dict[str, float], case: str) -> None:
    # Outputs, running statistics and gradients (input and scale), to 1e-5.
    assert differences[case] < 1e-5, differences
