"""How much memory a comparison needs, and how much there is.

A comparison that cannot fit is refused before it starts, with the estimate,
the limit and what to change, rather than killed by the system (or failing
with an allocation error) after an hour of training.

The estimate is rough but grounded: the numbers below were measured on
XLA:CPU (peak resident memory against the number of runs of one group) and
err on the large side by 10-30%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from gradtx._internal import validate
from gradtx.compare._model import activation_size, param_size
from gradtx.compare._tasks import Task
from gradtx.compare._variants import Variant

# Not exported: check, a domain check (see tests/test_layering.py).
__all__ = ["device_available", "host_available", "run_bytes"]

# One run of a group, in float32 numbers: its params, gradients, updates,
# optimizer state and XLA's buffers come to about 16 copies of the params; a
# training batch's activations weigh 1.25 times one forward pass per example,
# the test set's (evaluated at once, without gradients) 0.75 times.
_PARAM_COPIES = 16
_TRAIN_ACTIVATIONS = 1.25
_TEST_ACTIVATIONS = 0.75
# Each number of the curves kept for the results: the float32 itself, and
# about 150 bytes more while the CLI writes it as JSON.
_CURVE_POINT_BYTES = 4 + 150
# XLA's compiler and runtime, over what the process holds when it checks.
_FIXED_BYTES = 512 << 20
# Fields that make one structure differ from another, for naming a group.
_STRUCTURE = ["schedule", "init", "activation", "batchnorm", "augment"]


def run_bytes(task: Task, structure: Variant, batch_size: int) -> int:
    """Bytes one run (a variant and a seed) holds while its group trains."""
    examples = max(
        _TRAIN_ACTIVATIONS * batch_size, _TEST_ACTIVATIONS * len(task.x_test)
    )
    numbers = _PARAM_COPIES * param_size(task, structure) + examples * activation_size(
        task, structure
    )
    return math.ceil(4 * numbers)


def host_available() -> int | None:
    """Bytes of RAM this process can still take, or None when unknown: the
    system's available memory, capped by a cgroup (container) limit."""
    found = []
    try:
        import psutil

        found.append(int(psutil.virtual_memory().available))
    except Exception:  # not installed, or no answer on this system
        meminfo = _read("/proc/meminfo")
        for line in (meminfo or "").splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    for limit, usage in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        cap, used = _read(limit), _read(usage)
        if cap and used and cap.strip().isdigit() and used.strip().isdigit():
            found.append(max(int(cap) - int(used), 0))
    return min(found) if found else None


def device_available() -> int | None:
    """Bytes free on the accelerator that trains, or None: on a CPU (which
    shares the host's memory) or when the device does not say."""
    import jax

    device = jax.local_devices()[0]
    if device.platform == "cpu":
        return None
    stats = device.memory_stats() or {}
    limit = stats.get("bytes_limit")
    return int(limit) - int(stats.get("bytes_in_use", 0)) if limit else None


def check(
    task: Task,
    groups: Sequence[tuple[Variant, int]],
    *,
    variants: int,
    seeds: int,
    epochs: int,
    batch_size: int,
) -> None:
    """Raises ValueError (as ``run``'s) if the comparison will not fit in memory.

    Groups train one after the other, so the largest one sets the peak; the
    curves of every run are kept to the end.

    Args:
      task: the data.
      groups: each group's structure and its number of variants.
      variants: the number of variants.
      seeds: the number of seeds.
      epochs: passes over the data.
      batch_size: examples per step.
    """
    steps = len(task.x_train) // batch_size
    curves = variants * epochs * (steps + 3) * _CURVE_POINT_BYTES  # per seed
    structure, members = max(
        groups, key=lambda g: g[1] * run_bytes(task, g[0], batch_size)
    )
    per_run = run_bytes(task, structure, batch_size)
    group = members * per_run  # per seed
    device, host = device_available(), host_available()
    pools = (
        [("memory", group + curves, host)]
        if device is None
        else [("accelerator memory", group, device), ("host memory", curves, host)]
    )
    for pool, per_seed, limit in pools:
        need = seeds * per_seed + _FIXED_BYTES
        if limit is None or need <= limit:
            continue
        fit = max(limit - _FIXED_BYTES, 0) // per_seed
        name = structure.label(_STRUCTURE) + (f" x{members}" if members > 1 else "")
        fix = (
            f"To fit, use at most {fit:,} seed{'s' * (fit != 1)}, or"
            if fit
            else "Even one seed does not fit: use"
        )
        raise validate.error(
            ValueError,
            "run",
            f"{variants:,} variant{'s' * (variants != 1)} x {seeds:,} seed"
            f"{'s' * (seeds != 1)} on {task.name} need about {_size(need)} of "
            f"{pool}, more than the {_size(limit)} available (estimated: the "
            f"largest group, {name}, trains {members * seeds:,} runs at once, "
            f"{_size(per_run)} each; the curves take {_size(seeds * curves)}). "
            f"{fix} fewer values of the learning rate, weight decay, dropout "
            "and clip (a group trains them all at once), or fewer epochs.",
        )


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except (OSError, ValueError):
        return None
