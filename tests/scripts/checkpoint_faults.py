"""Checkpoint saves that die by SIGKILL at a chosen stage, or race each other.

``tests/checkpoint/test_checkpoint_faults.py`` runs::

    python tests/scripts/checkpoint_faults.py JOBS.json

``JOBS.json`` is a list of jobs. This process imports jax, orbax and gradtx
once, then forks one child per job before JAX starts its backend (so the
fork is safe), and the children run at the same time:

* ``{"kind": "kill", "dir": D, "step": S, "seed": N, "overwrite": B,
  "stage": STAGE}`` saves ``tree(N)`` and kills itself with SIGKILL when the
  save reaches ``STAGE``: one of the stages of ``gradtx.checkpoint._hooks``,
  or ``"orbax"``, right after orbax has written the arrays (found by wrapping
  orbax, so it needs nothing from gradtx);
* ``{"kind": "race", "dir": D, "seed": N, "rounds": R, "overwrite": B,
  "out": F}`` saves ``tree(N + r)`` as step ``r`` for each round ``r < R``.
  All racers wait for each other before each round and again at stage
  ``"staged"``, so they commit at the same moment; ``F`` gets a JSON list,
  per round ``"won"`` or ``"exists"`` (FileExistsError) or the error.

It prints one line of JSON: per job, ``{"exit": code}`` or ``{"signal": n}``.
``tree`` is defined here, and the test imports it to build the expected
trees. Importing this module only defines functions.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import ml_dtypes
import numpy as np
import orbax.checkpoint as ocp

from gradtx import checkpoint

STAGES = ["locked", "orbax", "staged", "committed", "cleaned"]  # in order
COMMIT_STAGE = "committed"  # from here on, the new checkpoint is the one on disk


def tree(seed: int) -> dict[str, Any]:
    """Mixed dtypes, JAX and NumPy leaves, a scalar, a None and a zero-size leaf."""
    rng = np.random.default_rng(seed)
    return {
        "kernel": jnp.asarray(rng.normal(size=(64, 32)), jnp.float32),
        "bias": jnp.asarray(rng.normal(size=32), jnp.bfloat16),
        "count": jnp.asarray(seed, jnp.int32),
        "mask": rng.random(5) < 0.5,
        "table": rng.normal(size=(3, 4)).astype(ml_dtypes.bfloat16),
        "empty": np.zeros((0, 3), np.float32),
        "none": None,
    }


def _on_stage(when: str, action: Callable[[], None]) -> None:
    """Runs ``action`` when a save reaches the stage ``when``."""
    if when == "orbax":
        save = ocp.Checkpointer.save

        def save_then_act(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = save(self, *args, **kwargs)
            action()
            return result

        ocp.Checkpointer.save = save_then_act
        return
    try:
        from gradtx.checkpoint import _hooks
    except ImportError:  # a gradtx without stages: the stage is never reached
        return

    def reached(stage: str) -> None:
        if stage == when:
            action()

    _hooks.reached = reached


def _kill(job: dict[str, Any]) -> None:
    _on_stage(job["stage"], lambda: os.kill(os.getpid(), signal.SIGKILL))
    t = tree(job["seed"])
    checkpoint.save(job["dir"], t, step=job["step"], overwrite=job["overwrite"])


def _race(job: dict[str, Any], barrier: Any) -> None:
    _on_stage("staged", lambda: barrier.wait(timeout=60))
    outcomes = []
    for r in range(job["rounds"]):
        barrier.wait(timeout=60)
        try:
            t = tree(job["seed"] + r)
            checkpoint.save(job["dir"], t, step=r, overwrite=job["overwrite"])
            outcomes.append("won")
        except FileExistsError:
            outcomes.append("exists")
        except Exception as e:
            outcomes.append(f"{type(e).__name__}: {e}")
    with open(job["out"], "w") as f:
        json.dump(outcomes, f)


def main() -> None:
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    racers = sum(job["kind"] == "race" for job in jobs)
    barrier = multiprocessing.get_context("fork").Barrier(max(racers, 1))
    children = []
    for job in jobs:
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 0
            try:
                _kill(job) if job["kind"] == "kill" else _race(job, barrier)
            except BaseException:
                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        children.append(pid)
    ends = []
    for pid in children:
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            ends.append({"signal": os.WTERMSIG(status)})
        else:
            ends.append({"exit": os.WEXITSTATUS(status)})
    print(json.dumps(ends))


if __name__ == "__main__":
    main()
