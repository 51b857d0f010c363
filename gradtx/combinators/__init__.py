"""Combinators: transformations built from other transformations.

``masked`` and its state are the contract's (:mod:`gradtx.core`), and
``MaskedNode``, ``decay_mask`` and ``all_finite`` are :mod:`gradtx.tree`'s:
exported here too, the same objects, where optax users look for them.
"""

from gradtx.combinators._conditional import (
    ConditionallyMaskState as ConditionallyMaskState,
)
from gradtx.combinators._conditional import (
    ConditionallyTransformState as ConditionallyTransformState,
)
from gradtx.combinators._conditional import ConditionFn as ConditionFn
from gradtx.combinators._conditional import conditionally_mask as conditionally_mask
from gradtx.combinators._conditional import (
    conditionally_transform as conditionally_transform,
)
from gradtx.combinators._flatten import FlatState as FlatState
from gradtx.combinators._flatten import Flattened as Flattened
from gradtx.combinators._flatten import flatten as flatten
from gradtx.combinators._freezing import freeze as freeze
from gradtx.combinators._freezing import selective_transform as selective_transform
from gradtx.combinators._freezing import set_to_zero as set_to_zero
from gradtx.combinators._guards import ApplyIfFiniteState as ApplyIfFiniteState
from gradtx.combinators._guards import NormGuardState as NormGuardState
from gradtx.combinators._guards import apply_if_finite as apply_if_finite
from gradtx.combinators._guards import apply_if_norm_below as apply_if_norm_below
from gradtx.combinators._inject_hyperparams import (
    InjectedHyperparams as InjectedHyperparams,
)
from gradtx.combinators._inject_hyperparams import (
    InjectHyperparamsState as InjectHyperparamsState,
)
from gradtx.combinators._inject_hyperparams import (
    inject_hyperparams as inject_hyperparams,
)
from gradtx.combinators._inject_hyperparams import (
    inject_stateful_hyperparams as inject_stateful_hyperparams,
)
from gradtx.combinators._lookahead import LookaheadParams as LookaheadParams
from gradtx.combinators._lookahead import LookaheadState as LookaheadState
from gradtx.combinators._lookahead import lookahead as lookahead
from gradtx.combinators._master_weights import MasterWeightsState as MasterWeightsState
from gradtx.combinators._master_weights import master_weights as master_weights
from gradtx.combinators._monitor import MonitorNormsState as MonitorNormsState
from gradtx.combinators._monitor import monitor_norms as monitor_norms
from gradtx.combinators._multi_steps import MultiSteps as MultiSteps
from gradtx.combinators._multi_steps import MultiStepsState as MultiStepsState
from gradtx.combinators._multi_steps import (
    ShouldSkipUpdateFunction as ShouldSkipUpdateFunction,
)
from gradtx.combinators._multi_steps import accumulate as accumulate
from gradtx.combinators._multi_steps import skip_large_updates as skip_large_updates
from gradtx.combinators._multi_steps import skip_not_finite as skip_not_finite
from gradtx.combinators._partition import PartitionState as PartitionState
from gradtx.combinators._partition import multi_transform as multi_transform
from gradtx.combinators._partition import partition as partition
from gradtx.combinators._sam import SAMState as SAMState
from gradtx.combinators._sam import normalize as normalize
from gradtx.combinators._sam import sam as sam
from gradtx.combinators._schedule_free import ScheduleFreeState as ScheduleFreeState
from gradtx.combinators._schedule_free import schedule_free as schedule_free
from gradtx.combinators._schedule_free import (
    schedule_free_eval_params as schedule_free_eval_params,
)
from gradtx.combinators._stateful_schedules import (
    InjectStatefulHyperparamsState as InjectStatefulHyperparamsState,
)
from gradtx.combinators._stateful_schedules import WrappedSchedule as WrappedSchedule
from gradtx.combinators._stateful_schedules import (
    WrappedScheduleState as WrappedScheduleState,
)
from gradtx.core import MaskedState as MaskedState
from gradtx.core import masked as masked
from gradtx.tree import MaskedNode as MaskedNode
from gradtx.tree import all_finite as all_finite
from gradtx.tree import decay_mask as decay_mask

__all__ = [
    "ApplyIfFiniteState",
    "ConditionFn",
    "ConditionallyMaskState",
    "ConditionallyTransformState",
    "FlatState",
    "Flattened",
    "InjectHyperparamsState",
    "InjectStatefulHyperparamsState",
    "InjectedHyperparams",
    "LookaheadParams",
    "LookaheadState",
    "MaskedNode",
    "MaskedState",
    "MasterWeightsState",
    "MonitorNormsState",
    "MultiSteps",
    "MultiStepsState",
    "NormGuardState",
    "PartitionState",
    "SAMState",
    "ScheduleFreeState",
    "ShouldSkipUpdateFunction",
    "WrappedSchedule",
    "WrappedScheduleState",
    "accumulate",
    "all_finite",
    "apply_if_finite",
    "apply_if_norm_below",
    "conditionally_mask",
    "conditionally_transform",
    "decay_mask",
    "flatten",
    "freeze",
    "inject_hyperparams",
    "inject_stateful_hyperparams",
    "lookahead",
    "masked",
    "master_weights",
    "monitor_norms",
    "multi_transform",
    "normalize",
    "partition",
    "sam",
    "schedule_free",
    "schedule_free_eval_params",
    "selective_transform",
    "set_to_zero",
    "skip_large_updates",
    "skip_not_finite",
]
