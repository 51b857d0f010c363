"""optax's ``contrib`` names that gradtx has, for ``import gradtx as optax``.

``optax.contrib`` holds optimizers contributed to optax outside its main
API. The ones gradtx has live at its top level (and in
:mod:`gradtx.optimizers`), with gradtx's checks and documentation; this module
gives them their ``optax.contrib`` address too, so ``optax.contrib.muon(...)``
keeps working after ``import gradtx as optax``. Each name is the top-level
object itself.

The rest of ``optax.contrib`` (acprop, cocob, dadapt_adamw, differentially
private aggregation and dpsgd, dog and dowg as optax defines them, galore,
hutchinson_estimator_diag_hessian, madgrad, mechanize, momo, momo_adam,
simplified_ademamix, sophia, split_real_and_imaginary and their states) is
not in gradtx yet: the README's "Names left out" lists them.

Example:
  >>> import gradtx
  >>> gradtx.contrib.muon is gradtx.muon
  True
"""

from gradtx.combinators import SAMState as SAMState
from gradtx.combinators import ScheduleFreeState as ScheduleFreeState
from gradtx.combinators import normalize as normalize
from gradtx.combinators import sam as sam
from gradtx.combinators import schedule_free as schedule_free
from gradtx.combinators import schedule_free_eval_params as schedule_free_eval_params
from gradtx.optimizers import ademamix as ademamix
from gradtx.optimizers import adopt as adopt
from gradtx.optimizers import muon as muon
from gradtx.optimizers import prodigy as prodigy
from gradtx.optimizers import schedule_free_adamw as schedule_free_adamw
from gradtx.optimizers import schedule_free_sgd as schedule_free_sgd
from gradtx.transforms import MuonDimensionNumbers as MuonDimensionNumbers
from gradtx.transforms import MuonState as MuonState
from gradtx.transforms import ProdigyState as ProdigyState
from gradtx.transforms import ReduceLROnPlateauState as ReduceLROnPlateauState
from gradtx.transforms import ScaleByAdemamixState as ScaleByAdemamixState
from gradtx.transforms import reduce_on_plateau as reduce_on_plateau
from gradtx.transforms import scale_by_ademamix as scale_by_ademamix
from gradtx.transforms import scale_by_adopt as scale_by_adopt
from gradtx.transforms import scale_by_muon as scale_by_muon

__all__ = [
    "MuonDimensionNumbers",
    "MuonState",
    "ProdigyState",
    "ReduceLROnPlateauState",
    "SAMState",
    "ScaleByAdemamixState",
    "ScheduleFreeState",
    "ademamix",
    "adopt",
    "muon",
    "normalize",
    "prodigy",
    "reduce_on_plateau",
    "sam",
    "scale_by_ademamix",
    "scale_by_adopt",
    "scale_by_muon",
    "schedule_free",
    "schedule_free_adamw",
    "schedule_free_eval_params",
    "schedule_free_sgd",
]
