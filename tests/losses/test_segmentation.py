"""Dice, Tversky and generalized Dice losses vs optax and NumPy float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gradtx.losses._segmentation import (
    binary_dice_loss,
    dice_loss,
    multiclass_generalized_dice_loss,
)


def _optax(name: str, *args: object, **kwargs: object) -> jax.Array:
    """optax's loss; it multiplies [..., C] by [C] (rank promotion)."""
    with jax.numpy_rank_promotion("allow"):
        return getattr(optax.losses, name)(*args, **kwargs)


def _close(a: object, b: object, tol: float = 1e-5) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def _np_probs(logits: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    if x.shape[-1] == 1:
        return 1 / (1 + np.exp(-x))
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _np_tversky(
    p: np.ndarray,
    t: np.ndarray,
    axes: tuple[int, ...],
    smooth: float = 1.0,
    alpha: float = 0.5,
    beta: float = 0.5,
) -> np.ndarray:
    """Per-class 1 - (I + s) / (I + a FP + b FN + s), Salehi et al.'s index."""
    t = t.astype(np.float64)
    inter = (p * t).sum(axes)
    fp = (p * (1 - t)).sum(axes)
    fn = ((1 - p) * t).sum(axes)
    return 1 - (inter + smooth) / (inter + alpha * fp + beta * fn + smooth)


def _example(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=shape) * 2).astype(np.float32)
    if shape[-1] == 1:
        targets = rng.integers(0, 2, size=shape).astype(np.float32)
    else:
        targets = np.eye(shape[-1], dtype=np.float32)[
            rng.integers(0, shape[-1], size=shape[:-1])
        ]
    return logits, targets


def test_dice_loss_matches_optax_and_numpy() -> None:
    shape = (3, 5, 4)
    logits, targets = _example(shape)
    x, t = jnp.asarray(logits), jnp.asarray(targets)
    probs = _np_probs(logits)
    classes = shape[-1]
    spatial = tuple(range(1, len(shape) - 1))
    weights = np.linspace(0.5, 2.0, classes).astype(np.float32)
    cases: list[tuple[dict[str, Any], np.ndarray]] = [
        ({}, _np_tversky(probs, targets, spatial).mean(-1)),
        (
            {"alpha": 0.3, "beta": 0.7, "smooth": 0.5, "reduction": "none"},
            _np_tversky(probs, targets, spatial, 0.5, 0.3, 0.7),
        ),
        (
            {"class_weights": jnp.asarray(weights), "reduction": "sum"},
            (_np_tversky(probs, targets, spatial) * weights).sum(-1),
        ),
        (
            {"ignore_background": True, "reduction": "none"},
            _np_tversky(probs, targets, spatial)[..., 1:],
        ),
        ({"axis": (0, 1)}, _np_tversky(probs, targets, (0, 1)).mean(-1)),
    ]
    for kwargs, want in cases:
        ours = dice_loss(x, t, **kwargs)
        _close(ours, want)
        _close(ours, _optax("dice_loss", x, t, **kwargs), 1e-6)
    as_probs = jnp.asarray(probs.astype(np.float32))
    _close(dice_loss(as_probs, t, apply_softmax=False), cases[0][1])


def test_binary_dice_loss_closed_form_and_probabilities() -> None:
    logits, targets = _example((3, 4, 5, 1), seed=1)
    x, t = jnp.asarray(logits[..., 0]), jnp.asarray(targets[..., 0])
    p, y = _np_probs(logits)[..., 0], targets[..., 0].astype(np.float64)
    axes, s = (1, 2), 2.0
    # Dice: 1 - (2 I + 2 s) / (P + T + 2 s) (Milletari et al., linear form).
    want = 1 - (2 * (p * y).sum(axes) + 2 * s) / (p.sum(axes) + y.sum(axes) + 2 * s)
    ours = binary_dice_loss(x, t, smooth=s)
    _close(ours, want)
    _close(ours, _optax("binary_dice_loss", x, t, smooth=s), 1e-6)
    _close(binary_dice_loss(x[..., None], t[..., None], smooth=s), want)
    # dice_loss of a mask with or without its class axis of 1: sigmoid.
    _close(dice_loss(x[..., None], t, smooth=s, alpha=0.5, beta=0.5), want)
    _close(dice_loss(x, t[..., None], smooth=s), want)
    # Probabilities: optax raises here (its check wants single-class sums of
    # 1); gradtx takes them as foreground probabilities.
    probs = jnp.asarray(p.astype(np.float32))
    _close(binary_dice_loss(probs, t, smooth=s, apply_sigmoid=False), want)
    with pytest.raises(ValueError):
        optax.losses.binary_dice_loss(probs, t, smooth=s, apply_sigmoid=False)


