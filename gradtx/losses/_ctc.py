"""Connectionist temporal classification (CTC): the forward algorithm.

The forward variables are kept in log space and advanced frame by frame with
``jax.lax.scan``; ``log_epsilon`` stands for :math:`\\log 0`, so every value
and every gradient stays finite.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate

__all__ = ["ctc_loss", "ctc_loss_with_forward_probs"]


def _inputs(
    fn: str,
    logits: Any,
    logit_paddings: Any,
    labels: Any,
    label_paddings: Any,
    blank_id: Any,
    log_epsilon: Any,
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """The four arrays, checked: shapes (B, T, K), (B, T), (B, N), (B, N)."""
    logits = validate.floating(fn, "logits", logits)
    if logits.ndim != 3:
        raise validate.error(
            ValueError,
            fn,
            f"logits must have shape (batch, time, classes), got shape "
            f"{tuple(logits.shape)}.",
        )
    batch, time, classes = (int(s) for s in logits.shape)
    if time == 0:
        raise validate.error(
            ValueError, fn, "logits has 0 time frames; CTC needs at least one."
        )
    labels = validate.integral(
        fn, "labels", labels, "Pass class indices of shape (batch, label_length)."
    )
    if labels.ndim != 2 or int(labels.shape[0]) != batch:
        raise validate.error(
            ValueError,
            fn,
            f"labels must have shape (batch, label_length) = ({batch}, N), the "
            f"batch of logits {tuple(logits.shape)}; got shape "
            f"{tuple(labels.shape)}.",
        )
    padding_arrays = []
    for name, value, shape in (
        ("logit_paddings", logit_paddings, (batch, time)),
        ("label_paddings", label_paddings, tuple(labels.shape)),
    ):
        array = validate.as_array(fn, name, value)
        if tuple(array.shape) != shape:
            raise validate.error(
                ValueError,
                fn,
                f"{name} must have shape {shape} (one 0/1 flag per "
                f"{'frame' if name == 'logit_paddings' else 'label'}), got shape "
                f"{tuple(array.shape)}.",
            )
        padding_arrays.append(array != 0)
    validate.integer(fn, "blank_id", blank_id, low=0, meaning="the blank's class")
    if blank_id >= classes:
        raise validate.error(
            ValueError,
            fn,
            f"blank_id is {blank_id}, but logits has {classes} classes; expected "
            f"an int in [0, {classes}).",
        )
    validate.number(fn, "log_epsilon", log_epsilon, high=0.0, high_open=True)
    logit_pad, label_pad = padding_arrays
    if validate.is_concrete(labels) and validate.is_concrete(label_pad):
        values, pads = np.asarray(labels), np.asarray(label_pad)
        if np.any(pads[:, :-1] & ~pads[:, 1:]):
            row = int(np.argwhere(pads[:, :-1] & ~pads[:, 1:])[0, 0])
            raise validate.error(
                ValueError,
                fn,
                f"label_paddings must be right-padded (zeros, then ones), got "
                f"{pads[row].astype(int).tolist()} in row {row}.",
            )
        bad = ~pads & ((values < 0) | (values >= classes) | (values == blank_id))
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise validate.error(
                ValueError,
                fn,
                f"labels must be classes in [0, {classes}) other than blank_id="
                f"{blank_id}, got {int(values[index])} at index {index}.",
            )
    return logits, logit_pad, labels, label_pad


def ctc_loss_with_forward_probs(
    logits: Any,
    logit_paddings: Any,
    labels: Any,
    label_paddings: Any,
    *,
    blank_id: int = 0,
    log_epsilon: Any = -1e5,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""The CTC loss, with the log forward variables of every frame.

    CTC scores every alignment :math:`\pi` of the frames to the labels
    :math:`y_{1:N}` with blanks :math:`\phi` put in:
    :math:`-\log p(y \mid x) = -\log \sum_{\pi \in \mathcal{B}^{-1}(y)}
    \prod_t p_t(\pi_t)`, where :math:`\mathcal{B}` merges repeats, then drops
    blanks, and :math:`p_t = \operatorname{softmax}(\text{logits}_t)`. The
    sum runs over the forward variables of the blank states
    :math:`\alpha^\phi_t(n)` (``n`` labels emitted, then a blank) and of
    the label states :math:`\alpha^y_t(n)` (emitting label ``n + 1``):

    .. math::
       \alpha^\phi_t(n) &= \bigl(\alpha^\phi_{t-1}(n) +
           \alpha^y_{t-1}(n-1)\bigr)\, p_t(\phi) \\
       \alpha^y_t(n) &= \bigl(\alpha^y_{t-1}(n) + \alpha^\phi_{t-1}(n) +
           [y_{n+1} \ne y_n]\, \alpha^y_{t-1}(n-1)\bigr)\, p_t(y_{n+1})

    from :math:`\alpha^\phi_0(0) = 1` (all else 0), and
    :math:`p(y \mid x) = \alpha^\phi_T(L) + \alpha^y_T(L-1)` for a label of
    length :math:`L` (Graves et al., eq. 6-8). All of it is in log space;
    :math:`\log 0` is ``log_epsilon``, so an impossible labelling (more
    labels and repeats than frames) costs about ``-log_epsilon``, not
    ``inf`` (torch's). A padded frame leaves the variables as they are.

    Labels: outside ``jit``, a label (not padding) that is out of range or
    equal to ``blank_id``, or padding that is not on the right, raises; under
    ``jit`` such labels give a NaN loss (optax silently scores them as
    probability 1). Half-precision logits are computed in float32.

    Args:
      logits: floating array (B, T, K), the unnormalized log probabilities of
        the K classes (the blank included) at each of T frames.
      logit_paddings: array (B, T), 1 where the frame is padding, else 0.
      labels: integer array (B, N), the label sequences, right-padded.
      label_paddings: array (B, N), 1 where the label is padding, else 0;
        each row zeros then ones.
      blank_id: the blank's class in ``logits``.
      log_epsilon: the stand-in for :math:`\log 0`, < 0.

    Returns:
      ``(loss, logalpha_blank, logalpha_emit)``: the losses (B,),
      :math:`\log\alpha^\phi_t(n)` as (T, B, N+1) and
      :math:`\log\alpha^y_t(n)` as (T, B, N), as in optax. The last frame's
      blank row also holds the end in a label, :math:`\log(\alpha^\phi_T(n)
      + \alpha^y_T(n-1))`, so ``logalpha_blank[-1, b, L] = -loss[b]``.

    Raises:
      TypeError: ``logits`` not floating, or ``labels`` not integer.
      ValueError: shapes that do not fit, a bad ``blank_id`` or
        ``log_epsilon``, or concrete labels that are not valid.

    References:
      Graves, Fernández, Gomez & Schmidhuber, *Connectionist Temporal
      Classification: Labelling Unsegmented Sequence Data with Recurrent
      Neural Networks*, ICML 2006, https://doi.org/10.1145/1143844.1143891

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> logits = jnp.zeros((1, 3, 2))  # 2 classes: blank 0, label 1
      >>> loss, blank, emit = gradtx.losses.ctc_loss_with_forward_probs(
      ...     logits, jnp.zeros((1, 3)), jnp.array([[1]]), jnp.zeros((1, 1)))
      >>> loss  # -log(6 alignments / 2**3)
      Array([0.28768...], dtype=float32)
      >>> blank.shape, emit.shape
      ((3, 1, 2), (3, 1, 1))
    """
    fn = "ctc_loss_with_forward_probs"
    logits, logit_pad, labels, label_pad = _inputs(
        fn, logits, logit_paddings, labels, label_paddings, blank_id, log_epsilon
    )
    batch, _, classes = (int(s) for s in logits.shape)
    num_labels = int(labels.shape[1])
    dtype = jnp.promote_types(logits.dtype, jnp.float32)
    log_probs = jax.nn.log_softmax(logits.astype(dtype), axis=-1)
    log_eps = jnp.asarray(log_epsilon, dtype)

    valid = (labels >= 0) & (labels < classes) & (labels != blank_id)
    index = jnp.broadcast_to(
        jnp.where(valid, labels, 0)[:, None, :], (*log_probs.shape[:2], num_labels)
    )
    emit_lp = jnp.take_along_axis(log_probs, index, axis=2)  # (B, T, N)
    emit_lp = jnp.where((valid | label_pad)[:, None, :], emit_lp, jnp.nan)
    blank_lp = log_probs[:, :, blank_id]  # (B, T)
    # Label n may follow label n - 1 directly only if they differ.
    repeat = jnp.concatenate(
        [jnp.zeros((batch, 1), bool), labels[:, 1:] == labels[:, :-1]], axis=1
    )
    skip_penalty = jnp.where(repeat, log_eps, 0.0)

    def step(
        carry: tuple[jax.Array, jax.Array],
        frame: tuple[jax.Array, jax.Array, jax.Array],
    ) -> tuple[tuple[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
        phi, emit = carry  # (B, N+1), (B, N)
        frame_emit_lp, frame_blank_lp, padded = frame
        # Into label n from blank n, or from label n - 1 (not a repeat).
        from_label = jnp.logaddexp(
            phi[:, 1:num_labels], emit[:, :-1] + skip_penalty[:, 1:]
        )
        enter = jnp.concatenate([phi[:, :1], from_label], axis=1)[:, :num_labels]
        new_emit = jnp.logaddexp(emit, enter) + frame_emit_lp
        to_blank = jnp.concatenate(
            [phi[:, :1], jnp.logaddexp(phi[:, 1:], emit)], axis=1
        )
        new_phi = to_blank + frame_blank_lp[:, None]
        new_phi = jnp.where(padded[:, None], phi, new_phi)
        new_emit = jnp.where(padded[:, None], emit, new_emit)
        return (new_phi, new_emit), (new_phi, new_emit)

    phi0 = jnp.full((batch, num_labels + 1), log_eps).at[:, 0].set(0.0)
    emit0 = jnp.full((batch, num_labels), log_eps)
    frames = (
        jnp.moveaxis(emit_lp, 1, 0),
        jnp.moveaxis(blank_lp, 1, 0),
        jnp.moveaxis(logit_pad, 1, 0),
    )
    (phi_T, emit_T), (log_alpha_blank, log_alpha_emit) = jax.lax.scan(
        step, (phi0, emit0), frames
    )
    # The sequence may end in a blank or in its last label.
    final = jnp.concatenate([phi_T[:, :1], jnp.logaddexp(phi_T[:, 1:], emit_T)], axis=1)
    log_alpha_blank = log_alpha_blank.at[-1].set(final)
    lengths = jnp.sum(~label_pad, axis=1)
    loss = -jnp.take_along_axis(final, lengths[:, None], axis=1)[:, 0]
    return loss, log_alpha_blank, log_alpha_emit


def ctc_loss(
    logits: Any,
    logit_paddings: Any,
    labels: Any,
    label_paddings: Any,
    *,
    blank_id: int = 0,
    log_epsilon: Any = -1e5,
) -> jax.Array:
    r"""The CTC loss, :math:`-\log p(y \mid x)`, one per sequence.

    See :func:`ctc_loss_with_forward_probs` for the forward algorithm, the
    arguments and where gradtx differs from optax. This is
    ``torch.nn.functional.ctc_loss(..., reduction="none")`` on the
    ``log_softmax`` of ``logits``, laid out batch first, with lengths given
    as paddings.

    Args:
      logits: floating array (B, T, K), unnormalized log probabilities.
      logit_paddings: array (B, T), 1 where the frame is padding, else 0.
      labels: integer array (B, N), the label sequences, right-padded.
      label_paddings: array (B, N), 1 where the label is padding, else 0.
      blank_id: the blank's class in ``logits``.
      log_epsilon: the stand-in for :math:`\log 0`, < 0.

    Returns:
      The losses, shape (B,).

    Raises:
      TypeError: ``logits`` not floating, or ``labels`` not integer.
      ValueError: shapes that do not fit, a bad ``blank_id`` or
        ``log_epsilon``, or concrete labels that are not valid.

    References:
      Graves, Fernández, Gomez & Schmidhuber, *Connectionist Temporal
      Classification: Labelling Unsegmented Sequence Data with Recurrent
      Neural Networks*, ICML 2006, https://doi.org/10.1145/1143844.1143891

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> logits = jnp.zeros((2, 3, 3))
      >>> labels = jnp.array([[1, 2], [1, 1]])
      >>> gradtx.losses.ctc_loss(  # 5 of 27 alignments give 1 2, 1 gives 1 1
      ...     logits, jnp.zeros((2, 3)), labels, jnp.zeros((2, 2)))
      Array([1.686399, 3.295837], dtype=float32)
    """
    with validate.named("ctc_loss"):
        loss, _, _ = ctc_loss_with_forward_probs(
            logits,
            logit_paddings,
            labels,
            label_paddings,
            blank_id=blank_id,
            log_epsilon=log_epsilon,
        )
    return loss
