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
from gradtx.combinators import LookaheadParams as LookaheadParams
from gradtx.combinators import LookaheadState as LookaheadState
from gradtx.combinators import MaskedNode as MaskedNode
from gradtx.combinators import MaskedState as MaskedState
from gradtx.combinators import MasterWeightsState as MasterWeightsState
from gradtx.combinators import MultiSteps as MultiSteps
from gradtx.combinators import MultiStepsState as MultiStepsState
from gradtx.combinators import PartitionState as PartitionState
from gradtx.combinators import SAMState as SAMState
from gradtx.combinators import ScheduleFreeState as ScheduleFreeState
from gradtx.combinators import accumulate as accumulate
from gradtx.combinators import all_finite as all_finite
from gradtx.combinators import apply_if_finite as apply_if_finite
from gradtx.combinators import decay_mask as decay_mask
from gradtx.combinators import flatten as flatten
from gradtx.combinators import freeze as freeze
from gradtx.combinators import inject_hyperparams as inject_hyperparams
from gradtx.combinators import lookahead as lookahead
from gradtx.combinators import masked as masked
from gradtx.combinators import master_weights as master_weights
from gradtx.combinators import multi_transform as multi_transform
from gradtx.combinators import normalize as normalize
from gradtx.combinators import partition as partition
from gradtx.combinators import sam as sam
from gradtx.combinators import schedule_free as schedule_free
from gradtx.combinators import schedule_free_eval_params as schedule_free_eval_params
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
from gradtx.optimizers import adabelief as adabelief
from gradtx.optimizers import adadelta as adadelta
from gradtx.optimizers import adafactor as adafactor
from gradtx.optimizers import adagrad as adagrad
from gradtx.optimizers import adam as adam
from gradtx.optimizers import adamax as adamax
from gradtx.optimizers import adamaxw as adamaxw
from gradtx.optimizers import adamw as adamw
from gradtx.optimizers import adan as adan
from gradtx.optimizers import ademamix as ademamix
from gradtx.optimizers import adopt as adopt
from gradtx.optimizers import amsgrad as amsgrad
from gradtx.optimizers import asgd as asgd
from gradtx.optimizers import fromage as fromage
from gradtx.optimizers import lamb as lamb
from gradtx.optimizers import lars as lars
from gradtx.optimizers import lbfgs as lbfgs
from gradtx.optimizers import lion as lion
from gradtx.optimizers import muon as muon
from gradtx.optimizers import nadam as nadam
from gradtx.optimizers import nadamw as nadamw
from gradtx.optimizers import noisy_sgd as noisy_sgd
from gradtx.optimizers import novograd as novograd
from gradtx.optimizers import optimistic_adam as optimistic_adam
from gradtx.optimizers import optimistic_adam_v2 as optimistic_adam_v2
from gradtx.optimizers import optimistic_gradient_descent as optimistic_gradient_descent
from gradtx.optimizers import polyak_sgd as polyak_sgd
from gradtx.optimizers import prodigy as prodigy
from gradtx.optimizers import radam as radam
from gradtx.optimizers import rmsprop as rmsprop
from gradtx.optimizers import rprop as rprop
from gradtx.optimizers import schedule_free_adamw as schedule_free_adamw
from gradtx.optimizers import schedule_free_sgd as schedule_free_sgd
from gradtx.optimizers import sgd as sgd
from gradtx.optimizers import sign_sgd as sign_sgd
from gradtx.optimizers import signum as signum
from gradtx.optimizers import sm3 as sm3
from gradtx.optimizers import yogi as yogi
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
from gradtx.transforms import AddNoiseState as AddNoiseState
from gradtx.transforms import BacktrackingLinesearchInfo as BacktrackingLinesearchInfo
from gradtx.transforms import EmaState as EmaState
from gradtx.transforms import FactoredState as FactoredState
from gradtx.transforms import MuonDimensionNumbers as MuonDimensionNumbers
from gradtx.transforms import MuonState as MuonState
from gradtx.transforms import PolyakAveragingState as PolyakAveragingState
from gradtx.transforms import ProdigyState as ProdigyState
from gradtx.transforms import ScaleByAdaDeltaState as ScaleByAdaDeltaState
from gradtx.transforms import ScaleByAdamState as ScaleByAdamState
from gradtx.transforms import ScaleByAdanState as ScaleByAdanState
from gradtx.transforms import ScaleByAdemamixState as ScaleByAdemamixState
from gradtx.transforms import ScaleByAmsgradState as ScaleByAmsgradState
from gradtx.transforms import (
    ScaleByBacktrackingLinesearchState as ScaleByBacktrackingLinesearchState,
)
from gradtx.transforms import ScaleByBeliefState as ScaleByBeliefState
from gradtx.transforms import (
    ScaleByDistanceOverGradientsState as ScaleByDistanceOverGradientsState,
)
from gradtx.transforms import ScaleByLBFGSState as ScaleByLBFGSState
from gradtx.transforms import ScaleByLionState as ScaleByLionState
from gradtx.transforms import ScaleByNadamState as ScaleByNadamState
from gradtx.transforms import ScaleByNovogradState as ScaleByNovogradState
from gradtx.transforms import (
    ScaleByOptimisticGradientState as ScaleByOptimisticGradientState,
)
from gradtx.transforms import ScaleByRmsState as ScaleByRmsState
from gradtx.transforms import ScaleByRpropState as ScaleByRpropState
from gradtx.transforms import ScaleByRssState as ScaleByRssState
from gradtx.transforms import ScaleByScheduleState as ScaleByScheduleState
from gradtx.transforms import ScaleBySM3State as ScaleBySM3State
from gradtx.transforms import ScaleByStddevState as ScaleByStddevState
from gradtx.transforms import ScaleByTrustRatioState as ScaleByTrustRatioState
from gradtx.transforms import ScaleByZoomLinesearchState as ScaleByZoomLinesearchState
from gradtx.transforms import TraceState as TraceState
from gradtx.transforms import ZoomLinesearchInfo as ZoomLinesearchInfo
from gradtx.transforms import add_decayed_weights as add_decayed_weights
from gradtx.transforms import add_noise as add_noise
from gradtx.transforms import asgd_eval_params as asgd_eval_params
from gradtx.transforms import clip as clip
from gradtx.transforms import clip_by_global_norm as clip_by_global_norm
from gradtx.transforms import ema as ema
from gradtx.transforms import global_norm as global_norm
from gradtx.transforms import l2_penalty as l2_penalty
from gradtx.transforms import polyak_averaging as polyak_averaging
from gradtx.transforms import scale as scale
from gradtx.transforms import scale_by_adadelta as scale_by_adadelta
from gradtx.transforms import scale_by_adam as scale_by_adam
from gradtx.transforms import scale_by_adamax as scale_by_adamax
from gradtx.transforms import scale_by_adan as scale_by_adan
from gradtx.transforms import scale_by_ademamix as scale_by_ademamix
from gradtx.transforms import scale_by_adopt as scale_by_adopt
from gradtx.transforms import scale_by_amsgrad as scale_by_amsgrad
from gradtx.transforms import (
    scale_by_backtracking_linesearch as scale_by_backtracking_linesearch,
)
from gradtx.transforms import scale_by_belief as scale_by_belief
from gradtx.transforms import (
    scale_by_distance_over_gradients as scale_by_distance_over_gradients,
)
from gradtx.transforms import scale_by_factored_rms as scale_by_factored_rms
from gradtx.transforms import scale_by_lbfgs as scale_by_lbfgs
from gradtx.transforms import scale_by_learning_rate as scale_by_learning_rate
from gradtx.transforms import scale_by_lion as scale_by_lion
from gradtx.transforms import scale_by_muon as scale_by_muon
from gradtx.transforms import scale_by_nadam as scale_by_nadam
from gradtx.transforms import scale_by_novograd as scale_by_novograd
from gradtx.transforms import (
    scale_by_optimistic_gradient as scale_by_optimistic_gradient,
)
from gradtx.transforms import scale_by_param_block_norm as scale_by_param_block_norm
from gradtx.transforms import scale_by_param_block_rms as scale_by_param_block_rms
from gradtx.transforms import scale_by_polyak as scale_by_polyak
from gradtx.transforms import scale_by_prodigy as scale_by_prodigy
from gradtx.transforms import scale_by_radam as scale_by_radam
from gradtx.transforms import scale_by_rms as scale_by_rms
from gradtx.transforms import scale_by_rprop as scale_by_rprop
from gradtx.transforms import scale_by_rss as scale_by_rss
from gradtx.transforms import scale_by_schedule as scale_by_schedule
from gradtx.transforms import scale_by_shape as scale_by_shape
from gradtx.transforms import scale_by_sign as scale_by_sign
from gradtx.transforms import scale_by_sm3 as scale_by_sm3
from gradtx.transforms import scale_by_stddev as scale_by_stddev
from gradtx.transforms import scale_by_trust_ratio as scale_by_trust_ratio
from gradtx.transforms import scale_by_yogi as scale_by_yogi
from gradtx.transforms import scale_by_zoom_linesearch as scale_by_zoom_linesearch
from gradtx.transforms import trace as trace
from gradtx.transforms import value_and_grad_from_state as value_and_grad_from_state
from gradtx.tree import get as tree_get
from gradtx.tree import set as tree_set

