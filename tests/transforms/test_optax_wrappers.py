"""The small optax transformations and helpers (zero_nans, centralize, apply_every,
per-example clipping, target-param updates, ...): parity with optax over several
steps on a mixed tree, a NumPy check of each rule, jit == eager, and bad arguments."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
from gradtx import transforms as tf

SHAPES = {"w": (3, 2), "conv": (2, 2, 3), "b": (2,)}


def _tree(seed: int, *, complex_: bool = True, nan: bool = False) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    t = {k: jnp.asarray(rng.normal(size=s), jnp.float32) for k, s in SHAPES.items()}
    if complex_:
        re, im = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        t["c"] = jnp.asarray(re + 1j * im, jnp.complex64)
    if nan:
        t["w"] = t["w"].at[1, 0].set(jnp.nan)
    return t


def _close(a: Any, b: Any, tol: float = 1e-6) -> None:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


def _parity(
    tx: Any, otx: Any, *, steps: int = 4, with_params: bool = False, **tree_kw: Any
) -> list[Any]:
    """Runs tx jitted, tx eagerly and optax's otx; asserts all agree; returns outs."""
    params = _tree(100, **{k: v for k, v in tree_kw.items() if k != "nan"})
    state, ostate, estate = tx.init(params), otx.init(params), tx.init(params)
    step = jax.jit(lambda g, s, p: tx.update(g, s, p))
    outs = []
    for i in range(steps):
        g = _tree(i, **tree_kw)
        p = params if with_params else None
        u, state = step(g, state, p)
        e, estate = tx.update(g, estate, p)
        o, ostate = otx.update(g, ostate, p)
        _close(u, o)
        _close(u, e)
        outs.append((g, u, state))
    return outs


def test_zero_nans_matches_optax_and_numpy() -> None:
    for g, u, state in _parity(tf.zero_nans(), optax.zero_nans(), nan=True):
        for k in g:
            x = np.asarray(g[k])
            np.testing.assert_array_equal(u[k], np.where(np.isnan(x), 0, x))
            assert bool(state.found_nan[k]) == bool(np.isnan(x).any())
    assert tf.zero_nans().init(_tree(0)).found_nan["c"].dtype == jnp.bool_


def test_keep_params_nonnegative_matches_optax_and_numpy() -> None:
    tx, otx = tf.keep_params_nonnegative(), optax.keep_params_nonnegative()
    outs = _parity(tx, otx, with_params=True, complex_=False)
    params = _tree(100, complex_=False)
    for g, u, _ in outs:
        for k in g:
            p, x = np.asarray(params[k]), np.asarray(g[k])
            np.testing.assert_array_equal(u[k], np.where(p + x < 0, -p, x))
            assert (p + np.asarray(u[k]) >= 0).all()
    with pytest.raises(ValueError, match=r"keep_params_nonnegative: .*params"):
        tx.update(_tree(0, complex_=False), tx.init(params))
    with pytest.raises(TypeError, match="keep_params_nonnegative: updates"):
        tx.update(_tree(0), tx.init(_tree(0)), _tree(0))


def test_centralize_optax_axis_matches_optax() -> None:
    _parity(tf.centralize(output_axis=0), optax.centralize())


def test_centralize_centers_each_output_unit() -> None:
    for g, u, _ in _parity(tf.centralize(), tf.centralize(output_axis=-1)):
        for k in g:
            x = np.asarray(g[k]).astype(np.complex128)
            if x.ndim >= 2:
                axes = tuple(range(x.ndim - 1))
                x = x - x.mean(axis=axes, keepdims=True)
                # Each output unit (last axis) now sums to zero.
                np.testing.assert_allclose(np.asarray(u[k]).sum(axes), 0, atol=1e-6)
            np.testing.assert_allclose(u[k], x, atol=1e-6)


def test_normalize_by_update_norm_matches_optax_and_numpy() -> None:
    tx = tf.normalize_by_update_norm(scale_factor=-0.5, eps=1e-3)
    otx = optax.normalize_by_update_norm(scale_factor=-0.5, eps=1e-3)
    for g, u, _ in _parity(tx, otx):
        n = np.sqrt(
            sum(np.sum(np.abs(np.asarray(x, np.complex128)) ** 2) for x in g.values())
        )
        _close(u, {k: -0.5 * np.asarray(x) / (n + 1e-3) for k, x in g.items()})
    zero = {"a": jnp.zeros(3)}
    out = tf.normalize_by_update_norm(eps=0.0).update(zero, gradtx.EmptyState())[0]
    np.testing.assert_array_equal(out["a"], 0.0)  # not 0/0


