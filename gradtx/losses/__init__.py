"""Loss functions: ``optax.losses``' common ones, same names and arguments.

Regression (elementwise): :func:`squared_error`, :func:`l2_loss`,
:func:`huber_loss`, :func:`log_cosh`; similarity: :func:`cosine_similarity`,
:func:`cosine_distance`. Classification: :func:`softmax_cross_entropy`,
:func:`softmax_cross_entropy_with_integer_labels`,
:func:`safe_softmax_cross_entropy`, :func:`sigmoid_binary_cross_entropy`,
:func:`sigmoid_focal_loss`, :func:`hinge_loss`, with :func:`smooth_labels`.
Divergences: :func:`kl_divergence`, :func:`kl_divergence_with_log_targets`,
:func:`generalized_kl_divergence` (and its old name
:func:`convex_kl_divergence`). Margins: :func:`perceptron_loss`,
:func:`multiclass_perceptron_loss`, :func:`multiclass_hinge_loss`; also
:func:`poly_loss_cross_entropy`, :func:`sparsemax_loss`,
:func:`multiclass_sparsemax_loss` and :func:`make_fenchel_young_loss`.
Sequences: :func:`ctc_loss`, :func:`ctc_loss_with_forward_probs`.
Self-supervised: :func:`ntxent`, :func:`triplet_margin_loss`. Segmentation:
:func:`dice_loss`, :func:`binary_dice_loss`,
:func:`multiclass_generalized_dice_loss`. Ranking:
:func:`ranking_softmax_loss`. Every function of ``optax.losses`` is here.

All are pure, ``jit``/``vmap``/``grad``-friendly, and work in log space where
it matters (saturated logits give finite losses and exact gradients). Where
gradtx differs from optax on purpose:

- **Inputs are checked** at trace time: a non-floating ``logits`` or
  ``predictions``, non-integer integer labels, or shapes that do not
  broadcast raise a TypeError/ValueError naming the function and argument
  (``squared_error`` accepts broadcasting targets; optax wants equal shapes).
- **Integer labels out of range** raise when concrete, and give a NaN loss
  under ``jit``; optax wraps ``-1`` to the last class.
- **Hyperparameters** (``delta``, ``alpha``, ``gamma``, ``epsilon``) are
  checked when concrete.
- ``convex_kl_divergence`` does not warn (optax deprecates it).
"""

from gradtx.losses._binary import hinge_loss as hinge_loss
from gradtx.losses._binary import (
    sigmoid_binary_cross_entropy as sigmoid_binary_cross_entropy,
)
from gradtx.losses._binary import sigmoid_focal_loss as sigmoid_focal_loss
from gradtx.losses._ctc import ctc_loss as ctc_loss
from gradtx.losses._ctc import (
    ctc_loss_with_forward_probs as ctc_loss_with_forward_probs,
)
from gradtx.losses._divergence import convex_kl_divergence as convex_kl_divergence
from gradtx.losses._divergence import (
    generalized_kl_divergence as generalized_kl_divergence,
)
from gradtx.losses._divergence import kl_divergence as kl_divergence
from gradtx.losses._divergence import (
    kl_divergence_with_log_targets as kl_divergence_with_log_targets,
)
from gradtx.losses._fenchel_young import (
    make_fenchel_young_loss as make_fenchel_young_loss,
)
from gradtx.losses._margin import multiclass_hinge_loss as multiclass_hinge_loss
from gradtx.losses._margin import (
    multiclass_perceptron_loss as multiclass_perceptron_loss,
)
from gradtx.losses._margin import perceptron_loss as perceptron_loss
from gradtx.losses._poly import poly_loss_cross_entropy as poly_loss_cross_entropy
from gradtx.losses._ranking import ranking_softmax_loss as ranking_softmax_loss
from gradtx.losses._regression import huber_loss as huber_loss
from gradtx.losses._regression import l2_loss as l2_loss
from gradtx.losses._regression import log_cosh as log_cosh
from gradtx.losses._regression import squared_error as squared_error
from gradtx.losses._segmentation import binary_dice_loss as binary_dice_loss
from gradtx.losses._segmentation import dice_loss as dice_loss
from gradtx.losses._segmentation import (
    multiclass_generalized_dice_loss as multiclass_generalized_dice_loss,
)
from gradtx.losses._self_supervised import ntxent as ntxent
from gradtx.losses._self_supervised import triplet_margin_loss as triplet_margin_loss
from gradtx.losses._similarity import cosine_distance as cosine_distance
from gradtx.losses._similarity import cosine_similarity as cosine_similarity
from gradtx.losses._smoothing import smooth_labels as smooth_labels
from gradtx.losses._softmax import (
    safe_softmax_cross_entropy as safe_softmax_cross_entropy,
)
from gradtx.losses._softmax import softmax_cross_entropy as softmax_cross_entropy
from gradtx.losses._softmax import (
    softmax_cross_entropy_with_integer_labels as softmax_cross_entropy_with_integer_labels,  # noqa: E501
)
from gradtx.losses._sparsemax import (
    multiclass_sparsemax_loss as multiclass_sparsemax_loss,
)
from gradtx.losses._sparsemax import sparsemax_loss as sparsemax_loss

__all__ = [
    "binary_dice_loss",
    "convex_kl_divergence",
    "cosine_distance",
    "cosine_similarity",
    "ctc_loss",
    "ctc_loss_with_forward_probs",
    "dice_loss",
    "generalized_kl_divergence",
    "hinge_loss",
    "huber_loss",
    "kl_divergence",
    "kl_divergence_with_log_targets",
    "l2_loss",
    "log_cosh",
    "make_fenchel_young_loss",
    "multiclass_generalized_dice_loss",
    "multiclass_hinge_loss",
    "multiclass_perceptron_loss",
    "multiclass_sparsemax_loss",
    "ntxent",
    "perceptron_loss",
    "poly_loss_cross_entropy",
    "ranking_softmax_loss",
    "safe_softmax_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "sigmoid_focal_loss",
    "smooth_labels",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
    "sparsemax_loss",
    "squared_error",
    "triplet_margin_loss",
]