__version__ = "0.1.0"
from gradtx import assignment as assignment
from gradtx import contrib as contrib
from gradtx import linalg as linalg
from gradtx import losses as losses
from gradtx import microbatching as microbatching
from gradtx import perturbations as perturbations
from gradtx import projections as projections
from gradtx import second_order as second_order
from gradtx import tree_utils as tree_utils
from gradtx.combinators import ConditionallyMaskState as ConditionallyMaskState
from gradtx.combinators import (
    ConditionallyTransformState as ConditionallyTransformState,
)
from gradtx.combinators import ConditionFn as ConditionFn
from gradtx.combinators import (
    InjectStatefulHyperparamsState as InjectStatefulHyperparamsState,
)
from gradtx.combinators import MonitorNormsState as MonitorNormsState
from gradtx.combinators import NormGuardState as NormGuardState
from gradtx.combinators import PartitionState as MultiTransformState
from gradtx.combinators import ShouldSkipUpdateFunction as ShouldSkipUpdateFunction
from gradtx.combinators import WrappedSchedule as WrappedSchedule
from gradtx.combinators import WrappedScheduleState as WrappedScheduleState
from gradtx.combinators import apply_if_norm_below as apply_if_norm_below
from gradtx.combinators import conditionally_mask as conditionally_mask
from gradtx.combinators import conditionally_transform as conditionally_transform
from gradtx.combinators import (
    inject_stateful_hyperparams as inject_stateful_hyperparams,
)
from gradtx.combinators import monitor_norms as monitor_norms
from gradtx.combinators import skip_large_updates as skip_large_updates
from gradtx.combinators import skip_not_finite as skip_not_finite
from gradtx.core import EmptyState as AdaptiveGradClipState
from gradtx.core import EmptyState as ClipByGlobalNormState
from gradtx.core import EmptyState as ClipState
from gradtx.core import EmptyState as ScaleState
from gradtx.linalg import matrix_inverse_pth_root as matrix_inverse_pth_root
from gradtx.linalg import multi_normal as multi_normal
from gradtx.linalg import nnls as nnls
from gradtx.linalg import power_iteration as power_iteration
from gradtx.losses import convex_kl_divergence as convex_kl_divergence
from gradtx.losses import cosine_distance as cosine_distance
from gradtx.losses import cosine_similarity as cosine_similarity
from gradtx.losses import ctc_loss as ctc_loss
from gradtx.losses import ctc_loss_with_forward_probs as ctc_loss_with_forward_probs
from gradtx.losses import generalized_kl_divergence as generalized_kl_divergence
from gradtx.losses import hinge_loss as hinge_loss
from gradtx.losses import huber_loss as huber_loss
from gradtx.losses import kl_divergence as kl_divergence
from gradtx.losses import l2_loss as l2_loss
from gradtx.losses import log_cosh as log_cosh
from gradtx.losses import ntxent as ntxent
from gradtx.losses import safe_softmax_cross_entropy as safe_softmax_cross_entropy
from gradtx.losses import sigmoid_binary_cross_entropy as sigmoid_binary_cross_entropy
from gradtx.losses import sigmoid_focal_loss as sigmoid_focal_loss
from gradtx.losses import smooth_labels as smooth_labels
from gradtx.losses import softmax_cross_entropy as softmax_cross_entropy
from gradtx.losses import (
    softmax_cross_entropy_with_integer_labels as softmax_cross_entropy_with_integer_labels,  # noqa: E501
)
from gradtx.losses import squared_error as squared_error
from gradtx.microbatching import microbatch as microbatch
from gradtx.numerics import safe_increment as safe_increment
from gradtx.numerics import safe_int32_increment as safe_int32_increment
from gradtx.numerics import safe_norm as safe_norm
from gradtx.numerics import safe_root_mean_squares as safe_root_mean_squares
from gradtx.schedules import (
    cosine_annealing_warm_restarts_schedule as cosine_annealing_warm_restarts_schedule,
)
from gradtx.schedules import cosine_onecycle_schedule as cosine_onecycle_schedule
from gradtx.schedules import cyclic_schedule as cyclic_schedule
from gradtx.schedules import linear_onecycle_schedule as linear_onecycle_schedule
from gradtx.schedules import one_cycle_schedule as one_cycle_schedule
from gradtx.schedules import (
    piecewise_interpolate_schedule as piecewise_interpolate_schedule,
)
from gradtx.schedules import sgdr_schedule as sgdr_schedule
from gradtx.schedules import warmup_constant_schedule as warmup_constant_schedule
from gradtx.schedules import (
    warmup_exponential_decay_schedule as warmup_exponential_decay_schedule,
)
from gradtx.transforms import ApplyEvery as ApplyEvery
from gradtx.transforms import MonitorState as MonitorState
from gradtx.transforms import NonNegativeParamsState as NonNegativeParamsState
from gradtx.transforms import ReduceLROnPlateauState as ReduceLROnPlateauState
from gradtx.transforms import ScaleByStddevState as ScaleByRStdDevState
from gradtx.transforms import SnapshotState as SnapshotState
from gradtx.transforms import ZeroNansState as ZeroNansState
from gradtx.transforms import adaptive_grad_clip as adaptive_grad_clip
from gradtx.transforms import apply_every as apply_every
from gradtx.transforms import centralize as centralize
from gradtx.transforms import clip_by_block_rms as clip_by_block_rms
from gradtx.transforms import incremental_update as incremental_update
from gradtx.transforms import keep_params_nonnegative as keep_params_nonnegative
from gradtx.transforms import measure_with_ema as measure_with_ema
from gradtx.transforms import monitor as monitor
from gradtx.transforms import normalize_by_update_norm as normalize_by_update_norm
from gradtx.transforms import (
    per_example_global_norm_clip as per_example_global_norm_clip,
)
from gradtx.transforms import per_example_layer_norm_clip as per_example_layer_norm_clip
from gradtx.transforms import periodic_update as periodic_update
from gradtx.transforms import reduce_on_plateau as reduce_on_plateau
from gradtx.transforms import scale_gradient as scale_gradient
from gradtx.transforms import snapshot as snapshot
from gradtx.transforms import unitwise_norm as unitwise_norm
from gradtx.transforms import zero_nans as zero_nans
from gradtx.tree import Mask as MaskOrFn
from gradtx.tree import bias_correction as bias_correction
from gradtx.tree import map_params as tree_map_params
from gradtx.tree import update_infinity_moment as update_infinity_moment
from gradtx.tree import update_moment as update_moment
from gradtx.tree import update_moment_per_elem_norm as update_moment_per_elem_norm

