"""Building blocks: one training technique per transformation."""

from gradtx.transforms._adam import ScaleByAdamState as ScaleByAdamState
from gradtx.transforms._adam import scale_by_adam as scale_by_adam
from gradtx.transforms._clipping import adaptive_grad_clip as adaptive_grad_clip
from gradtx.transforms._clipping import clip as clip
from gradtx.transforms._clipping import clip_by_block_rms as clip_by_block_rms
from gradtx.transforms._clipping import clip_by_global_norm as clip_by_global_norm
from gradtx.transforms._clipping import global_norm as global_norm
from gradtx.transforms._clipping import unitwise_norm as unitwise_norm
from gradtx.transforms._momentum import EmaState as EmaState
from gradtx.transforms._momentum import TraceState as TraceState
from gradtx.transforms._momentum import ema as ema
from gradtx.transforms._momentum import trace as trace
from gradtx.transforms._rms import ScaleByRmsState as ScaleByRmsState
from gradtx.transforms._rms import ScaleByRssState as ScaleByRssState
from gradtx.transforms._rms import ScaleByStddevState as ScaleByStddevState
from gradtx.transforms._rms import scale_by_rms as scale_by_rms
from gradtx.transforms._rms import scale_by_rss as scale_by_rss
from gradtx.transforms._rms import scale_by_stddev as scale_by_stddev
from gradtx.transforms._scaling import ScaleByScheduleState as ScaleByScheduleState
from gradtx.transforms._scaling import scale as scale
from gradtx.transforms._scaling import scale_by_learning_rate as scale_by_learning_rate
from gradtx.transforms._scaling import scale_by_schedule as scale_by_schedule
from gradtx.transforms._weight_decay import (
    AddDecayedWeightsState as AddDecayedWeightsState,
)
from gradtx.transforms._weight_decay import add_decayed_weights as add_decayed_weights
from gradtx.transforms._weight_decay import l2_penalty as l2_penalty

__all__ = [
    "AddDecayedWeightsState",
    "EmaState",
    "ScaleByAdamState",
    "ScaleByRmsState",
    "ScaleByRssState",
    "ScaleByScheduleState",
    "ScaleByStddevState",
    "TraceState",
    "adaptive_grad_clip",
    "add_decayed_weights",
    "clip",
    "clip_by_block_rms",
    "clip_by_global_norm",
    "ema",
    "global_norm",
    "l2_penalty",
    "scale",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_rms",
    "scale_by_rss",
    "scale_by_schedule",
    "scale_by_stddev",
    "trace",
    "unitwise_norm",
]
