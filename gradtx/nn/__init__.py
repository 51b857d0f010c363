"""Layers as Flax NNX modules, each a thin shell over a pure function.

``gradtx.nn.functional`` holds the pure functions: plain arrays and explicit
PRNG keys, with or without Flax. Importing ``gradtx`` alone does not import
Flax; importing ``gradtx.nn`` does.
"""

from gradtx._internal.extras import require

require("gradtx.nn", "nn", "flax")

from gradtx.nn import functional as functional
from gradtx.nn._activations import PReLU as PReLU
from gradtx.nn._activations import RReLU as RReLU
from gradtx.nn._batch_norm import BatchNorm as BatchNorm
from gradtx.nn._batch_norm import renorm_warmup as renorm_warmup
from gradtx.nn._dropout import Dropout as Dropout
from gradtx.nn._dropout import DropPath as DropPath
from gradtx.nn._dropout import SpatialDropout as SpatialDropout
from gradtx.nn._recompute import recompute_batch_stats as recompute_batch_stats

__all__ = [
    "BatchNorm",
    "DropPath",
    "Dropout",
    "PReLU",
    "RReLU",
    "SpatialDropout",
    "functional",
    "recompute_batch_stats",
    "renorm_warmup",
]
