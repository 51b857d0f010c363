r"""Weight initializers: jax's, PyTorch's, and structured ones, for Flax layers.

An initializer is a function ``init(key, shape, dtype) -> jax.Array``, exactly
as in ``jax.nn.initializers``, so every one works as ``kernel_init=`` (or
``bias_init=``) of ``flax.nnx.Linear``, ``flax.nnx.Conv`` and friends. Builders
(``kaiming_normal(mode="fan_out")``) return initializers and check their
arguments when they are built, not on first use. Fans are counted as jax does:
``fan_in = shape[-2] * window``, ``fan_out = shape[-1] * window``, which for
Flax's ``(in, out)`` and ``(*window, in, out)`` kernels are PyTorch's numbers.

**The naming rule.** A jax name has jax's semantics; a PyTorch name has
``torch.nn.init``'s.

* jax's names (``zeros``, ``ones``, ``constant``, ``normal``,
  ``truncated_normal``, ``variance_scaling``, ``glorot_normal``,
  ``glorot_uniform``, ``he_normal``, ``he_uniform``, ``lecun_normal``,
  ``lecun_uniform``, ``orthogonal``, ``delta_orthogonal``) are
  ``jax.nn.initializers``' own functions: the same numbers for the same key.
  Note that ``glorot_normal``, ``he_normal`` and ``lecun_normal`` draw
  *truncated* normals (cut at two standard deviations, rescaled to keep the
  variance). ``variance_scaling`` is jax's, with its arguments checked when
  built. ``uniform(scale)`` is jax's :math:`U[0, \text{scale})`, and also
  takes PyTorch-style ``low=``/``high=`` bounds.
* PyTorch's names (``xavier_normal``, ``xavier_uniform``, ``kaiming_normal``,
  ``kaiming_uniform``, ``calculate_gain``) follow ``torch.nn.init``: *plain*
  normals, a ``gain`` (xavier) or ``nonlinearity``/``negative_slope``
  (kaiming). **This differs from jax**, where ``xavier_*`` and ``kaiming_*``
  are mere aliases of ``glorot_*`` and ``he_*`` (truncated normals, no gain).
  So ``gradtx.init.kaiming_normal()`` and ``gradtx.init.he_normal()`` have the
  same variance, :math:`2 / \text{fan\_in}`, but different tails.
* PyTorch's layer defaults are ``torch_default_kernel`` and
  ``torch_default_bias``; ``eye``, ``dirac`` and ``sparse`` are
  ``torch.nn.init``'s ``eye_``, ``dirac_`` and ``sparse_`` for Flax layouts.

Every initializer is also reachable by name: ``get(name, **kwargs)`` builds
one, and ``names()`` lists them.

Example:
  >>> import jax, jax.numpy as jnp
  >>> from flax import nnx
  >>> from gradtx import init
  >>> layer = nnx.Linear(256, 128, rngs=nnx.Rngs(0),
  ...                    kernel_init=init.kaiming_normal(nonlinearity="relu"))
  >>> round(float(layer.kernel[...].var() * 256 / 2), 1)  # var = 2 / fan_in
  1.0
  >>> init.get("he_normal") is not None and "xavier_normal" in init.names()
  True
"""

from jax.nn.initializers import constant as constant
from jax.nn.initializers import delta_orthogonal as delta_orthogonal
from jax.nn.initializers import glorot_normal as glorot_normal
from jax.nn.initializers import glorot_uniform as glorot_uniform
from jax.nn.initializers import he_normal as he_normal
from jax.nn.initializers import he_uniform as he_uniform
from jax.nn.initializers import lecun_normal as lecun_normal
from jax.nn.initializers import lecun_uniform as lecun_uniform
from jax.nn.initializers import normal as normal
from jax.nn.initializers import ones as ones
from jax.nn.initializers import orthogonal as orthogonal
from jax.nn.initializers import truncated_normal as truncated_normal
from jax.nn.initializers import zeros as zeros

from gradtx.init._common import Initializer as Initializer
from gradtx.init._data import lsuv as lsuv
from gradtx.init._data import zero_init_residual as zero_init_residual
from gradtx.init._defaults import torch_default_bias as torch_default_bias
from gradtx.init._defaults import torch_default_kernel as torch_default_kernel
from gradtx.init._defaults import uniform as uniform
from gradtx.init._jax import variance_scaling as variance_scaling
from gradtx.init._names import get as get
from gradtx.init._names import names as names
from gradtx.init._structured import dirac as dirac
from gradtx.init._structured import eye as eye
from gradtx.init._structured import sparse as sparse
from gradtx.init._torch import calculate_gain as calculate_gain
from gradtx.init._torch import kaiming_normal as kaiming_normal
from gradtx.init._torch import kaiming_uniform as kaiming_uniform
from gradtx.init._torch import xavier_normal as xavier_normal
from gradtx.init._torch import xavier_uniform as xavier_uniform

__all__ = [
    "Initializer",
    "calculate_gain",
    "constant",
    "delta_orthogonal",
    "dirac",
    "eye",
    "get",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "lsuv",
    "names",
    "normal",
    "ones",
    "orthogonal",
    "sparse",
    "torch_default_bias",
    "torch_default_kernel",
    "truncated_normal",
    "uniform",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "zero_init_residual",
    "zeros",
]
