"""BatchNorm as a Flax NNX module (with Batch Renormalization and ghost batches)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from flax.nnx.nn.dtypes import canonicalize_dtype, promote_dtype

from gradtx._internal import validate
from gradtx._internal.numerics import safe_increment
from gradtx.nn import functional
from gradtx.nn._batch_norm_fn import MASK_MEANING
from gradtx.schedules import Schedule, linear_schedule

__all__ = ["BatchNorm", "renorm_warmup"]

Initializer = Callable[..., jax.Array]
Limit = float | Schedule
_ZEROS: Initializer = nnx.initializers.zeros_init()
_ONES: Initializer = nnx.initializers.ones_init()
_NO_METADATA: Mapping[str, Any] = MappingProxyType({})


def renorm_warmup(
    r_max: float = 3.0,
    d_max: float = 5.0,
    *,
    hold_steps: int = 5000,
    r_max_steps: int = 40000,
    d_max_steps: int = 25000,
) -> tuple[Schedule, Schedule]:
    r"""Batch Renormalization's warm-up: schedules for ``r_max`` and ``d_max``.

    Ioffe (2017, Sec. 4) trains as plain batch norm first (:math:`r_{max}=1`,
    :math:`d_{max}=0`) and then relaxes the limits linearly; the defaults are
    the paper's ImageNet schedule: held for 5,000 steps, :math:`r_{max}`
    reaching 3 at step 40,000 and :math:`d_{max}` reaching 5 at step 25,000.
    Scale the step counts to your run's length.

    Args:
      r_max: the final :math:`r_{max} \ge 1`.
      d_max: the final :math:`d_{max} \ge 0`.
      hold_steps: steps at :math:`r_{max}=1, d_{max}=0`.
      r_max_steps: the step at which ``r_max`` is reached.
      d_max_steps: the step at which ``d_max`` is reached.

    Returns:
      ``(r_max_schedule, d_max_schedule)``, for ``BatchNorm(renorm=True,
      r_max=..., d_max=...)``.

    Raises:
      ValueError: a limit out of range, or a step count that ends before the
        hold does.

    Example:
      >>> import gradtx.nn
      >>> r, d = gradtx.nn.renorm_warmup(hold_steps=10, r_max_steps=30, d_max_steps=20)
      >>> [float(r(t)) for t in (0, 10, 20, 30, 99)], float(d(15))
      ([1.0, 1.0, 2.0, 3.0, 3.0], 2.5)
    """
    fn = "renorm_warmup"
    validate.number(fn, "r_max", r_max, low=1.0)
    validate.number(fn, "d_max", d_max, low=0.0)
    validate.integer(fn, "hold_steps", hold_steps, low=0, meaning="steps held")
    for name, end in (("r_max_steps", r_max_steps), ("d_max_steps", d_max_steps)):
        validate.integer(fn, name, end, low=hold_steps + 1, meaning="after hold_steps")
    r_sched = linear_schedule(1.0, r_max, r_max_steps - hold_steps, hold_steps)
    d_sched = linear_schedule(0.0, d_max, d_max_steps - hold_steps, hold_steps)
    return r_sched, d_sched


class BatchNorm(nnx.Module):
    """Batch normalization as a Flax NNX module, with Batch Renorm and ghost batches.

    A drop-in for ``flax.nnx.BatchNorm``: the same arguments, parameters
    (``scale``, ``bias``: ``nnx.Param``) and running statistics (``mean``,
    ``var``: ``nnx.BatchStat``, so ``nnx.Optimizer(..., wrt=nnx.Param)`` never
    touches them), the same keys drawn from ``rngs.params``, the same outputs
    and output dtype, the same call-time ``mask``, and the same modes:
    ``model.train()`` / ``model.eval()``, ``nnx.view(model,
    use_running_average=...)`` and a call-time ``use_running_average``. One
    default differs: the batch variance is computed in two passes
    (``use_fast_variance=False``), which stays accurate when the mean is large
    against the spread; Flax's default one-pass :math:`E[x^2] - E[x]^2`
    returns anything from 0 to about 4 for float32 inputs of mean 3,000 and
    variance 1, and mostly 0 at mean 10,000. Pass ``use_fast_variance=True``
    for Flax's numbers. The math is
    :func:`gradtx.nn.functional.batch_norm`; with ``renorm=True`` it is
    :func:`~gradtx.nn.functional.batch_renorm`, whose limits may be schedules
    of the number of training calls (kept in ``renorm_steps``, a
    ``BatchStat``); see :func:`renorm_warmup`.

    Args:
      num_features: the size of the feature axis.
      use_running_average: the mode (True: evaluation); None to set it later.
      axis: the feature axis.
      momentum: the running statistics' EMA decay, in [0, 1].
      epsilon: added to the variance, > 0.
      dtype: the output (and computation) dtype; by default the promoted dtype
        of the input and the variables, as in Flax.
      param_dtype: the dtype of ``scale`` and ``bias``.
      use_bias: learn a shift :math:`\\beta`.
      use_scale: learn a scale :math:`\\gamma`.
      bias_init: the initializer of ``bias``.
      scale_init: the initializer of ``scale``.
      axis_name: average batch statistics over this mapped axis (data
        parallelism under ``shard_map`` / ``pmap``).
      axis_index_groups: groups of indices along ``axis_name`` that average
        among themselves, e.g. ``[[0, 1], [2, 3]]``, as in ``lax.psum``
        (JAX supports it under ``pmap`` only).
      use_fast_variance: compute the batch variance in one pass,
        :math:`E[x^2] - E[x]^2` (one collective with ``axis_name`` instead
        of two), as Flax does by default; it is inaccurate when the mean is
        large against the spread. False (gradtx's default): two passes.
      promote_dtype: ``promote_dtype((x, mean, var, scale, bias),
        dtype=dtype)`` returns the five arrays (or None) cast for the
        computation; Flax's ``nnx.nn.dtypes.promote_dtype`` by default.
      renorm: use Batch Renormalization (Ioffe 2017) in training.
      r_max: renorm's :math:`r_{max} \\ge 1` or a schedule; 3.0 by default.
      d_max: renorm's :math:`d_{max} \\ge 0` or a schedule; 5.0 by default.
      ghost_batch_size: normalize training batches in ghost batches of this
        many examples (Hoffer et al. 2017); None for the whole batch.
      rngs: an ``nnx.Rngs``; ``scale`` and ``bias`` draw from its ``params``
        stream, as Flax's do.
      bias_metadata: metadata of the ``bias`` ``nnx.Param`` (e.g.
        ``out_sharding``), as in Flax.
      scale_metadata: metadata of the ``scale`` ``nnx.Param``.

    Raises:
      ValueError: a hyperparameter out of range, ``r_max`` / ``d_max``
        without ``renorm=True``, or ``axis_index_groups`` without
        ``axis_name`` or of unequal groups.
      TypeError: ``rngs`` is not an ``nnx.Rngs``, ``promote_dtype`` is not
        callable, or a metadata argument is not a mapping.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from flax import nnx
      >>> import gradtx.nn
      >>> layer = gradtx.nn.BatchNorm(3, momentum=0.9, rngs=nnx.Rngs(0))
      >>> x = jax.random.normal(jax.random.key(0), (8, 3)) * 2 + 5
      >>> y = layer(x)  # training: batch statistics, running ones updated
      >>> bool(jnp.allclose(y.mean(0), 0, atol=1e-5)), layer.mean[...].round(1)
      (True, Array([0.5, 0.5, 0.5], dtype=float32))
      >>> layer.eval()  # evaluation: the running statistics
      >>> layer(x).shape
      (8, 3)
    """

    def __init__(
        self,
        num_features: int,
        *,
        use_running_average: bool | None = False,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-5,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        use_bias: bool = True,
        use_scale: bool = True,
        bias_init: Initializer = _ZEROS,
        scale_init: Initializer = _ONES,
        axis_name: str | None = None,
        axis_index_groups: Sequence[Sequence[int]] | None = None,
        use_fast_variance: bool = False,
        promote_dtype: Callable[..., Any] = promote_dtype,
        renorm: bool = False,
        r_max: Limit | None = None,
        d_max: Limit | None = None,
        ghost_batch_size: int | None = None,
        rngs: nnx.Rngs,
        bias_metadata: Mapping[str, Any] = _NO_METADATA,
        scale_metadata: Mapping[str, Any] = _NO_METADATA,
    ) -> None:
        fn = "BatchNorm"
        validate.integer(fn, "num_features", num_features, low=1, meaning="features")
        validate.number(fn, "momentum", momentum, low=0.0, high=1.0)
        validate.number(fn, "epsilon", epsilon, low=0.0, low_open=True)
        for name, flag in (
            ("use_bias", use_bias),
            ("use_scale", use_scale),
            ("use_fast_variance", use_fast_variance),
            ("renorm", renorm),
        ):
            validate.boolean(fn, name, flag)
        groups = validate.axis_index_groups(fn, axis_index_groups, axis_name)
        if not callable(promote_dtype):
            raise validate.error(
                TypeError,
                fn,
                f"promote_dtype is {type(promote_dtype).__name__}; it must be a "
                "function (args, *, dtype) -> args, like Flax's "
                "flax.nnx.nn.dtypes.promote_dtype.",
            )
        for name, meta in (("bias", bias_metadata), ("scale", scale_metadata)):
            if not isinstance(meta, Mapping):
                raise validate.error(
                    TypeError,
                    fn,
                    f"{name}_metadata is {type(meta).__name__}; it must be a "
                    f"mapping of nnx.Param metadata, e.g. {name}_metadata="
                    "{'out_sharding': ('model',)}.",
                )
        if ghost_batch_size is not None:
            validate.integer(
                fn, "ghost_batch_size", ghost_batch_size, low=1, meaning="examples"
            )
        if not renorm and (r_max is not None or d_max is not None):
            raise validate.error(
                ValueError,
                fn,
                "r_max / d_max are Batch Renormalization's limits; pass "
                "renorm=True to use them.",
            )
        r_max = 3.0 if r_max is None else r_max
        d_max = 5.0 if d_max is None else d_max
        validate.number(fn, "r_max", r_max, low=1.0, allow_schedule=True)
        validate.number(fn, "d_max", d_max, low=0.0, allow_schedule=True)
        if not isinstance(rngs, nnx.Rngs):
            raise validate.error(
                TypeError,
                fn,
                f"rngs is {type(rngs).__name__}; BatchNorm needs an nnx.Rngs "
                "(rngs=nnx.Rngs(0)): scale and bias draw keys from its params "
                "stream, as flax.nnx.BatchNorm's do.",
            )
        shape = (num_features,)
        self.mean = nnx.BatchStat(jnp.zeros(shape, jnp.float32))
        self.var = nnx.BatchStat(jnp.ones(shape, jnp.float32))
        self.scale = (
            nnx.Param(scale_init(rngs.params(), shape, param_dtype), **scale_metadata)
            if use_scale
            else nnx.data(None)
        )
        self.bias = (
            nnx.Param(bias_init(rngs.params(), shape, param_dtype), **bias_metadata)
            if use_bias
            else nnx.data(None)
        )
        self.renorm_steps = (
            nnx.BatchStat(jnp.zeros((), jnp.int32)) if renorm else nnx.data(None)
        )
        self.num_features = num_features
        self.use_running_average = use_running_average
        self.axis = axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.dtype = dtype
        self.param_dtype = param_dtype
        self.use_bias = use_bias
        self.use_scale = use_scale
        self.axis_name = axis_name
        self.axis_index_groups = groups
        self.use_fast_variance = use_fast_variance
        self.promote_dtype = promote_dtype
        self.renorm = renorm
        self.r_max = r_max
        self.d_max = d_max
        self.ghost_batch_size = ghost_batch_size

    def __call__(
        self,
        x: jax.Array,
        use_running_average: bool | None = None,
        *,
        mask: jax.Array | None = None,
    ) -> jax.Array:
        """Normalizes ``x``; in training mode also updates the running statistics.

        Args:
          x: the input, with ``num_features`` along ``axis``.
          use_running_average: overrides the module's mode for this call.
          mask: a boolean array broadcastable to ``x``: the elements that
            count in the batch statistics (all are normalized), as in Flax;
            None for all. Ignored in evaluation.

        Returns:
          The normalized input, same shape.

        Raises:
          ValueError: no mode is set, the input's feature count is not
            ``num_features`` (both numbers named), or ``mask`` does not
            broadcast to ``x`` (both shapes named).
          TypeError: ``mask`` is not boolean.
        """
        mode = self.use_running_average
        if use_running_average is not None:
            mode = use_running_average
        fn = "BatchNorm"
        if mode is None:
            raise validate.error(
                ValueError,
                fn,
                "use_running_average is None: BatchNorm has no mode. Pass "
                "use_running_average= to the constructor or the call, or use "
                "model.train() / model.eval() / nnx.view(model, "
                "use_running_average=...).",
            )
        shape = jnp.shape(x)
        if not -len(shape) <= self.axis < len(shape):
            raise validate.error(
                ValueError,
                fn,
                f"axis={self.axis} is out of range for an input of shape {shape}.",
            )
        if shape[self.axis] != self.num_features:
            raise ValueError(
                f"BatchNorm(num_features={self.num_features}) got an input with "
                f"{shape[self.axis]} features along axis {self.axis} (shape "
                f"{shape}); build it with num_features={shape[self.axis]} or fix "
                "the axis."
            )
        validate.mask(fn, "mask", mask, shape, meaning=MASK_MEANING)
        scale = None if self.scale is None else self.scale[...]
        bias = None if self.bias is None else self.bias[...]
        running = self.mean[...], self.var[...]
        # As Flax: promote everything, normalize in evaluation with the promoted
        # running statistics, update them in training from the unpromoted ones.
        x, *promoted, scale, bias = self.promote_dtype(
            (x, *running, scale, bias), dtype=self.dtype
        )
        mean, var = running if not mode else promoted
        kwargs: dict[str, Any] = {
            "axis": self.axis,
            "epsilon": self.epsilon,
            "momentum": self.momentum,
            "training": not mode,
            "axis_name": self.axis_name,
            "axis_index_groups": self.axis_index_groups,
            "ghost_batch_size": self.ghost_batch_size,
            "mask": mask,
            "use_fast_variance": self.use_fast_variance,
            "dtype": canonicalize_dtype(x, scale, bias, dtype=self.dtype),
        }
        # The functional checks name the module (no user code runs inside).
        if self.renorm and self.renorm_steps is not None:
            step = self.renorm_steps[...]
            limits = [
                validate.scheduled_value(fn, name, v, step, low=low)
                if callable(v)
                else v
                for name, v, low in (
                    ("r_max", self.r_max, 1.0),
                    ("d_max", self.d_max, 0.0),
                )
            ]
            with validate.named(fn):
                y, new_mean, new_var = functional.batch_renorm(
                    x,
                    scale,
                    bias,
                    mean,
                    var,
                    r_max=limits[0],
                    d_max=limits[1],
                    **kwargs,
                )
            if not mode:
                self.renorm_steps[...] = safe_increment(step)
        else:
            with validate.named(fn):
                y, new_mean, new_var = functional.batch_norm(
                    x, scale, bias, mean, var, **kwargs
                )
        if not mode:
            self.mean[...] = jax.lax.stop_gradient(new_mean)
            self.var[...] = jax.lax.stop_gradient(new_var)
        return y

    def set_view(self, use_running_average: bool | None = None) -> None:
        """Used by ``nnx.view``, ``train()`` and ``eval()``: sets the mode.

        Args:
          use_running_average: if True, normalize with the running statistics.
        """
        if use_running_average is not None:
            self.use_running_average = use_running_average