def test_apply_every_matches_optax_and_sums_k_steps() -> None:
    k, steps = 3, 7
    outs = _parity(tf.apply_every(k), optax.apply_every(k), steps=steps)
    for t, (_, u, state) in enumerate(outs, start=1):
        first = (t - 1) // k * k
        window = [outs[s][0] for s in range(first, t)]
        total = {key: sum(np.asarray(w[key]) for w in window) for key in u}
        want = total if t % k == 0 else jax.tree.map(np.zeros_like, total)
        _close(u, want)
        assert int(state.count) == t % k and state.count.dtype == jnp.int32


def test_apply_every_zeros_after_a_nan_period() -> None:
    tx = tf.apply_every(2)
    state = tx.init(jnp.zeros(1))
    for g in (jnp.array([jnp.inf]), jnp.array([1.0]), jnp.array([2.0])):
        u, state = tx.update(g, state)
    np.testing.assert_array_equal(u, [0.0])


def test_snapshot_and_measure_with_ema_match_optax() -> None:
    _, _, state = _parity(
        tf.snapshot("n", gradtx.tree.norm), optax.snapshot("n", optax.tree.norm)
    )[-1]
    g = _tree(3)
    n = np.sqrt(sum(np.sum(np.abs(np.asarray(x)) ** 2) for x in g.values()))
    np.testing.assert_allclose(state.measurement["n"], n, rtol=1e-6)

    def measure(u: Any) -> Any:
        return {"norm": gradtx.tree.norm(u), "big": gradtx.tree.norm(u) > 3.5}

    def omeasure(u: Any) -> Any:
        return {"norm": optax.tree.norm(u), "big": optax.tree.norm(u) > 3.5}

    outs = _parity(
        tf.measure_with_ema(measure, 0.8), optax.measure_with_ema(omeasure, 0.8)
    )
    # Closed form: the debiased EMA of the step norms, by hand.
    norms = [
        np.sqrt(sum(np.sum(np.abs(np.asarray(x)) ** 2) for x in g.values()))
        for g, _, _ in outs
    ]
    m = 0.0
    for t, (nrm, (_, u, state)) in enumerate(zip(norms, outs, strict=True), start=1):
        m = 0.8 * m + 0.2 * nrm
        np.testing.assert_allclose(u["norm"], m / (1 - 0.8**t), rtol=1e-6)
        assert state[1].ema["big"].dtype == jnp.float32  # stable across steps


def _batched(seed: int) -> dict[str, jax.Array]:
    rng = np.random.default_rng(seed)
    t = {"w": jnp.asarray(rng.normal(size=(5, 3, 2)) * 2, jnp.float32)}
    t["b"] = jnp.asarray(rng.normal(size=(5, 4)), jnp.float32).at[2].set(0.0)
    t["c"] = jnp.asarray(
        rng.normal(size=(5, 2)) + 1j * rng.normal(size=(5, 2)), jnp.complex64
    )
    return t


