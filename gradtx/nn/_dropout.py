"""Dropout, SpatialDropout and DropPath as Flax NNX modules."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
from flax import nnx

from gradtx._internal import validate
from gradtx.nn import functional

__all__ = ["DropPath", "Dropout", "SpatialDropout"]

RngsArg = nnx.Rngs | nnx.RngStream | jax.Array | None

_NO_RNGS = (
    "the layer is in training mode but has no rngs: pass rngs=nnx.Rngs(dropout=0) "
    "to the constructor or rngs= to the call."
)


class _RandomMode(nnx.Module):
    """A train/eval mode and a key stream: what the random layers share."""

    def __init__(
        self,
        *,
        deterministic: bool | None,
        rng_collection: str,
        rngs: nnx.Rngs | nnx.RngStream | None,
    ) -> None:
        self.deterministic = deterministic
        self.rng_collection = rng_collection
        if isinstance(rngs, nnx.Rngs):
            self.rngs = rngs[rng_collection].fork()
        elif isinstance(rngs, nnx.RngStream):
            self.rngs = rngs.fork()
        elif rngs is None:
            self.rngs = nnx.data(None)
        else:
            raise validate.error(
                TypeError,
                type(self).__name__,
                f"rngs is {type(rngs).__name__}; expected nnx.Rngs, an "
                "nnx.RngStream or None.",
            )

    def _mode(self, deterministic: bool | None) -> bool:
        mode = self.deterministic if deterministic is None else deterministic
        if mode is None:
            raise validate.error(
                ValueError,
                type(self).__name__,
                "deterministic is None: the layer has no mode. Pass "
                "deterministic= to the constructor or the call, or use "
                "model.train() / model.eval() / nnx.view(model, deterministic=...).",
            )
        return bool(mode)

    def _key(self, rngs: RngsArg) -> jax.Array | None:
        source = self.rngs if rngs is None else rngs
        if isinstance(source, nnx.Rngs):
            return source[self.rng_collection]()
        if isinstance(source, nnx.RngStream):
            return source()
        if source is None or isinstance(source, jax.Array):
            return source
        raise validate.error(
            TypeError,
            type(self).__name__,
            f"rngs is {type(source).__name__}; expected nnx.Rngs, an "
            "nnx.RngStream or a key.",
        )

    def _training_key(
        self, rngs: RngsArg, missing: Callable[[], Exception]
    ) -> jax.Array:
        """The key of a call in training mode; ``missing()`` is raised without one."""
        key = self._key(rngs)
        if key is None:
            raise missing()
        return key

    def set_view(self, deterministic: bool | None = None) -> None:
        """Used by ``nnx.view``: sets the mode.

        Args:
          deterministic: if True, the layer is deterministic (evaluation).
        """
        if deterministic is not None:
            self.deterministic = deterministic


class _Stochastic(_RandomMode):
    """What the dropout modules share: a drop rate on top of the mode."""

    def __init__(
        self,
        rate: float,
        *,
        deterministic: bool | None = False,
        rng_collection: str = "dropout",
        rngs: nnx.Rngs | nnx.RngStream | None = None,
    ) -> None:
        validate.number(type(self).__name__, "rate", rate, low=0.0, high=1.0)
        self.rate = rate
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
        """Drops in training mode; the identity in evaluation mode.

        ``deterministic`` and ``rngs`` (an ``nnx.Rngs``, a stream or a key)
        given here take precedence over the module's.
        """
        off = self._mode(deterministic) or self.rate == 0.0
        key = None
        if not off and self.rate != 1.0:
            key = self._training_key(
                rngs, lambda: validate.error(ValueError, type(self).__name__, _NO_RNGS)
            )
        return self._apply(key, inputs, off)

    def _apply(self, key: jax.Array | None, x: jax.Array, off: bool) -> jax.Array:
        raise NotImplementedError


class Dropout(_Stochastic):
    """Inverted dropout as a Flax NNX module; see :func:`gradtx.nn.functional.dropout`.

    A drop-in for ``flax.nnx.Dropout`` (the same arguments, and the same output
    for the same key): it follows ``model.train()`` / ``model.eval()`` and
    ``nnx.view(model, deterministic=...)``, draws its keys from the
    ``rng_collection`` stream of an ``nnx.Rngs``, and takes call-time
    ``deterministic=`` and ``rngs=`` overrides. ``rate`` is the probability of
    dropping a unit, checked to lie in [0, 1] when the module is built.

    Args:
      rate: the drop probability :math:`p \\in [0, 1]`.
      broadcast_dims: dimensions that share one mask value: ints, checked to
        lie in ``[-ndim, ndim)`` for each input (negative ones count from the
        end, as in Flax; an axis out of range raises, never wraps).
      deterministic: the mode (True: identity); None to set it later.
      rng_collection: the ``nnx.Rngs`` stream to draw keys from.
      rngs: an ``nnx.Rngs`` or ``nnx.RngStream`` (forked), or None.

    Example:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> import gradtx.nn
      >>> layer = gradtx.nn.Dropout(0.5, rngs=nnx.Rngs(dropout=0))
      >>> sorted(set(layer(jnp.ones(6)).tolist()))
      [0.0, 2.0]
      >>> layer.eval()
      >>> layer(jnp.ones(3))
      Array([1., 1., 1.], dtype=float32)
    """

    def __init__(
        self,
        rate: float,
        *,
        broadcast_dims: Sequence[int] = (),
        deterministic: bool | None = False,
        rng_collection: str = "dropout",
        rngs: nnx.Rngs | nnx.RngStream | None = None,
    ) -> None:
        super().__init__(
            rate,
            deterministic=deterministic,
            rng_collection=rng_collection,
            rngs=rngs,
        )
        self.broadcast_dims = validate.axes(
            "Dropout", "broadcast_dims", broadcast_dims, allow_int=False
        )

    def _apply(self, key: jax.Array | None, x: jax.Array, off: bool) -> jax.Array:
        return functional._dropout(
            "Dropout", key, x, self.rate, self.broadcast_dims, off
        )


class SpatialDropout(_Stochastic):
    """Drops whole channels; see :func:`gradtx.nn.functional.spatial_dropout`.

    Args:
      rate: the probability of dropping a channel, in [0, 1].
      channel_axis: the channel axis of the (batch-first) input, an int in
        ``[-ndim, ndim)`` other than the batch axis 0.
      deterministic: the mode (True: identity); None to set it later.
      rng_collection: the ``nnx.Rngs`` stream to draw keys from.
      rngs: an ``nnx.Rngs`` or ``nnx.RngStream`` (forked), or None.

    Example:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> import gradtx.nn
      >>> layer = gradtx.nn.SpatialDropout(0.5, rngs=nnx.Rngs(dropout=0))
      >>> layer(jnp.ones((2, 4, 4, 3))).shape
      (2, 4, 4, 3)
    """

    def __init__(
        self,
        rate: float,
        *,
        channel_axis: int = -1,
        deterministic: bool | None = False,
        rng_collection: str = "dropout",
        rngs: nnx.Rngs | nnx.RngStream | None = None,
    ) -> None:
        super().__init__(
            rate,
            deterministic=deterministic,
            rng_collection=rng_collection,
            rngs=rngs,
        )
        validate.axis("SpatialDropout", "channel_axis", channel_axis)
        self.channel_axis = channel_axis

    def _apply(self, key: jax.Array | None, x: jax.Array, off: bool) -> jax.Array:
        return functional._spatial_dropout(
            "SpatialDropout", key, x, self.rate, self.channel_axis, off
        )


class DropPath(_Stochastic):
    """Stochastic depth for a residual branch; see :func:`~gradtx.nn.functional.drop_path`.

    Use it as ``x + self.drop_path(self.branch(x))``.

    Args:
      rate: the probability of dropping the branch for an example, in [0, 1].
      deterministic: the mode (True: identity); None to set it later.
      rng_collection: the ``nnx.Rngs`` stream to draw keys from.
      rngs: an ``nnx.Rngs`` or ``nnx.RngStream`` (forked), or None.

    Example:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> import gradtx.nn
      >>> layer = gradtx.nn.DropPath(0.2, rngs=nnx.Rngs(dropout=0))
      >>> layer(jnp.ones((4, 3)), deterministic=True)[0]
      Array([1., 1., 1.], dtype=float32)
    """  # noqa: E501

    def _apply(self, key: jax.Array | None, x: jax.Array, off: bool) -> jax.Array:
        return functional.drop_path(key, x, self.rate, deterministic=off)