__all__ = [
    "AdaptiveGradClipState",
    "AddDecayedWeightsState",
    "AddNoiseState",
    "ApplyEvery",
    "ApplyIfFiniteState",
    "BacktrackingLinesearchInfo",
    "ClipByGlobalNormState",
    "ClipState",
    "ConditionFn",
    "ConditionallyMaskState",
    "ConditionallyTransformState",
    "EmaState",
    "EmptyState",
    "FactoredState",
    "FlatState",
    "Flattened",
    "GradientTransformation",
    "GradientTransformationExtraArgs",
    "InjectHyperparamsState",
    "InjectStatefulHyperparamsState",
    "InjectedHyperparams",
    "LookaheadParams",
    "LookaheadState",
    "MaskOrFn",
    "MaskedNode",
    "MaskedState",
    "MasterWeightsState",
    "MonitorNormsState",
    "MonitorState",
    "MultiSteps",
    "MultiStepsState",
    "MultiTransformState",
    "MuonDimensionNumbers",
    "MuonState",
    "NonNegativeParamsState",
    "NormGuardState",
    "OptState",
    "Params",
    "PartitionState",
    "PolyakAveragingState",
    "ProdigyState",
    "ReduceLROnPlateauState",
    "SAMState",
    "ScalarOrSchedule",
    "ScaleByAdaDeltaState",
    "ScaleByAdamState",
    "ScaleByAdanState",
    "ScaleByAdemamixState",
    "ScaleByAmsgradState",
    "ScaleByBacktrackingLinesearchState",
    "ScaleByBeliefState",
    "ScaleByDistanceOverGradientsState",
    "ScaleByLBFGSState",
    "ScaleByLionState",
    "ScaleByNadamState",
    "ScaleByNovogradState",
    "ScaleByOptimisticGradientState",
    "ScaleByRStdDevState",
    "ScaleByRmsState",
    "ScaleByRpropState",
    "ScaleByRssState",
    "ScaleBySM3State",
    "ScaleByScheduleState",
    "ScaleByStddevState",
    "ScaleByTrustRatioState",
    "ScaleByZoomLinesearchState",
    "ScaleState",
    "Schedule",
    "ScheduleFreeState",
    "ShouldSkipUpdateFunction",
    "SnapshotState",
    "TraceState",
    "TransformInitFn",
    "TransformUpdateExtraArgsFn",
    "TransformUpdateFn",
    "TreeMismatchError",
    "Updates",
    "WrappedSchedule",
    "WrappedScheduleState",
    "ZeroNansState",
    "ZoomLinesearchInfo",
    "accumulate",
    "activations",
    "adabelief",
    "adadelta",
    "adafactor",
    "adagrad",
    "adam",
    "adamax",
    "adamaxw",
    "adamw",
    "adan",
    "adaptive_grad_clip",
    "add_decayed_weights",
    "add_noise",
    "ademamix",
    "adopt",
    "all_finite",
    "amsgrad",
    "apply_every",
    "apply_if_finite",
    "apply_if_norm_below",
    "apply_updates",
    "asgd",
    "asgd_eval_params",
    "assignment",
    "augment",
    "bias_correction",
    "centralize",
    "chain",
    "check_updates",
    "clip",
    "clip_by_block_rms",
    "clip_by_global_norm",
    "conditionally_mask",
    "conditionally_transform",
    "constant_schedule",
    "contrib",
    "convex_kl_divergence",
    "cosine_annealing_warm_restarts_schedule",
    "cosine_decay_schedule",
    "cosine_distance",
    "cosine_onecycle_schedule",
    "cosine_similarity",
    "ctc_loss",
    "ctc_loss_with_forward_probs",
    "cyclic_schedule",
    "decay_mask",
    "ema",
    "exponential_decay",
    "flatten",
    "freeze",
    "fromage",
    "generalized_kl_divergence",
    "global_norm",
    "hinge_loss",
    "huber_loss",
    "identity",
    "incremental_update",
    "init",
    "init_empty_state",
    "inject_hyperparams",
    "inject_stateful_hyperparams",
    "join_schedules",
    "keep_params_nonnegative",
    "kl_divergence",
    "l2_loss",
    "l2_penalty",
    "lamb",
    "lars",
    "lbfgs",
    "linalg",
    "linear_onecycle_schedule",
    "linear_schedule",
    "lion",
    "log_cosh",
    "lookahead",
    "losses",
    "make_step",
    "map_leaves",
    "masked",
    "master_weights",
    "matrix_inverse_pth_root",
    "measure_with_ema",
    "microbatch",
    "microbatching",
    "monitor",
    "monitor_norms",
    "multi_normal",
    "multi_transform",
    "muon",
    "nadam",
    "nadamw",
    "named_chain",
    "nnls",
    "noisy_sgd",
    "normalize",
    "normalize_by_update_norm",
    "novograd",
    "ntxent",
    "one_cycle_schedule",
    "optimistic_adam",
    "optimistic_adam_v2",
    "optimistic_gradient_descent",
    "optimizers",
    "partition",
    "per_example_global_norm_clip",
    "per_example_layer_norm_clip",
    "periodic_update",
    "perturbations",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polyak_averaging",
    "polyak_sgd",
    "polynomial_schedule",
    "power_iteration",
    "prodigy",
    "projections",
    "radam",
    "reduce_on_plateau",
    "rmsprop",
    "rprop",
    "safe_increment",
    "safe_int32_increment",
    "safe_norm",
    "safe_root_mean_squares",
    "safe_softmax_cross_entropy",
    "sam",
    "scale",
    "scale_by_adadelta",
    "scale_by_adam",
    "scale_by_adamax",
    "scale_by_adan",
    "scale_by_ademamix",
    "scale_by_adopt",
    "scale_by_amsgrad",
    "scale_by_backtracking_linesearch",
    "scale_by_belief",
    "scale_by_distance_over_gradients",
    "scale_by_factored_rms",
    "scale_by_lbfgs",
    "scale_by_learning_rate",
    "scale_by_lion",
    "scale_by_muon",
    "scale_by_nadam",
    "scale_by_novograd",
    "scale_by_optimistic_gradient",
    "scale_by_param_block_norm",
    "scale_by_param_block_rms",
    "scale_by_polyak",
    "scale_by_prodigy",
    "scale_by_radam",
    "scale_by_rms",
    "scale_by_rprop",
    "scale_by_rss",
    "scale_by_schedule",
    "scale_by_shape",
    "scale_by_sign",
    "scale_by_sm3",
    "scale_by_stddev",
    "scale_by_trust_ratio",
    "scale_by_yogi",
    "scale_by_zoom_linesearch",
    "scale_gradient",
    "schedule_free",
    "schedule_free_adamw",
    "schedule_free_eval_params",
    "schedule_free_sgd",
    "schedules",
    "second_order",
    "selective_transform",
    "set_to_zero",
    "sgd",
    "sgdr_schedule",
    "shard_state",
    "sigmoid_binary_cross_entropy",
    "sigmoid_focal_loss",
    "sign_sgd",
    "signum",
    "skip_large_updates",
    "skip_not_finite",
    "sm3",
    "smooth_labels",
    "snapshot",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
    "squared_error",
    "state_shardings",
    "stateless",
    "stateless_with_tree_map",
    "trace",
    "tree",
    "tree_get",
    "tree_map_params",
    "tree_set",
    "tree_utils",
    "unitwise_norm",
    "update_infinity_moment",
    "update_moment",
    "update_moment_per_elem_norm",
    "value_and_grad_from_state",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
    "with_extra_args_support",
    "yogi",
    "zero_nans",
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
