"""gradtx: classic deep-learning training techniques as pure JAX transformations.

Every technique is a :class:`GradientTransformation`, a pure ``(init, update)``
pair, and techniques compose with :func:`chain`. The API follows optax's names
and argument names, so ``import gradtx as optax``-style switching works, and
the two libraries' transformations mix both ways.
"""

import importlib as _importlib
from typing import Any as _Any

from gradtx import activations as activations
from gradtx import augment as augment
from gradtx import init as init
from gradtx import optimizers as optimizers
from gradtx import schedules as schedules
from gradtx import tree as tree
from gradtx.combinators import ApplyIfFiniteState as ApplyIfFiniteState
from gradtx.combinators import FlatState as FlatState
from gradtx.combinators import Flattened as Flattened
from gradtx.combinators import InjectedHyperparams as InjectedHyperparams
from gradtx.combinators import InjectHyperparamsState as InjectHyperparamsState
from gradtx.combinators import MaskedNode as MaskedNode
from gradtx.combinators import MaskedState as MaskedState
from gradtx.combinators import MasterWeightsState as MasterWeightsState
from gradtx.combinators import MultiSteps as MultiSteps
from gradtx.combinators import MultiStepsState as MultiStepsState
from gradtx.combinators import PartitionState as PartitionState
from gradtx.combinators import accumulate as accumulate
from gradtx.combinators import all_finite as all_finite
from gradtx.combinators import apply_if_finite as apply_if_finite
from gradtx.combinators import decay_mask as decay_mask
from gradtx.combinators import flatten as flatten
from gradtx.combinators import freeze as freeze
from gradtx.combinators import inject_hyperparams as inject_hyperparams
from gradtx.combinators import masked as masked
from gradtx.combinators import master_weights as master_weights
from gradtx.combinators import multi_transform as multi_transform
from gradtx.combinators import partition as partition
from gradtx.combinators import selective_transform as selective_transform
from gradtx.combinators import set_to_zero as set_to_zero
from gradtx.core import EmptyState as EmptyState
from gradtx.core import GradientTransformation as GradientTransformation
from gradtx.core import (
    GradientTransformationExtraArgs as GradientTransformationExtraArgs,
)
from gradtx.core import OptState as OptState
from gradtx.core import Params as Params
from gradtx.core import TransformInitFn as TransformInitFn
from gradtx.core import TransformUpdateExtraArgsFn as TransformUpdateExtraArgsFn
from gradtx.core import TransformUpdateFn as TransformUpdateFn
from gradtx.core import Updates as Updates
from gradtx.core import apply_updates as apply_updates
from gradtx.core import chain as chain
from gradtx.core import check_updates as check_updates
from gradtx.core import identity as identity
from gradtx.core import init_empty_state as init_empty_state
from gradtx.core import map_leaves as map_leaves
from gradtx.core import named_chain as named_chain
from gradtx.core import stateless as stateless
from gradtx.core import stateless_with_tree_map as stateless_with_tree_map
from gradtx.core import with_extra_args_support as with_extra_args_support
from gradtx.errors import TreeMismatchError as TreeMismatchError
from gradtx.optimizers import adagrad as adagrad
from gradtx.optimizers import adam as adam
from gradtx.optimizers import adamw as adamw
from gradtx.optimizers import rmsprop as rmsprop
from gradtx.optimizers import sgd as sgd
from gradtx.schedules import ScalarOrSchedule as ScalarOrSchedule
from gradtx.schedules import Schedule as Schedule
from gradtx.schedules import constant_schedule as constant_schedule
from gradtx.schedules import cosine_decay_schedule as cosine_decay_schedule
from gradtx.schedules import exponential_decay as exponential_decay
from gradtx.schedules import join_schedules as join_schedules
from gradtx.schedules import linear_schedule as linear_schedule
from gradtx.schedules import piecewise_constant_schedule as piecewise_constant_schedule
from gradtx.schedules import polynomial_schedule as polynomial_schedule
from gradtx.schedules import (
    warmup_cosine_decay_schedule as warmup_cosine_decay_schedule,
)
from gradtx.sharding import shard_state as shard_state
from gradtx.sharding import state_shardings as state_shardings
from gradtx.step import make_step as make_step
from gradtx.transforms import AddDecayedWeightsState as AddDecayedWeightsState
from gradtx.transforms import EmaState as EmaState
from gradtx.transforms import ScaleByAdamState as ScaleByAdamState
from gradtx.transforms import ScaleByRmsState as ScaleByRmsState
from gradtx.transforms import ScaleByRssState as ScaleByRssState
from gradtx.transforms import ScaleByScheduleState as ScaleByScheduleState
from gradtx.transforms import ScaleByStddevState as ScaleByStddevState
from gradtx.transforms import TraceState as TraceState
from gradtx.transforms import add_decayed_weights as add_decayed_weights
from gradtx.transforms import clip as clip
from gradtx.transforms import clip_by_global_norm as clip_by_global_norm
from gradtx.transforms import ema as ema
from gradtx.transforms import global_norm as global_norm
from gradtx.transforms import l2_penalty as l2_penalty
from gradtx.transforms import scale as scale
from gradtx.transforms import scale_by_adam as scale_by_adam
from gradtx.transforms import scale_by_learning_rate as scale_by_learning_rate
from gradtx.transforms import scale_by_rms as scale_by_rms
from gradtx.transforms import scale_by_rss as scale_by_rss
from gradtx.transforms import scale_by_schedule as scale_by_schedule
from gradtx.transforms import scale_by_stddev as scale_by_stddev
from gradtx.transforms import trace as trace
from gradtx.tree import get as tree_get
from gradtx.tree import set as tree_set

