"""Microbatching: evaluate a function, ``vmap`` or per-example gradient over a
batch in sequential slices, combining the results, to bound peak memory.

The names, arguments and defaults of ``optax.microbatching``:
:func:`microbatch` (a function over microbatches, results summed, averaged
or concatenated), :func:`micro_vmap` (``jax.vmap`` in microbatches, with an
optional reduction over the batch), :func:`micro_grad` (per-example
gradients, transformed and combined), :func:`reshape_batch_axis` (the
column-major split of a batch axis), :class:`Accumulator` and
:class:`AccumulationType` (how results combine).

Where gradtx differs from optax on purpose:

- **Checked at the boundary**, naming the function and argument: a
  ``microbatch_size`` that is not an int >= 1; ``argnums``/``argnames`` the
  call lacks or repeats; ``in_axes`` of the wrong length or out of range;
  batch arguments of unequal batch sizes (each leaf's path and size is
  listed); a batch size not divisible by ``microbatch_size``; an unknown
  accumulator or one that is not a prefix of the output (at once, not at
  the first call); a concrete ``num_real_microbatches`` above the number of
  microbatches (a traced one is clipped). MEAN and RUNNING_MEAN of
  non-floating results are a TypeError (optax: ValueError); complex results
  are accepted.
- **Precision**: SUM, MEAN and RUNNING_MEAN of float16/bfloat16 results
  accumulate in float32 and round once; the result keeps its dtype.
- **Extensions**: negative ``in_axes``; an int ``in_axes`` of
  :func:`micro_vmap` maps every positional argument (as ``jax.vmap``);
  :func:`micro_grad` accepts positional arguments after the batch ones.
"""

from gradtx.microbatching._accumulators import AccumulationType as AccumulationType
from gradtx.microbatching._accumulators import Accumulator as Accumulator
from gradtx.microbatching._micro_vmap_grad import micro_grad as micro_grad
from gradtx.microbatching._micro_vmap_grad import micro_vmap as micro_vmap
from gradtx.microbatching._microbatch import microbatch as microbatch
from gradtx.microbatching._microbatch import reshape_batch_axis as reshape_batch_axis

__all__ = [
    "AccumulationType",
    "Accumulator",
    "micro_grad",
    "micro_vmap",
    "microbatch",
    "reshape_batch_axis",
]
