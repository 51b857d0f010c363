"""Building blocks: one training technique per transformation."""

from gradtx.transforms._adadelta import ScaleByAdaDeltaState as ScaleByAdaDeltaState
from gradtx.transforms._adadelta import scale_by_adadelta as scale_by_adadelta
from gradtx.transforms._adafactor import FactoredState as FactoredState
from gradtx.transforms._adafactor import scale_by_factored_rms as scale_by_factored_rms
from gradtx.transforms._adam import ScaleByAdamState as ScaleByAdamState
from gradtx.transforms._adam import scale_by_adam as scale_by_adam
from gradtx.transforms._ademamix import ScaleByAdemamixState as ScaleByAdemamixState
from gradtx.transforms._ademamix import scale_by_ademamix as scale_by_ademamix
from gradtx.transforms._adopt import scale_by_adopt as scale_by_adopt
from gradtx.transforms._apply_every import ApplyEvery as ApplyEvery
from gradtx.transforms._apply_every import apply_every as apply_every
from gradtx.transforms._averaging import PolyakAveragingState as PolyakAveragingState
from gradtx.transforms._averaging import asgd_eval_params as asgd_eval_params
from gradtx.transforms._averaging import polyak_averaging as polyak_averaging
from gradtx.transforms._clipping import adaptive_grad_clip as adaptive_grad_clip
from gradtx.transforms._clipping import clip as clip
from gradtx.transforms._clipping import clip_by_block_rms as clip_by_block_rms
from gradtx.transforms._clipping import clip_by_global_norm as clip_by_global_norm
from gradtx.transforms._clipping import global_norm as global_norm
from gradtx.transforms._clipping import unitwise_norm as unitwise_norm
from gradtx.transforms._constraints import (
    NonNegativeParamsState as NonNegativeParamsState,
)
from gradtx.transforms._constraints import ZeroNansState as ZeroNansState
from gradtx.transforms._constraints import (
    keep_params_nonnegative as keep_params_nonnegative,
)
from gradtx.transforms._constraints import zero_nans as zero_nans
from gradtx.transforms._layerwise import ScaleByNovogradState as ScaleByNovogradState
from gradtx.transforms._layerwise import (
    ScaleByTrustRatioState as ScaleByTrustRatioState,
)
from gradtx.transforms._layerwise import scale_by_novograd as scale_by_novograd
from gradtx.transforms._layerwise import (
    scale_by_param_block_norm as scale_by_param_block_norm,
)
from gradtx.transforms._layerwise import (
    scale_by_param_block_rms as scale_by_param_block_rms,
)
from gradtx.transforms._layerwise import scale_by_trust_ratio as scale_by_trust_ratio
from gradtx.transforms._lbfgs import ScaleByLBFGSState as ScaleByLBFGSState
from gradtx.transforms._lbfgs import scale_by_lbfgs as scale_by_lbfgs
from gradtx.transforms._linesearch import (
    BacktrackingLinesearchInfo as BacktrackingLinesearchInfo,
)
from gradtx.transforms._linesearch import (
    ScaleByBacktrackingLinesearchState as ScaleByBacktrackingLinesearchState,
)
from gradtx.transforms._linesearch import (
    scale_by_backtracking_linesearch as scale_by_backtracking_linesearch,
)
from gradtx.transforms._linesearch import (
    value_and_grad_from_state as value_and_grad_from_state,
)
from gradtx.transforms._measuring import MonitorState as MonitorState
from gradtx.transforms._measuring import SnapshotState as SnapshotState
from gradtx.transforms._measuring import measure_with_ema as measure_with_ema
from gradtx.transforms._measuring import monitor as monitor
from gradtx.transforms._measuring import snapshot as snapshot
from gradtx.transforms._momentum import EmaState as EmaState
from gradtx.transforms._momentum import TraceState as TraceState
from gradtx.transforms._momentum import ema as ema
from gradtx.transforms._momentum import trace as trace
from gradtx.transforms._muon import MuonDimensionNumbers as MuonDimensionNumbers
from gradtx.transforms._muon import MuonState as MuonState
from gradtx.transforms._muon import scale_by_muon as scale_by_muon
from gradtx.transforms._muon import scale_by_shape as scale_by_shape
from gradtx.transforms._nesterov_adam import ScaleByAdanState as ScaleByAdanState
from gradtx.transforms._nesterov_adam import ScaleByNadamState as ScaleByNadamState
from gradtx.transforms._nesterov_adam import scale_by_adan as scale_by_adan
from gradtx.transforms._nesterov_adam import scale_by_nadam as scale_by_nadam
from gradtx.transforms._noise import AddNoiseState as AddNoiseState
from gradtx.transforms._noise import add_noise as add_noise
from gradtx.transforms._normalizing import centralize as centralize
from gradtx.transforms._normalizing import (
    normalize_by_update_norm as normalize_by_update_norm,
)
from gradtx.transforms._optimistic import (
    ScaleByOptimisticGradientState as ScaleByOptimisticGradientState,
)
from gradtx.transforms._optimistic import (
    scale_by_optimistic_gradient as scale_by_optimistic_gradient,
)
from gradtx.transforms._per_example import (
    per_example_global_norm_clip as per_example_global_norm_clip,
)
from gradtx.transforms._per_example import (
    per_example_layer_norm_clip as per_example_layer_norm_clip,
)
from gradtx.transforms._plateau import ReduceLROnPlateauState as ReduceLROnPlateauState
from gradtx.transforms._plateau import reduce_on_plateau as reduce_on_plateau
from gradtx.transforms._prodigy import ProdigyState as ProdigyState
from gradtx.transforms._prodigy import scale_by_prodigy as scale_by_prodigy
from gradtx.transforms._rectified import scale_by_radam as scale_by_radam
from gradtx.transforms._rms import ScaleByRmsState as ScaleByRmsState
from gradtx.transforms._rms import ScaleByRssState as ScaleByRssState
from gradtx.transforms._rms import ScaleByStddevState as ScaleByStddevState
from gradtx.transforms._rms import scale_by_rms as scale_by_rms
from gradtx.transforms._rms import scale_by_rss as scale_by_rss
from gradtx.transforms._rms import scale_by_stddev as scale_by_stddev
from gradtx.transforms._rprop import ScaleByRpropState as ScaleByRpropState
from gradtx.transforms._rprop import scale_by_rprop as scale_by_rprop
from gradtx.transforms._running_max import ScaleByAmsgradState as ScaleByAmsgradState
from gradtx.transforms._running_max import scale_by_adamax as scale_by_adamax
from gradtx.transforms._running_max import scale_by_amsgrad as scale_by_amsgrad
from gradtx.transforms._scale_gradient import scale_gradient as scale_gradient
from gradtx.transforms._scaling import ScaleByScheduleState as ScaleByScheduleState
from gradtx.transforms._scaling import scale as scale
from gradtx.transforms._scaling import scale_by_learning_rate as scale_by_learning_rate
from gradtx.transforms._scaling import scale_by_schedule as scale_by_schedule
from gradtx.transforms._second_moment import ScaleByBeliefState as ScaleByBeliefState
from gradtx.transforms._second_moment import scale_by_belief as scale_by_belief
from gradtx.transforms._second_moment import scale_by_yogi as scale_by_yogi
from gradtx.transforms._sign import ScaleByLionState as ScaleByLionState
from gradtx.transforms._sign import scale_by_lion as scale_by_lion
from gradtx.transforms._sign import scale_by_sign as scale_by_sign
from gradtx.transforms._sm3 import ScaleBySM3State as ScaleBySM3State
from gradtx.transforms._sm3 import scale_by_sm3 as scale_by_sm3
from gradtx.transforms._step_size import (
    ScaleByDistanceOverGradientsState as ScaleByDistanceOverGradientsState,
)
from gradtx.transforms._step_size import (
    scale_by_distance_over_gradients as scale_by_distance_over_gradients,
)
from gradtx.transforms._step_size import scale_by_polyak as scale_by_polyak
from gradtx.transforms._target_params import incremental_update as incremental_update
from gradtx.transforms._target_params import periodic_update as periodic_update
from gradtx.transforms._weight_decay import (
    AddDecayedWeightsState as AddDecayedWeightsState,
)
from gradtx.transforms._weight_decay import add_decayed_weights as add_decayed_weights
from gradtx.transforms._weight_decay import l2_penalty as l2_penalty
from gradtx.transforms._zoom_linesearch import (
    ScaleByZoomLinesearchState as ScaleByZoomLinesearchState,
)
from gradtx.transforms._zoom_linesearch import ZoomLinesearchInfo as ZoomLinesearchInfo
from gradtx.transforms._zoom_linesearch import (
    scale_by_zoom_linesearch as scale_by_zoom_linesearch,
)

