"""PReLU (a learnable slope per channel) and RReLU as Flax NNX modules."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx
from jax.typing import DTypeLike

from gradtx._internal import validate
from gradtx.activations import prelu, rrelu
from gradtx.nn._dropout import RngsArg, _RandomMode

__all__ = ["PReLU", "RReLU"]

_RRELU_NO_RNGS = (
    "RReLU is in training mode but has no rngs: pass rngs=nnx.Rngs(dropout=0) to "
    "the constructor or rngs= to the call, or use model.eval() for the mean slope."
)


class PReLU(nnx.Module):
    """Parametric ReLU with one learnable slope per channel (He et al. 2015).

    Computes :func:`gradtx.activations.prelu` with a learnable
    ``negative_slope`` parameter of shape ``(num_parameters,)``:
    ``num_parameters=1`` shares one slope over all units (the output of
    ``flax.nnx.PReLU(negative_slope_init=0.25)``); ``num_parameters=C`` learns
    one slope per channel, the *last* axis of the input, like
    ``torch.nn.PReLU(C)`` (whose channels are axis 1). Slopes start at 0.25, as
    in the paper; note that ``flax.nnx.PReLU`` starts at 0.01. The slope is
    cast to the input's dtype.

    Args:
      num_parameters: 1 (one shared slope) or the number of channels.
      init: the initial slope.
      param_dtype: the dtype of the slopes.
      rngs: unused (the slopes are a constant); accepted so that PReLU is
        built like other layers.

    Raises:
      ValueError: (when called) the input's last axis does not have
        ``num_parameters`` channels.

    Example:
      >>> import jax.numpy as jnp
      >>> import gradtx.nn
      >>> layer = gradtx.nn.PReLU(2)
      >>> layer.negative_slope[...]
      Array([0.25, 0.25], dtype=float32)
      >>> layer(jnp.array([[-4.0, -8.0], [1.0, 2.0]]))
      Array([[-1., -2.],
             [ 1.,  2.]], dtype=float32)

    References:
      He et al., *Delving Deep into Rectifiers: Surpassing Human-Level
      Performance on ImageNet Classification*, ICCV 2015,
      https://arxiv.org/abs/1502.01852
    """

    def __init__(
        self,
        num_parameters: int = 1,
        *,
        init: float = 0.25,
        param_dtype: DTypeLike = jnp.float32,
        rngs: nnx.Rngs | None = None,
    ) -> None:
        del rngs  # the slopes start at a constant
        validate.integer(
            "PReLU",
            "num_parameters",
            num_parameters,
            low=1,
            meaning="1 for one shared slope, or the number of channels",
        )
        validate.number("PReLU", "init", init)
        self.num_parameters = num_parameters
        self.negative_slope = nnx.Param(
            jnp.full((num_parameters,), init, dtype=param_dtype)
        )

    def __call__(self, inputs: jax.Array) -> jax.Array:
        """Applies the activation; the channels are the last axis of ``inputs``."""
        n = self.num_parameters
        shape = jnp.shape(inputs)
        channels = shape[-1] if shape else None
        if n != 1 and channels != n:
            raise ValueError(
                f"PReLU has {n} slopes (num_parameters={n}) but the input has "
                f"{channels} channels (its last axis; input shape {shape}). Build "
                f"it with num_parameters={channels}, or 1 for one shared slope."
            )
        return prelu(inputs, self.negative_slope[...])


class RReLU(_RandomMode):
    """Randomized leaky ReLU (Xu et al. 2015); see :func:`gradtx.activations.rrelu`.

    In training each negative unit gets a slope drawn from
    :math:`\\mathcal{U}[l, u]`; in evaluation the slope is :math:`(l + u) / 2`.
    Like :class:`gradtx.nn.Dropout`, it follows ``model.train()`` /
    ``model.eval()`` and ``nnx.view(model, deterministic=...)``, draws its keys
    from the ``rng_collection`` stream of an ``nnx.Rngs`` (``"dropout"`` by
    default, so one ``nnx.Rngs(dropout=...)`` serves both), and takes
    call-time ``deterministic=`` and ``rngs=`` overrides.

    Args:
      lower: :math:`l \\ge 0`, the smallest slope.
      upper: :math:`u \\ge l`, the largest slope.
      deterministic: the mode (True: the mean slope); None to set it later.
      rng_collection: the ``nnx.Rngs`` stream to draw keys from.
      rngs: an ``nnx.Rngs`` or ``nnx.RngStream`` (forked), or None.

    Raises:
      ValueError: ``lower < 0`` or ``lower > upper``; (when called) training
        mode without rngs, or no mode.

    Example:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> import gradtx.nn
      >>> layer = gradtx.nn.RReLU(0.1, 0.3, rngs=nnx.Rngs(dropout=0))
      >>> y = layer(-jnp.ones(100))
      >>> bool((-y >= 0.1).all() & (-y <= 0.3).all())
      True
      >>> layer.eval()
      >>> layer(jnp.array([-1.0, 2.0]))
      Array([-0.2,  2. ], dtype=float32)

    References:
      Xu et al., *Empirical Evaluation of Rectified Activations in
      Convolutional Network*, 2015, https://arxiv.org/abs/1505.00853
    """

    def __init__(
        self,
        lower: float = 1.0 / 8.0,
        upper: float = 1.0 / 3.0,
        *,
        deterministic: bool | None = False,
        rng_collection: str = "dropout",
        rngs: nnx.Rngs | nnx.RngStream | None = None,
    ) -> None:
        fn = "RReLU"
        validate.sample_range(
            fn, ("lower", "upper"), lower, upper, drawn="each negative slope", low=0.0
        )
        self.lower = lower
        self.upper = upper
        super().__init__(
            deterministic=deterministic, rng_collection=rng_collection, rngs=rngs
        )

    def __call__(
        self,
        inputs: jax.Array,
        *,
        deterministic: bool | None = None,
        rngs: RngsArg = None,
    ) -> jax.Array:
        """Random slopes in training mode; the mean slope in evaluation mode.

        ``deterministic`` and ``rngs`` (an ``nnx.Rngs``, a stream or a key)
        given here take precedence over the module's.
        """
        mode = self._mode(deterministic)
        key = None
        if not mode:
            key = self._training_key(rngs, lambda: ValueError(_RRELU_NO_RNGS))
        return rrelu(
            inputs,
            key,
            lower=self.lower,
            upper=self.upper,
            deterministic=mode,
        )