@pytest.mark.parametrize("clip", [0.0, 1.5, 3.0, float("inf")])
def test_per_example_global_norm_clip_matches_optax_and_numpy(clip: float) -> None:
    g = _batched(7)
    f = jax.jit(tf.per_example_global_norm_clip)
    out, n = f(g, clip)
    eager = tf.per_example_global_norm_clip(g, clip)
    oout, on = optax.per_example_global_norm_clip(g, clip)
    _close(out, oout)
    _close(out, eager[0])
    assert int(n) == int(on) and n.dtype == jnp.int32
    # NumPy: each example scaled to norm <= clip, then summed.
    norms = np.sqrt(
        sum(
            np.sum(np.abs(np.asarray(x)) ** 2, axis=tuple(range(1, x.ndim)))
            for x in g.values()
        )
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        mult = np.where(norms > clip, clip / norms, 1.0)
    _close(
        out, {k: np.tensordot(mult, np.asarray(x), axes=1) for k, x in g.items()}, 1e-5
    )
    assert int(n) == int(np.sum(norms > clip))


@pytest.mark.parametrize("uniform", [True, False])
def test_per_example_layer_norm_clip_matches_optax_and_numpy(uniform: bool) -> None:
    g, clip = _batched(4), 2.0
    out, n = jax.jit(tf.per_example_layer_norm_clip, static_argnums=2)(g, clip, uniform)
    oout, on = optax.per_example_layer_norm_clip(g, clip, uniform)
    _close(out, oout)
    _close(n, on)
    sizes = {k: np.prod(x.shape[1:]) for k, x in g.items()}
    for k, leaf in g.items():
        x = np.asarray(leaf)
        ck = (
            clip / np.sqrt(3)
            if uniform
            else clip * np.sqrt(sizes[k] / sum(sizes.values()))
        )
        norms = np.sqrt(np.sum(np.abs(x) ** 2, axis=tuple(range(1, x.ndim))))
        mult = np.where(norms > ck, ck / np.where(norms > 0, norms, 1), 1.0)
        np.testing.assert_allclose(
            out[k], np.tensordot(mult, x, axes=1), rtol=1e-5, atol=1e-6
        )
        assert int(n[k]) == int(np.sum(norms > ck))


def test_incremental_and_periodic_update_match_optax_and_numpy() -> None:
    new, old = _tree(1), _tree(2)
    for tau in (0.0, 0.3, 1.0):
        got = jax.jit(tf.incremental_update)(new, old, tau)
        _close(got, optax.incremental_update(new, old, tau))
        _close(
            got,
            {k: tau * np.asarray(new[k]) + (1 - tau) * np.asarray(old[k]) for k in new},
        )
        assert all(got[k].dtype == old[k].dtype for k in old)
    # A float64 step size keeps float32 averages float32 (optax's promotes).
    got = tf.incremental_update(new, old, jnp.float64(0.5))
    assert got["w"].dtype == jnp.float32
    per = jax.jit(tf.periodic_update)
    for t in range(6):
        want = new if t % 3 == 0 else old
        _close(per(new, old, t, 3), want)
        _close(
            tf.periodic_update(new, old, t, 3), optax.periodic_update(new, old, t, 3)
        )


def test_scale_gradient_scales_the_backward_pass_only() -> None:
    x = _tree(5, complex_=False)

    def loss(x: Any, s: Any) -> Any:
        y = tf.scale_gradient(x, s)
        return sum(jnp.sum(v**2) for v in y.values())

    for s in (0.0, 0.5, 1.0, -2.0):
        g = jax.jit(jax.grad(loss))(x, s)  # a traced scale: optax's fails here
        _close(g, {k: 2 * s * np.asarray(v) for k, v in x.items()})
        _close(
            jax.grad(loss)(x, s),
            jax.grad(
                lambda x, s=s: sum(
                    jnp.sum(v**2) for v in optax.scale_gradient(x, s).values()
                )
            )(x),
        )
        _close(tf.scale_gradient(x, s), x)


@pytest.mark.parametrize(
    ("build", "err", "match"),
    [
        (lambda: tf.apply_every(0), ValueError, "apply_every: k"),
        (lambda: tf.apply_every(1.5), ValueError, "apply_every: k"),  # type: ignore[arg-type]
        (
            lambda: tf.centralize(output_axis="last"),  # type: ignore[arg-type]
            TypeError,
            "centralize: output_axis",
        ),
        (
            lambda: tf.normalize_by_update_norm(eps=-1.0),
            ValueError,
            "normalize_by_update_norm: eps",
        ),
        (
            lambda: tf.normalize_by_update_norm(float("nan")),
            ValueError,
            "normalize_by_update_norm: scale_factor",
        ),
        (lambda: tf.snapshot(3, gradtx.tree.norm), TypeError, "snapshot: measure_name"),  # type: ignore[arg-type]
        (lambda: tf.snapshot("n", "norm"), TypeError, "snapshot: measure"),  # type: ignore[arg-type]
        (
            lambda: tf.measure_with_ema(gradtx.tree.norm, 1.0),
            ValueError,
            "measure_with_ema: decay",
        ),
        (
            lambda: tf.measure_with_ema(None, 0.9),  # type: ignore[arg-type]
            TypeError,
            "measure_with_ema: measure",
        ),
        (
            lambda: tf.per_example_global_norm_clip(_batched(0), -1.0),
            ValueError,
            "per_example_global_norm_clip: l2_norm_clip",
        ),
        (
            lambda: tf.per_example_global_norm_clip(
                {"a": jnp.ones((2, 3)), "b": jnp.ones(3)}, 1.0
            ),
            ValueError,
            r"per_example_global_norm_clip: .*grads\['b'\]",
        ),
        (
            lambda: tf.per_example_layer_norm_clip(_batched(0), float("nan")),
            ValueError,
            "per_example_layer_norm_clip: global_l2_norm_clip",
        ),
        (
            lambda: tf.per_example_layer_norm_clip(_batched(0), 1.0, uniform=1),  # type: ignore[arg-type]
            TypeError,
            "per_example_layer_norm_clip: uniform",
        ),
        (
            lambda: tf.incremental_update(_tree(0), _tree(1), 1.5),
            ValueError,
            "incremental_update: step_size",
        ),
        (
            lambda: tf.incremental_update(_tree(0), {"w": jnp.ones(2)}, 0.5),
            gradtx.errors.TreeMismatchError,
            "incremental_update: ",
        ),
        (
            lambda: tf.periodic_update(_tree(0), _tree(1), 3, 0),
            ValueError,
            "periodic_update: update_period",
        ),
        (
            lambda: tf.scale_gradient(_tree(0), float("inf")),
            ValueError,
            "scale_gradient: scale",
        ),
        (lambda: tf.scale_gradient(_tree(0), "x"), TypeError, "scale_gradient: scale"),
    ],
)
def test_bad_arguments_name_the_function_and_argument(
    build: Any, err: type[Exception], match: str
) -> None:
    with pytest.raises(err, match=match):
        build()
