"""The listwise softmax ranking loss vs optax, NumPy float64 and torch."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn.functional as tf

from gradtx.losses._ranking import ranking_softmax_loss


def _close(a: object, b: object, tol: float = 1e-5) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def _np_listwise(
    s: np.ndarray, y: np.ndarray, where: Any = None, weights: Any = None
) -> np.ndarray:
    """-sum_i w_i y_i log softmax(s)_i over the valid items, per list."""
    s, y = s.astype(np.float64), y.astype(np.float64)
    valid = np.ones(s.shape, bool) if where is None else where
    w = np.ones(s.shape) if weights is None else weights
    out = np.zeros(s.shape[:-1])
    for index in np.ndindex(*s.shape[:-1]):
        v = valid[index]
        if not v.any():
            continue
        x = s[index][v]
        log_p = x - x.max() - np.log(np.exp(x - x.max()).sum())
        out[index] = -(w[index][v] * y[index][v] * log_p).sum()
    return out


def test_matches_optax_numpy_and_torch() -> None:
    rng = np.random.default_rng(0)
    s = (rng.normal(size=(2, 3, 5)) * 2).astype(np.float32)
    y = rng.integers(0, 3, size=(2, 3, 5)).astype(np.float32)
    where = rng.random(size=(2, 3, 5)) > 0.3
    where[1, 2] = False  # a list with no valid item
    weights = rng.random(size=(2, 3, 5)).astype(np.float32)
    x, t = jnp.asarray(s), jnp.asarray(y)
    kws: list[dict[str, Any]] = [{}, {"where": where}, {"weights": weights}]
    for kw in kws:
        per_list = _np_listwise(s, y, **kw)
        jkw = {k: jnp.asarray(v) for k, v in kw.items()}
        lists = where.any(-1) if "where" in kw else np.ones(per_list.shape, bool)
        for reduce_fn, want in (
            (None, per_list),
            (jnp.sum, per_list.sum()),
            (jnp.mean, per_list[lists].mean()),
        ):
            ours = ranking_softmax_loss(x, t, reduce_fn=reduce_fn, **jkw)
            _close(ours, want)
            _close(
                ours,
                jax.jit(optax.losses.ranking_softmax_loss, static_argnames="reduce_fn")(
                    x, t, **jkw, reduce_fn=reduce_fn
                ),
            )
    # torch: cross_entropy with probability targets is sum(y) log-softmax.
    want = tf.cross_entropy(
        torch.tensor(s).reshape(6, 5), torch.tensor(y).reshape(6, 5), reduction="none"
    )
    _close(ranking_softmax_loss(x, t, reduce_fn=None).reshape(6), want.numpy())


def test_extreme_scores_masked_lists_and_gradients() -> None:
    # Scores of any magnitude: finite (log-softmax form), as in optax's test.
    s = jnp.asarray([0.0, -2.1e26, 3.4e37, 42.0], jnp.float32)
    y = jnp.asarray([0.0, 1.0, 1.0, 0.0], jnp.float32)
    _close(ranking_softmax_loss(s, y, reduce_fn=jnp.sum), 3.4e37 + 2.1e26, 1e-6)
    # No valid item: 0 loss, 0 (not NaN) gradient; jit and vmap agree.
    scores = jnp.asarray([[0.0, 3.0, 1.0], [2.0, 1.0, 0.5]])
    labels = jnp.asarray([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]])
    where = jnp.asarray([[False, False, False], [True, True, False]])

    def loss(v: jax.Array) -> jax.Array:
        return ranking_softmax_loss(v, labels, where=where)

    value, grad = jax.jit(jax.value_and_grad(loss))(scores)
    want = _np_listwise(np.asarray(scores), np.asarray(labels), np.asarray(where))
    _close(value, want[1])  # the mean over the lists with a valid item
    p = jax.nn.softmax(scores[1, :2])
    _close(grad, jnp.asarray([[0.0, 0.0, 0.0], [p[0], p[1] - 1.0, 0.0]]))
    none = jnp.zeros_like(where)
    _close(ranking_softmax_loss(scores, labels, where=none), 0.0)
    masked_out = jax.grad(lambda v: ranking_softmax_loss(v, labels, where=none))
    _close(jax.jit(masked_out)(scores), 0.0)
    batched = jax.vmap(lambda a, b: ranking_softmax_loss(a, b, reduce_fn=None))
    _close(
        batched(scores, labels), ranking_softmax_loss(scores, labels, reduce_fn=None)
    )


def test_bad_inputs_name_function_and_argument() -> None:
    x = jnp.zeros((2, 3))
    cases: list[tuple[tuple[Any, ...], dict[str, Any], type[Exception], str]] = [
        ((x.astype(jnp.int32), x), {}, TypeError, "logits has dtype int32"),
        ((jnp.zeros(()), jnp.zeros(())), {}, ValueError, "logits must have"),
        ((x, jnp.zeros((3, 2))), {}, ValueError, "labels has shape (3, 2)"),
        ((x, x), {"where": jnp.ones((2, 3))}, TypeError, "where has dtype"),
        ((x, x), {"where": jnp.ones((3,), bool)[:2]}, ValueError, "where has shape"),
        ((x, x), {"weights": jnp.ones((4,))}, ValueError, "weights has shape (4,)"),
        ((x, x), {"reduce_fn": "mean"}, TypeError, "reduce_fn must be"),
    ]
    for args, kwargs, kind, words in cases:
        with pytest.raises(kind, match=r"^ranking_softmax_loss: ") as info:
            ranking_softmax_loss(*args, **kwargs)
        assert words in str(info.value), str(info.value)
