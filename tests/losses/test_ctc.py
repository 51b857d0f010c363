"""CTC loss vs a brute-force sum over alignments, optax and torch."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn.functional as tf

from gradtx.losses._ctc import ctc_loss, ctc_loss_with_forward_probs


def _close(a: object, b: object, tol: float = 1e-9) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def _paddings(lengths: np.ndarray, size: int) -> np.ndarray:
    return (np.arange(size)[None, :] >= lengths[:, None]).astype(np.float64)


def _np_ctc(logits: np.ndarray, label: list[int], blank: int) -> float:
    """-log p(label | x) by the definition: the sum over all alignments."""
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    steps, classes = logits.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        if [k for k in merged if k != blank] == label:
            total += np.exp(sum(log_probs[t, k] for t, k in enumerate(path)))
    return -np.log(total)


def _torch_ctc(
    logits: np.ndarray,
    labels: np.ndarray,
    steps: np.ndarray,
    lens: np.ndarray,
    blank: int,
) -> tuple[np.ndarray, np.ndarray]:
    x = torch.tensor(logits, requires_grad=True)
    loss = tf.ctc_loss(
        torch.log_softmax(x, -1).transpose(0, 1),
        torch.tensor(labels),
        torch.tensor(steps),
        torch.tensor(lens),
        blank=blank,
        reduction="none",
    )
    loss.sum().backward()
    assert x.grad is not None
    return loss.detach().numpy(), x.grad.numpy()


@functools.partial(jax.jit, static_argnames="blank_id")
def _ours(
    logits: jax.Array, tp: jax.Array, labels: jax.Array, lp: jax.Array, blank_id: int
) -> tuple[tuple[jax.Array, ...], jax.Array]:
    """The loss, the forward variables and the gradient of the summed loss."""

    def forward(x: jax.Array) -> tuple[jax.Array, ...]:
        return ctc_loss_with_forward_probs(x, tp, labels, lp, blank_id=blank_id)

    outs, vjp = jax.vjp(forward, logits)
    (grad,) = vjp((jnp.ones_like(outs[0]), *(jnp.zeros_like(o) for o in outs[1:])))
    return outs, grad


def _batch(blank_id: int, dtype: type) -> tuple[np.ndarray, ...]:
    """Labels with repeats, an empty one, padded frames; rows as lists too."""
    rng = np.random.default_rng(blank_id)
    logits: np.ndarray = (rng.normal(size=(5, 5, 3)) * 2).astype(dtype)
    a, b = (k for k in range(3) if k != blank_id)
    rows = [[a, b, a], [b, b], [], [a], [b, a, a]]
    lens = np.array([len(r) for r in rows])
    labels = np.array([r + [0] * (3 - len(r)) for r in rows])
    frames = np.array([5, 4, 3, 5, 5])
    return logits, labels, lens, frames, _paddings(lens, 3), _paddings(frames, 5)


def test_ctc_matches_brute_force_optax_and_torch() -> None:
    logits, labels, lens, frames, lp, tp = _batch(0, np.float64)
    outs, grad = _ours(logits, tp, labels, lp, blank_id=0)
    want = jax.jit(optax.losses.ctc_loss_with_forward_probs)(logits, tp, labels, lp)
    for a, b in zip(outs, want, strict=True):
        assert a.shape == b.shape
        _close(a, b)
    loss = outs[0]
    rows = [list(r[:n]) for r, n in zip(labels, lens, strict=True)]
    _close(loss, [_np_ctc(logits[i, : frames[i]], rows[i], 0) for i in range(5)])
    torch_loss, torch_grad = _torch_ctc(logits, labels, frames, lens, 0)
    _close(loss, torch_loss)
    _close(grad, torch_grad)
    # The blank row of the last frame also holds the end: -loss.
    _close(outs[1][-1, np.arange(5), lens], -loss)


def test_ctc_blank_id_float32_impossible_and_invalid_labels() -> None:
    logits, labels, lens, frames, lp, tp = _batch(2, np.float32)
    # Row 1 (b b) gets 2 frames, 3 are needed: impossible. Row 2 (empty)
    # gets the blank as a label: invalid, NaN under jit (raises outside).
    tp = _paddings(np.array([5, 2, 3, 5, 5]), 5)
    labels[2, 0], lp[2, 0] = 2, 0.0
    (loss, *_), grad = _ours(logits, tp, labels, lp, blank_id=2)
    assert loss.dtype == jnp.float32
    assert 1e4 < float(loss[1]) < 1e6  # about -log_epsilon, not inf
    assert np.isnan(float(loss[2]))
    ok = np.array([0, 3, 4])
    x = logits.astype(np.float64)
    rows = [list(r[:n]) for r, n in zip(labels, lens, strict=True)]
    _close(loss[ok], [_np_ctc(x[i, : frames[i]], rows[i], 2) for i in ok], 1e-5)
    torch_loss, torch_grad = _torch_ctc(x[ok], labels[ok], frames[ok], lens[ok], 2)
    _close(loss[ok], torch_loss, 1e-5)
    _close(grad[ok], torch_grad, 1e-5)
    assert bool(jnp.all(jnp.isfinite(grad[1])))


def test_ctc_bad_inputs_name_function_and_argument() -> None:
    x, pad_t = jnp.zeros((2, 4, 3)), jnp.zeros((2, 4))
    y, pad_n = jnp.ones((2, 2), jnp.int32), jnp.zeros((2, 2))
    cases: list[tuple[tuple, dict[str, Any], type[Exception], str]] = [
        ((x.astype(jnp.int32), pad_t, y, pad_n), {}, TypeError, "logits has dtype"),
        ((x[0], pad_t, y, pad_n), {}, ValueError, "logits must have shape"),
        ((x, pad_t, y.astype(float), pad_n), {}, TypeError, "labels has dtype"),
        ((x, pad_t, y[:1], pad_n), {}, ValueError, "labels must have shape"),
        ((x, pad_t[:, :3], y, pad_n), {}, ValueError, "logit_paddings must have"),
        ((x, pad_t, y, pad_n[:, :1]), {}, ValueError, "label_paddings must have"),
        ((x, pad_t, y, pad_n), {"blank_id": 3}, ValueError, "blank_id is 3"),
        ((x, pad_t, y, pad_n), {"log_epsilon": 1.0}, ValueError, "log_epsilon must"),
        ((x, pad_t, y.at[0, 1].set(0), pad_n), {}, ValueError, "other than blank"),
        ((x, pad_t, y, pad_n.at[0, 0].set(1)), {}, ValueError, "right-padded"),
        ((x[:, :0], pad_t[:, :0], y, pad_n), {}, ValueError, "0 time frames"),
    ]
    for args, kwargs, kind, words in cases:
        for fn in (ctc_loss, ctc_loss_with_forward_probs):
            with pytest.raises(kind, match=words) as info:
                fn(*args, **kwargs)
            assert str(info.value).startswith(f"{fn.__name__}: ")
