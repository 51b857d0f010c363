"""Structured initializers: identity (eye, dirac) and sparse kernels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate
from gradtx.init._common import Initializer, as_shape

__all__ = ["dirac", "eye", "sparse"]


def _matrix(name: str, shape: Sequence[int], advice: str = "") -> tuple[int, int]:
    """``shape`` as the ``(fan_in, fan_out)`` of a 2-D kernel; ValueError if not."""
    dims = as_shape(shape, name)
    if len(dims) != 2:
        raise validate.error(
            ValueError,
            name,
            f"shape is {dims}, but {name} needs a 2-D (fan_in, fan_out) kernel."
            + advice,
        )
    return dims[0], dims[1]


def eye(*, dtype: Any = jnp.float32) -> Initializer:
    r"""Identity initializer for a Dense kernel (``torch.nn.init.eye_``).

    .. math:: W_{ij} = \begin{cases} 1 & i = j \\ 0 & \text{otherwise}
              \end{cases}

    For a rectangular ``(fan_in, fan_out)`` kernel the ones run down the
    main diagonal: a layer with more outputs than inputs copies its inputs to
    its first ``fan_in`` outputs (the rest are 0); one with fewer drops the
    last inputs. The key is not used.

    Args:
      dtype: the default dtype of the weights.

    Returns:
      An initializer ``init(key, shape, dtype) -> jax.Array`` for 2-D shapes.

    Raises:
      ValueError: when called with a shape that is not 2-D (use :func:`dirac`
        for convolution kernels).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import init
      >>> init.eye()(jax.random.key(0), (2, 3), jnp.float32)
      Array([[1., 0., 0.],
             [0., 1., 0.]], dtype=float32)

    References:
      PyTorch, ``torch.nn.init.eye_``, https://pytorch.org/docs/stable/nn.init.html
    """

    def init(key: jax.Array, shape: Sequence[int], dtype: Any = dtype) -> jax.Array:
        rows, cols = _matrix(
            "eye", shape, " For a convolution kernel (*window, in, out), use dirac()."
        )
        return jnp.eye(rows, cols, dtype=dtype)

    return init


def dirac(groups: int = 1, *, dtype: Any = jnp.float32) -> Initializer:
    r"""Identity-preserving convolution kernel (``torch.nn.init.dirac_``), in HWIO.

    .. math:: W[c_1, \ldots, c_d, i, g\,m + i] = 1 \quad\text{for } 0 \le g <
              \text{groups},\ 0 \le i < \min(C_\text{in}, m),
              \qquad m = C_\text{out} / \text{groups}

    and 0 elsewhere, where :math:`c_k = k_k // 2` is the window's centre and
    ``(*window, C_in, C_out)`` is Flax's kernel layout (``C_in`` per group).
    A convolution with this kernel and ``padding="SAME"`` (odd window) copies
    input channel :math:`g\,C_\text{in} + i` to output channel
    :math:`g\,m + i`; the other outputs are 0. With ``groups=1``: the first
    ``min(in, out)`` channels pass through unchanged.

    Args:
      groups: the convolution's ``feature_group_count``; the kernel's last
        axis (out-channels) must be divisible by it.
      dtype: the default dtype of the weights.

    Returns:
      An initializer ``init(key, shape, dtype) -> jax.Array`` for the kernels
      of 1-D, 2-D and 3-D convolutions (rank 3, 4 or 5). The key is not used.

    Raises:
      ValueError: ``groups`` not an int >= 1, when built; when called, a shape
        of rank other than 3-5, or out-channels not divisible by ``groups``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from flax import nnx
      >>> from gradtx import init
      >>> conv = nnx.Conv(3, 3, (3, 3), padding="SAME", kernel_init=init.dirac(),
      ...                 rngs=nnx.Rngs(0))
      >>> x = jax.random.normal(jax.random.key(1), (2, 5, 5, 3))
      >>> bool(jnp.allclose(conv(x), x))  # the bias starts at 0
      True

    References:
      Zagoruyko & Komodakis, *DiracNets: Training Very Deep Neural Networks
      Without Skip-Connections*, 2017, https://arxiv.org/abs/1706.00388
    """
    validate.integer(
        "dirac", "groups", groups, low=1, meaning="the feature_group_count"
    )

    def init(key: jax.Array, shape: Sequence[int], dtype: Any = dtype) -> jax.Array:
        dims = as_shape(shape, "dirac")
        if len(dims) not in (3, 4, 5):
            raise validate.error(
                ValueError,
                "dirac",
                f"shape is {dims}, but dirac needs a convolution kernel (*window, "
                "in, out) of rank 3, 4 or 5. For a Dense kernel, use eye().",
            )
        *window, c_in, c_out = dims
        if c_out % groups:
            raise validate.error(
                ValueError,
                "dirac",
                f"shape[-1] = {c_out}, the kernel's out-channels (shape {dims}), "
                f"must be divisible by groups={groups}.",
            )
        per_group = c_out // groups
        n = min(c_in, per_group)
        centre: tuple[Any, ...] = tuple(k // 2 for k in window)
        ins = np.tile(np.arange(n), groups)
        outs = (np.arange(groups)[:, None] * per_group + np.arange(n)).ravel()
        w = np.zeros(dims, np.float32)
        w[(*centre, ins, outs)] = 1.0
        return jnp.asarray(w, dtype)

    return init


def sparse(
    sparsity: float, std: float = 0.01, *, dtype: Any = jnp.float32
) -> Initializer:
    r"""Sparse initializer (Martens 2010; ``torch.nn.init.sparse_``).

    .. math:: W_{ij} = \begin{cases} 0 & i \in Z_j \\
              \mathcal{N}(0, \text{std}^2) & \text{otherwise} \end{cases}
              \qquad |Z_j| = \lceil \text{sparsity} \cdot \text{rows} \rceil

    where :math:`Z_j` is a random set of rows, drawn anew for each column
    :math:`j`: every column has exactly
    ``math.ceil(sparsity * rows)`` zeros (computed as PyTorch does, so
    ``sparsity=0.3`` with 10 rows gives 4, from ``0.3 * 10 = 3.0000000000000004``).

    For a Flax Dense kernel ``(fan_in, fan_out)`` a column holds one output
    unit's incoming weights, so each unit keeps
    ``rows - ceil(sparsity * rows)`` random inputs: Martens's "sparse
    initialization" of units with a few non-zero incoming connections. (For
    PyTorch's ``(out, in)`` weights, a column is one *input*'s outgoing
    weights.)

    Args:
      sparsity: the fraction of each column set to zero, in [0, 1].
      std: the standard deviation of the non-zero entries (>= 0).
      dtype: the default dtype of the weights.

    Returns:
      An initializer ``init(key, shape, dtype) -> jax.Array`` for 2-D shapes.

    Raises:
      ValueError: ``sparsity`` outside [0, 1] or ``std`` negative, when built;
        a shape that is not 2-D, when called.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import init
      >>> w = init.sparse(0.75)(jax.random.key(0), (8, 5), jnp.float32)
      >>> (w == 0).sum(axis=0).tolist()  # ceil(0.75 * 8) zeros per column
      [6, 6, 6, 6, 6]

    References:
      Martens, *Deep learning via Hessian-free optimization*, ICML 2010,
      https://www.cs.toronto.edu/~jmartens/docs/Deep_HessianFree.pdf
    """
    validate.number("sparse", "sparsity", sparsity, low=0.0, high=1.0)
    validate.number("sparse", "std", std, low=0.0, high_open=True)
    fraction, scale = float(sparsity), float(std)

    def init(key: jax.Array, shape: Sequence[int], dtype: Any = dtype) -> jax.Array:
        dims = _matrix("sparse", shape)
        rows, _ = dims
        if math.prod(dims) == 0:
            return jnp.zeros(dims, dtype)
        num_zeros = math.ceil(fraction * rows)
        value_key, row_key = jax.random.split(key)
        values = jax.random.normal(value_key, dims, dtype) * jnp.asarray(scale, dtype)
        row_ids = jnp.broadcast_to(jnp.arange(rows)[:, None], dims)
        # Each column gets its own random order of the rows; the first
        # num_zeros rows of that order are zeroed: exactly num_zeros per column.
        order = jax.random.permutation(row_key, row_ids, axis=0, independent=True)
        return jnp.where(order < num_zeros, jnp.zeros_like(values), values)

    return init