def test_generalized_dice_matches_optax_and_numpy() -> None:
    logits, targets = _example((2, 6, 5, 4), seed=2)
    x, t = jnp.asarray(logits), jnp.asarray(targets)
    volumes = targets.astype(np.float64).sum((0, 1, 2))
    inverse = 1 / (volumes**2 + 1e-7)
    weights = inverse / inverse.sum() * 4  # Sudre et al.'s 1 / V^2, normalized
    per_class = _np_tversky(_np_probs(logits), targets, (1, 2)) * weights
    for ignore in (False, True):
        ours = multiclass_generalized_dice_loss(x, t, ignore_background=ignore)
        _close(ours, per_class[:, int(ignore) :].mean())
        want = _optax(
            "multiclass_generalized_dice_loss", x, t, ignore_background=ignore
        )
        _close(ours, want, 1e-6)


def test_jit_grad_and_saturated_logits() -> None:
    targets = jnp.asarray(np.eye(3)[[[0, 1, 2, 2], [1, 1, 0, 2]]])  # (2, 4, 3)
    logits = jnp.where(targets > 0, 1e4, -1e4)

    def both(v: jax.Array) -> jax.Array:
        return dice_loss(v, targets).sum() + multiclass_generalized_dice_loss(
            v, targets
        )

    loss, grad = jax.jit(jax.value_and_grad(both))(logits)
    assert bool(jnp.all(jnp.isfinite(grad)))
    _close(loss, 0.0)
    # Under jit the probability check cannot run; the loss is still computed.
    bad = jnp.full((2, 4, 3), 0.5)
    jitted = jax.jit(lambda p: dice_loss(p, targets, apply_softmax=False))
    assert jitted(bad).shape == (2,)


def test_bad_inputs_name_function_and_argument() -> None:
    x = jnp.zeros((2, 4, 3))
    t = jnp.zeros((2, 4, 3))
    cases: list[
        tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], type[Exception], str]
    ] = [
        (dice_loss, (x, jnp.zeros((2, 4, 2))), {}, ValueError, "targets has shape"),
        (dice_loss, (x.astype(jnp.int32), t), {}, TypeError, "predictions has dtype"),
        (dice_loss, (x, t), {"reduction": "avg"}, ValueError, "reduction='avg'"),
        (dice_loss, (x, t), {"axis": (1, 2)}, ValueError, "axis=(1, 2)"),
        (dice_loss, (x, t), {"axis": 3}, ValueError, "axis"),
        (dice_loss, (x, t), {"smooth": -1.0}, ValueError, "smooth must be"),
        (dice_loss, (x, t), {"alpha": "a"}, TypeError, "alpha must be"),
        (
            dice_loss,
            (x, t),
            {"class_weights": jnp.ones((2,))},
            ValueError,
            "class_weights has shape (2,)",
        ),
        (
            dice_loss,
            (jnp.full((2, 4, 3), 0.5), t),
            {"apply_softmax": False},
            ValueError,
            "valid probability distributions",
        ),
        (
            multiclass_generalized_dice_loss,
            (x, jnp.zeros((2, 4))),
            {},
            ValueError,
            "targets has shape (2, 4)",
        ),
        (
            multiclass_generalized_dice_loss,
            (x, t),
            {"smooth": -1.0},
            ValueError,
            "smooth must be",
        ),
        (binary_dice_loss, (x, jnp.zeros((2, 5))), {}, ValueError, "targets"),
    ]
    for fn, args, kwargs, kind, words in cases:
        with pytest.raises(kind, match="^" + fn.__name__ + ": ") as info:
            fn(*args, **kwargs)
        assert words in str(info.value), str(info.value)