__all__ = [
    "AddDecayedWeightsState",
    "AddNoiseState",
    "ApplyEvery",
    "BacktrackingLinesearchInfo",
    "EmaState",
    "FactoredState",
    "MonitorState",
    "MuonDimensionNumbers",
    "MuonState",
    "NonNegativeParamsState",
    "PolyakAveragingState",
    "ProdigyState",
    "ReduceLROnPlateauState",
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
    "ScaleByRmsState",
    "ScaleByRpropState",
    "ScaleByRssState",
    "ScaleBySM3State",
    "ScaleByScheduleState",
    "ScaleByStddevState",
    "ScaleByTrustRatioState",
    "ScaleByZoomLinesearchState",
    "SnapshotState",
    "TraceState",
    "ZeroNansState",
    "ZoomLinesearchInfo",
    "adaptive_grad_clip",
    "add_decayed_weights",
    "add_noise",
    "apply_every",
    "asgd_eval_params",
    "centralize",
    "clip",
    "clip_by_block_rms",
    "clip_by_global_norm",
    "ema",
    "global_norm",
    "incremental_update",
    "keep_params_nonnegative",
    "l2_penalty",
    "measure_with_ema",
    "monitor",
    "normalize_by_update_norm",
    "per_example_global_norm_clip",
    "per_example_layer_norm_clip",
    "periodic_update",
    "polyak_averaging",
    "reduce_on_plateau",
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
    "snapshot",
    "trace",
    "unitwise_norm",
    "value_and_grad_from_state",
    "zero_nans",
]
