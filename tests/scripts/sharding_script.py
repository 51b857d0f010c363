"""Sharding checks on 8 CPU devices; run by test_sharding.py in a subprocess.

Needs ``XLA_FLAGS=--xla_force_host_platform_device_count=8`` before JAX
starts. Prints one JSON object of results; all the work is under ``main``.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import gradtx

ROOT = Path(__file__).resolve().parents[2]


def _shardings(tree: Any) -> list[Any]:
    return [leaf.sharding for leaf in jax.tree.leaves(tree)]


def transformations() -> dict[str, gradtx.GradientTransformation]:
    return {
        "adam": gradtx.adam(1e-2),
        "sgd_momentum": gradtx.sgd(1e-2, momentum=0.9),
        "clip_adamw_masked": gradtx.chain(
            gradtx.clip_by_global_norm(1.0),
            gradtx.adamw(1e-2, weight_decay=1e-2, mask=gradtx.decay_mask),
        ),
        "inject_hyperparams": gradtx.inject_hyperparams(gradtx.adam)(
            learning_rate=1e-2
        ),
        "multi_steps": gradtx.MultiSteps(gradtx.adam(1e-2), every_k_schedule=2),
        "apply_if_finite": gradtx.apply_if_finite(gradtx.rmsprop(1e-2), 3),
    }


def state_checks(mesh: Any) -> dict[str, Any]:
    w = NamedSharding(mesh, P("data", None))
    params = {
        "dense": {
            "kernel": jax.device_put(jnp.arange(64.0).reshape(16, 4) / 64, w),
            "bias": jax.device_put(jnp.zeros(4), NamedSharding(mesh, P())),
        }
    }
    grads = jax.tree.map(lambda p: p * 0.5 + 0.1, params)
    out = {}
    for name, tx in transformations().items():
        expected = gradtx.state_shardings(tx, params)
        eager = tx.init(params)  # outside jit: state leaves follow the params
        jitted = jax.jit(tx.init, out_shardings=expected)(params)
        update = jax.jit(tx.update)
        _, new_state = update(grads, eager, params)
        updates2, _ = update(grads, new_state, params)
        # Counters and hyperparameters are scalars: any placement is fine; the
        # param-sized leaves must follow the params.
        big = [i for i, leaf in enumerate(jax.tree.leaves(eager)) if leaf.ndim]
        want = [jax.tree.leaves(expected)[i] for i in big]

        def pick(tree: Any, idx: list[int] = big) -> list[Any]:
            return [_shardings(tree)[i] for i in idx]

        out[name] = {
            "eager_init": all(
                a.is_equivalent_to(b, 2) for a, b in zip(pick(eager), want, strict=True)
            ),
            "jit_init": _shardings(jitted) == jax.tree.leaves(expected),
            "update_keeps": all(
                a.is_equivalent_to(b, 2)
                for a, b in zip(pick(new_state), pick(eager), strict=True)
            ),
            "kernel_like_sharded": all(
                s.spec == P("data", None)
                for s, leaf in zip(
                    _shardings(eager), jax.tree.leaves(eager), strict=True
                )
                if leaf.shape == (16, 4)
            ),
            "updates_kernel_sharded": updates2["dense"][
                "kernel"
            ].sharding.is_equivalent_to(w, 2),
        }
    return out


def zero_checks(explicit: bool) -> dict[str, Any]:
    types = (AxisType.Explicit if explicit else AxisType.Auto,)
    mesh = jax.make_mesh((8,), ("data",), axis_types=types)
    with jax.set_mesh(mesh):
        return _zero_checks(mesh)


def _zero_checks(mesh: Any) -> dict[str, Any]:
    rep = NamedSharding(mesh, P())
    params = {
        "w": jax.device_put(jnp.linspace(-1, 1, 64).reshape(16, 4), rep),
        "b": jax.device_put(jnp.ones(3), rep),
    }
    tx = gradtx.shard_state(gradtx.adam(1e-2), mesh, "data")
    ref_tx = gradtx.adam(1e-2)
    state, ref_state = jax.jit(tx.init)(params), ref_tx.init(params)
    p, ref_p = params, params

    @jax.jit
    def step(p: Any, s: Any) -> tuple[Any, Any]:
        g = jax.tree.map(lambda x: jnp.sin(3 * x), p)
        u, s = tx.update(g, s, p)
        return gradtx.apply_updates(p, u), s

    for _ in range(5):
        p, state = step(p, state)
        g = jax.tree.map(lambda x: jnp.sin(3 * x), ref_p)
        u, ref_state = ref_tx.update(g, ref_state, ref_p)
        ref_p = gradtx.apply_updates(ref_p, u)
    mu = state[0].mu
    return {
        "mu_w_spec": str(mu["w"].sharding.spec),
        "mu_b_spec": str(mu["b"].sharding.spec),
        "params_replicated": p["w"].sharding.is_fully_replicated,
        "max_diff": float(
            max(
                jnp.max(jnp.abs(a - b))
                for a, b in zip(jax.tree.leaves(p), jax.tree.leaves(ref_p), strict=True)
            )
        ),
        "mu_bytes_per_device": int(mu["w"].addressable_shards[0].data.nbytes),
    }


def example_checks() -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location(
        "data_parallel", ROOT / "examples" / "data_parallel.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = functools.partial(module.main)
    eight = run(["--devices", "8", "--steps", "12", "--quiet"])
    one = run(["--devices", "1", "--steps", "12", "--quiet"])
    zero = run(["--devices", "8", "--steps", "12", "--quiet", "--zero"])

    def diff(a: dict, b: dict) -> float:
        return max(
            float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k]))))
            for k in ("losses", "bn1_mean", "kernel")
        )

    return {
        "eight_vs_one": diff(eight, one),
        "zero_vs_one": diff(zero, one),
        "loss_drops": eight["losses"][-1] < eight["losses"][0],
    }


def checkpoint_checks(mesh: Any) -> dict[str, Any]:
    """Sharded params and state (and ZeRO-1 state) saved, restored onto the
    shardings state_shardings gives, from an abstract target (nothing
    allocated), bit for bit."""
    import tempfile

    from gradtx import checkpoint

    w = NamedSharding(mesh, P("data", None))
    params = {
        "kernel": jax.device_put(jnp.linspace(-1, 1, 64).reshape(16, 4), w),
        "bias": jax.device_put(jnp.ones(4), NamedSharding(mesh, P())),
    }
    tx = gradtx.chain(
        gradtx.clip_by_global_norm(1.0),
        gradtx.inject_hyperparams(gradtx.adamw)(learning_rate=1e-2),
    )
    state = tx.init(params)
    grads = jax.tree.map(lambda p: jnp.cos(p), params)
    _, state = jax.jit(tx.update)(grads, state, params)
    tree = {"params": params, "opt_state": state}
    shardings = {
        "params": jax.tree.map(lambda x: x.sharding, params),
        "opt_state": gradtx.state_shardings(tx, params),
    }
    target = jax.tree.map(
        lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), tree, shardings
    )
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint.save(tmp, tree, step=1)
        back = checkpoint.restore(tmp, target, step=1)
    same = all(
        bool(jnp.array_equal(a, b)) and a.dtype == b.dtype
        for a, b in zip(jax.tree.leaves(back), jax.tree.leaves(tree), strict=True)
    )
    placed = all(
        a.sharding.is_equivalent_to(s, a.ndim)
        for a, s in zip(jax.tree.leaves(back), jax.tree.leaves(shardings), strict=True)
    )
    kernel_split = back["opt_state"][1].inner_state[0].mu["kernel"].sharding
    return {
        "bit_equal": same,
        "shardings_kept": placed,
        "mu_split": kernel_split.is_equivalent_to(w, 2),
    }


def main() -> None:
    assert jax.device_count() == 8, jax.devices()
    mesh = jax.make_mesh((8,), ("data",), axis_types=(AxisType.Auto,))
    result = {
        "state": state_checks(mesh),
        "zero_auto": zero_checks(False),
        "zero_explicit": zero_checks(True),
        "example": example_checks(),
        "checkpoint": checkpoint_checks(mesh),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
