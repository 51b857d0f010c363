"""Schedules: pure functions from the step count to a hyperparameter value.

A schedule maps ``count`` (an int, an int32 tracer, or an array of counts) to a
float array of its shape, is safe under ``jit`` and ``vmap``, and holds its final
value past the end. Values are float32, or float64 when a value argument is a
float64 array (x64 mode): Python numbers never force float64. Names follow
optax, but arguments are checked when a schedule is built (tracers pass): where
optax quietly returns a constant or clamps, gradtx raises ``ValueError``.
"""

from gradtx.schedules._common import ScalarOrSchedule as ScalarOrSchedule
from gradtx.schedules._common import Schedule as Schedule
from gradtx.schedules._cosine import cosine_decay_schedule as cosine_decay_schedule
from gradtx.schedules._cosine import join_schedules as join_schedules
from gradtx.schedules._cosine import (
    warmup_cosine_decay_schedule as warmup_cosine_decay_schedule,
)
from gradtx.schedules._cyclic import (
    cosine_annealing_warm_restarts_schedule as cosine_annealing_warm_restarts_schedule,
)
from gradtx.schedules._cyclic import cyclic_schedule as cyclic_schedule
from gradtx.schedules._cyclic import sgdr_schedule as sgdr_schedule
from gradtx.schedules._decay import constant_schedule as constant_schedule
from gradtx.schedules._decay import exponential_decay as exponential_decay
from gradtx.schedules._decay import linear_schedule as linear_schedule
from gradtx.schedules._decay import (
    piecewise_constant_schedule as piecewise_constant_schedule,
)
from gradtx.schedules._decay import polynomial_schedule as polynomial_schedule
from gradtx.schedules._onecycle import (
    cosine_onecycle_schedule as cosine_onecycle_schedule,
)
from gradtx.schedules._onecycle import (
    linear_onecycle_schedule as linear_onecycle_schedule,
)
from gradtx.schedules._onecycle import one_cycle_schedule as one_cycle_schedule
from gradtx.schedules._onecycle import (
    piecewise_interpolate_schedule as piecewise_interpolate_schedule,
)
from gradtx.schedules._warmup import (
    warmup_constant_schedule as warmup_constant_schedule,
)
from gradtx.schedules._warmup import (
    warmup_exponential_decay_schedule as warmup_exponential_decay_schedule,
)

__all__ = [
    "ScalarOrSchedule",
    "Schedule",
    "constant_schedule",
    "cosine_annealing_warm_restarts_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "cyclic_schedule",
    "exponential_decay",
    "join_schedules",
    "linear_onecycle_schedule",
    "linear_schedule",
    "one_cycle_schedule",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "sgdr_schedule",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]
