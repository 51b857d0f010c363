"""Initialization that looks at the model: LSUV and zero-init of residual branches.

Both act on a Flax NNX model in place (the NNX idiom for initialization) and
import Flax when called.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, cast

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["lsuv", "zero_init_residual"]

Path = tuple[Any, ...]


def _path_name(path: Path) -> str:
    return "/".join(str(p) for p in path) or "<model>"


def _default_layer_types() -> tuple[type, ...]:
    from flax import nnx

    return (nnx.Linear, nnx.Conv, nnx.ConvTranspose)


def lsuv(
    model: Any,
    batch: Any,
    *,
    key: jax.Array | None,
    forward: Callable[[Any, Any], Any] | None = None,
    tol: float = 0.02,
    max_iters: int = 10,
    layer_types: Sequence[type] | None = None,
    orthogonal: bool = True,
) -> dict[str, float]:
    r"""Layer-sequential unit-variance initialization (Mishkin & Matas 2016).

    Each layer with a ``kernel`` (``nnx.Linear``, ``nnx.Conv`` and
    ``nnx.ConvTranspose`` by default) gets an orthogonal kernel, then, layer by
    layer in the order the model defines them, its kernel is rescaled until the
    variance of the layer's output on ``batch`` is 1:

    .. math:: W_l \leftarrow W_l / \sqrt{\mathrm{Var}(W_l\, x_l)} \quad
              \text{until } |\mathrm{Var} - 1| < \mathrm{tol}

    (Algorithm 1 of the paper; ``tol`` 0.1 there). Biases are left alone. The
    forward passes run on a view of the model with dropout off
    (``deterministic=True``), and every ``nnx.BatchStat`` (BatchNorm running
    statistics) is restored afterwards; BatchNorm layers keep their mode. Layer
    outputs are read with ``nnx.capture``; the pass is jit-compiled once.

    Args:
      model: a Flax NNX model; changed in place.
      batch: a batch of inputs (a few hundred examples are enough).
      key: a PRNG key for the orthogonal kernels (None with
        ``orthogonal=False``).
      forward: ``forward(model, batch)``; by default ``model(batch)``.
      tol: the accepted distance of each variance from 1, > 0.
      max_iters: rescaling passes per layer, >= 1.
      layer_types: the module types to initialize.
      orthogonal: start from orthogonal kernels (the paper's first step);
        False keeps the current kernels and only rescales them.

    Returns:
      ``{layer path: output variance}`` after initialization.

    Raises:
      ValueError: a bad ``tol`` / ``max_iters``, no layer to initialize, a
        missing key, or a layer whose output variance is 0 (it cannot be
        rescaled: its path is named).

    Example:
      >>> import jax
      >>> from flax import nnx
      >>> import gradtx
      >>> model = nnx.Sequential(nnx.Linear(16, 32, rngs=nnx.Rngs(0)), jax.nn.relu,
      ...                        nnx.Linear(32, 8, rngs=nnx.Rngs(1)))
      >>> x = jax.random.normal(jax.random.key(0), (256, 16))
      >>> variances = gradtx.init.lsuv(model, x, key=jax.random.key(1))
      >>> {path: round(v, 1) for path, v in variances.items()}
      {'layers/0': 1.0, 'layers/2': 1.0}

    References:
      Mishkin & Matas, *All you need is a good init*, ICLR 2016.
    """
    from flax import nnx

    validate.number("lsuv", "tol", tol, low=0.0, low_open=True)
    validate.integer("lsuv", "max_iters", max_iters, low=1, meaning="passes per layer")
    validate.boolean("lsuv", "orthogonal", orthogonal)
    types = tuple(layer_types) if layer_types is not None else _default_layer_types()
    layers = [
        (path, m)
        for path, m in nnx.iter_modules(model)
        if isinstance(m, types) and isinstance(getattr(m, "kernel", None), nnx.Param)
    ]
    if not layers:
        raise ValueError(
            f"lsuv: the model has no layer of types {[t.__name__ for t in types]} "
            "with a kernel; pass layer_types=."
        )
    if orthogonal and key is None:
        raise ValueError("lsuv: orthogonal=True needs key=jax.random.key(seed).")
    saved = nnx.clone(nnx.state(model, nnx.BatchStat))
    if orthogonal:
        assert key is not None
        init = jax.nn.initializers.orthogonal()
        for (_, module), k in zip(
            layers, jax.random.split(key, len(layers)), strict=True
        ):
            layer = cast(Any, module)
            kernel = layer.kernel[...]
            layer.kernel[...] = init(k, kernel.shape, kernel.dtype)
    view = nnx.view(model, raise_if_not_found=False, deterministic=True)
    run = forward if forward is not None else (lambda m, b: m(b))
    capture = nnx.jit(
        nnx.capture(run, nnx.Intermediate, method_outputs=nnx.Intermediate)
    )

    def variance(path: Path) -> float:
        _, captured = capture(view, batch)
        node: Any = captured
        for part in (*path, "__call__"):
            node = node[part]
        outputs = node.get_value()
        return float(
            jnp.mean(jnp.stack([jnp.var(o.astype(jnp.float32)) for o in outputs]))
        )

    result = {}
    try:
        for path, module in layers:
            layer = cast(Any, module)
            var = variance(path)
            for _ in range(max_iters):
                if abs(var - 1.0) < tol:
                    break
                if not var > 0.0:
                    raise ValueError(
                        f"lsuv: the output of {_path_name(path)} has variance {var} on "
                        "this batch and cannot be rescaled to 1 (a dead layer, or a "
                        "constant batch)."
                    )
                kernel = layer.kernel[...]
                layer.kernel[...] = (kernel / jnp.sqrt(var)).astype(kernel.dtype)
                var = variance(path)
            result[_path_name(path)] = var
    finally:
        nnx.update(model, saved)
    return result


def zero_init_residual(
    model: Any, where: str | Collection[str] | Callable[[Path, Any], bool]
) -> list[str]:
    r"""Zeroes the scale of the last normalization in each residual branch.

    Goyal et al. (2017, Sec. 5.1) initialize :math:`\gamma = 0` in the last
    BatchNorm of every residual block, so each block starts as the identity
    (:math:`x + 0`) and the deep network trains like a shallow one at first.
    ``where`` picks those layers: an attribute name (``"bn2"`` for a basic
    block, ``"bn3"`` for a bottleneck), several names, or a predicate
    ``(path, module) -> bool``. Any module with a ``scale`` parameter
    qualifies (``BatchNorm``, ``LayerNorm``, ``GroupNorm``, ``RMSNorm``).

    Args:
      model: a Flax NNX model; changed in place.
      where: the name(s) of the last norm layer in each branch, or a
        predicate.

    Returns:
      The paths of the layers whose scale was zeroed.

    Raises:
      ValueError: nothing matched (the message lists the model's norm
        layers), or a matched module has no ``scale`` parameter.

    Example:
      >>> from flax import nnx
      >>> import gradtx
      >>> class Block(nnx.Module):
      ...     def __init__(self, rngs):
      ...         self.linear = nnx.Linear(4, 4, rngs=rngs)
      ...         self.norm = nnx.LayerNorm(4, rngs=rngs)
      ...     def __call__(self, x):
      ...         return x + self.norm(self.linear(x))
      >>> block = Block(nnx.Rngs(0))
      >>> gradtx.init.zero_init_residual(block, "norm")
      ['norm']
      >>> import jax.numpy as jnp
      >>> x = jnp.arange(8.0).reshape(2, 4)
      >>> bool(jnp.all(block(x) == x))  # the block starts as the identity
      True

    References:
      Goyal et al., *Accurate, Large Minibatch SGD: Training ImageNet in 1
      Hour*, 2017.
    """
    from flax import nnx

    if callable(where):
        predicate = where
    else:
        names = {where} if isinstance(where, str) else set(where)
        if not names or not all(isinstance(n, str) for n in names):
            raise ValueError(
                f"zero_init_residual: where must be a layer name, names or a "
                f"predicate, got {where!r}."
            )

        def predicate(path: Path, _: Any) -> bool:
            return bool(path) and str(path[-1]) in names

    hits = [(p, m) for p, m in nnx.iter_modules(model) if predicate(p, m)]
    if not hits:
        norms = [
            _path_name(p)
            for p, m in nnx.iter_modules(model)
            if isinstance(getattr(m, "scale", None), nnx.Param)
        ]
        raise ValueError(
            f"zero_init_residual: no layer matches {where!r}. The model's layers "
            f"with a scale: {norms or 'none'}."
        )
    for path, module in hits:
        scale = getattr(module, "scale", None)
        if not isinstance(scale, nnx.Param):
            raise ValueError(
                f"zero_init_residual: {_path_name(path)} ({type(module).__name__}) "
                "has no scale parameter; pick the branch's last normalization layer."
            )
        scale[...] = jnp.zeros_like(scale[...])
    return [_path_name(p) for p, _ in hits]