__version__ = "0.1.0"
from gradtx.combinators import MonitorState as MonitorState
from gradtx.combinators import NormGuardState as NormGuardState
from gradtx.combinators import apply_if_norm_below as apply_if_norm_below
from gradtx.combinators import monitor as monitor
from gradtx.combinators import skip_large_updates as skip_large_updates
from gradtx.combinators import skip_not_finite as skip_not_finite
from gradtx.transforms import adaptive_grad_clip as adaptive_grad_clip
from gradtx.transforms import clip_by_block_rms as clip_by_block_rms
from gradtx.transforms import unitwise_norm as unitwise_norm

__all__ = [
    "AddDecayedWeightsState",
    "ApplyIfFiniteState",
    "EmaState",
    "EmptyState",
    "FlatState",
    "Flattened",
    "GradientTransformation",
    "GradientTransformationExtraArgs",
    "InjectHyperparamsState",
    "InjectedHyperparams",
    "MaskedNode",
    "MaskedState",
    "MasterWeightsState",
    "MonitorState",
    "MultiSteps",
    "MultiStepsState",
    "NormGuardState",
    "OptState",
    "Params",
    "PartitionState",
    "ScalarOrSchedule",
    "ScaleByAdamState",
    "ScaleByRmsState",
    "ScaleByRssState",
    "ScaleByScheduleState",
    "ScaleByStddevState",
    "Schedule",
    "TraceState",
    "TransformInitFn",
    "TransformUpdateExtraArgsFn",
    "TransformUpdateFn",
    "TreeMismatchError",
    "Updates",
    "accumulate",
    "activations",
    "adagrad",
    "adam",
    "adamw",
    "adaptive_grad_clip",
    "add_decayed_weights",
    "all_finite",
    "apply_if_finite",
    "apply_if_norm_below",
    "apply_updates",
    "augment",
    "chain",
    "check_updates",
    "clip",
    "clip_by_block_rms",
    "clip_by_global_norm",
    "constant_schedule",
    "cosine_decay_schedule",
    "decay_mask",
    "ema",
    "exponential_decay",
    "flatten",
    "freeze",
    "global_norm",
    "identity",
    "init",
    "init_empty_state",
    "inject_hyperparams",
    "join_schedules",
    "l2_penalty",
    "linear_schedule",
    "make_step",
    "map_leaves",
    "masked",
    "master_weights",
    "monitor",
    "multi_transform",
    "named_chain",
    "optimizers",
    "partition",
    "piecewise_constant_schedule",
    "polynomial_schedule",
    "rmsprop",
    "scale",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_rms",
    "scale_by_rss",
    "scale_by_schedule",
    "scale_by_stddev",
    "schedules",
    "selective_transform",
    "set_to_zero",
    "sgd",
    "shard_state",
    "skip_large_updates",
    "skip_not_finite",
    "state_shardings",
    "stateless",
    "stateless_with_tree_map",
    "trace",
    "tree",
    "tree_get",
    "tree_set",
    "unitwise_norm",
    "warmup_cosine_decay_schedule",
    "with_extra_args_support",
]

# Subpackages that need an extra, loaded on first use so that ``import gradtx``
# imports JAX and NumPy only: ``gradtx.nn`` (extra ``nn``: Flax),
# ``gradtx.checkpoint`` (``checkpoint``: orbax), ``gradtx.compare``
# (``compare``: scikit-learn, matplotlib, Flax). A missing extra is a one-line
# ImportError naming it.
_LAZY = ("checkpoint", "compare", "nn")


def __getattr__(name: str) -> _Any:
    if name in _LAZY:
        return _importlib.import_module(f"gradtx.{name}")
    raise AttributeError(f"module 'gradtx' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
