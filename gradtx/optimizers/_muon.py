"""Muon: momentum orthogonalized by Newton-Schulz, Adam for the other leaves."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain, masked
from gradtx.optimizers._adam import adamw
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import (
    MuonDimensionNumbers,
    add_decayed_weights,
    scale_by_learning_rate,
    scale_by_muon,
    scale_by_shape,
)

__all__ = ["muon"]

_TORCH_LAYOUT = MuonDimensionNumbers(reduction_axis=1, output_axis=0)
# Jordan's coefficients, scale_by_muon's default (a test checks they agree).
_NS_COEFFS = (3.4445, -4.7750, 2.0315)


def _is_dims(x: Any) -> bool:
    return x is None or isinstance(x, MuonDimensionNumbers)


def _muon_leaves(dims: Any, params: Any) -> Any:
    """A bool per leaf of ``params``: whether ``dims`` (None: the 2-D rule; a
    tree prefix of MuonDimensionNumbers and None; a function of the params)
    makes it a Muon leaf."""
    if dims is None:
        return jax.tree.map(lambda x: jnp.ndim(x) == 2, params)
    if callable(dims) and not isinstance(dims, MuonDimensionNumbers):
        dims = dims(params)
    try:
        return jax.tree.map(
            lambda d, sub: jax.tree.map(lambda _: d is not None, sub),
            dims,
            params,
            is_leaf=_is_dims,
        )
    except (ValueError, TypeError) as err:
        raise validate.error(
            ValueError,
            "muon",
            "muon_weight_dimension_numbers must be a tree of MuonDimensionNumbers "
            f"(or None) like the params, or a prefix of it: {err}",
        ) from None


@register(
    year=2024,
    optax=Counterpart("optax.contrib.muon", {"bias_correction": True}),
    pytorch=Counterpart(
        "torch.optim.Muon",
        {"weight_decay": 0.1, "muon_weight_dimension_numbers": _TORCH_LAYOUT},
    ),
    examples=[
        Example(
            "muon",
            {"learning_rate": 0.05, "weight_decay": 0.1, "bias_correction": True},
            scheduled=("learning_rate",),
        )
    ],
    # Rate: the best test accuracy of a 5-epoch sweep over 1e-3 ... 0.1, 1 seed
    # (97.2% at 0.01). Muon takes the 2-D dense kernels; the convolution
    # kernels and biases take AdamW at the same rate.
    presets=[Preset("muon", 0.01, default_run=False)],
)
@validate.named("muon")
def muon(
    learning_rate: ScalarOrSchedule,
    ns_coeffs: Any = _NS_COEFFS,
    ns_steps: int = 5,
    beta: Any = 0.95,
    eps: Any = 1e-8,
    weight_decay: ScalarOrSchedule = 0.0,
    weight_decay_mask: Any = None,
    mu_dtype: Any = None,
    *,
    nesterov: bool = True,
    adaptive: bool = False,
    preconditioning: str = "frobenius",
    adam_b1: Any = 0.9,
    adam_b2: Any = 0.999,
    adam_eps_root: Any = 0.0,
    adam_weight_decay: ScalarOrSchedule = 0.0,
    adam_learning_rate: ScalarOrSchedule | None = None,
    muon_weight_dimension_numbers: Any = None,
    consistent_rms: Any = None,
    bias_correction: bool = False,
) -> GradientTransformation:
    r"""Muon: momentum orthogonalized by Newton-Schulz (Jordan et al. 2024).

    For each matrix :math:`W` (shape :math:`n_{in} \times n_{out}`):

    .. math::
       B_t = \mu B_{t-1} + (1-\mu) G_t, \qquad
       \tilde B_t = \mu B_t + (1-\mu) G_t \ \text{(Nesterov; else } B_t),

    .. math::
       O_t = \mathrm{NS}_5(\tilde B_t), \qquad
       W_t = W_{t-1} - \eta_t \left(\sqrt{\max(1, n_{out}/n_{in})}\; O_t
       + \lambda W_{t-1}\right),

    where :math:`\mathrm{NS}_5` divides by the Frobenius norm (plus
    :math:`\epsilon`) and takes 5 steps :math:`X \leftarrow aX + b(XX^\top)X
    + c(XX^\top)^2X` with :math:`(a, b, c) = (3.4445, -4.7750, 2.0315)`, which
    map every singular value of :math:`\tilde B_t` close to 1. Jordan's
    :math:`B_t = \mu B_{t-1} + G_t` differs by the factor :math:`1/(1-\mu)`,
    which the normalization removes. Leaves that are not matrices (biases,
    norm scales, convolution kernels unless ``muon_weight_dimension_numbers``
    says how to flatten them) get AdamW (``adam_*`` arguments, ``eps``,
    ``nesterov``: NAdam by default, as optax does).

    With ``bias_correction=True`` (optax's form), :math:`B_t` is divided by
    :math:`1 - \mu^t`, and the Nesterov mix is
    :math:`\mu B_t/(1-\mu^{t+1}) + (1-\mu) G_t/(1-\mu^t)` (NAdam's): it weights
    the newest gradient more in the first steps.

    Chain (on the matrices): ``scale_by_muon``, ``scale_by_shape``,
    ``add_decayed_weights(λ, weight_decay_mask)``, ``scale_by_learning_rate``;
    on the other leaves ``adamw``; each through :func:`gradtx.masked`.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      ns_coeffs: :math:`(a, b, c)`, or one row per step, or a preset name
        (``"standard"``, ``"dion"``).
      ns_steps: Newton-Schulz steps, >= 1 (with rows of coefficients, >= the
        rows; all rows are used).
      beta: :math:`\mu \in [0, 1)`.
      eps: :math:`\epsilon > 0`, in the normalization and in Adam.
      weight_decay: :math:`\lambda \ge 0` of the matrices (decoupled,
        multiplied by the learning rate), a scalar or a schedule.
      weight_decay_mask: which matrices to decay (as :func:`gradtx.masked`).
      mu_dtype: dtype of the momentum (default: each param's).
      nesterov: the Nesterov mix (also NAdam for the other leaves).
      adaptive: multiply :math:`O_t` by :math:`\langle \tilde B_t, O_t\rangle`
        (Bernstein & Newhouse 2024).
      preconditioning: the normalization before the first step:
        ``"frobenius"``, ``"spectral"``, ``"aol"`` or ``"schatten"``.
      adam_b1: Adam's :math:`\beta_1` for the other leaves.
      adam_b2: Adam's :math:`\beta_2`.
      adam_eps_root: Adam's :math:`\epsilon_{root}`.
      adam_weight_decay: AdamW's decay for the other leaves.
      adam_learning_rate: their learning rate (None: ``learning_rate``).
      muon_weight_dimension_numbers: which leaves are Muon's and how they are
        matrices: a :class:`~gradtx.MuonDimensionNumbers` (every leaf), a tree
        of them and None (None: Adam) like the params or a prefix of it, or a
        function ``params -> such a tree``. None: the 2-D leaves, as
        :math:`(n_{in}, n_{out})`.
      consistent_rms: scale :math:`O_t` by
        :math:`r\sqrt{\max(n_{in}, n_{out})}` instead (Liu et al. 2025; 0.2
        gives AdamW's update RMS).
      bias_correction: optax's bias-corrected momentum (see above).

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range; a Muon leaf of rank < 2.
      TypeError: a dtype or a flag of the wrong type.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> params = {"w": jnp.ones((2, 2)), "b": jnp.ones(2)}
      >>> tx = gradtx.muon(0.1)
      >>> grads = {"w": jnp.array([[2.0, 0.0], [0.0, 0.1]]), "b": jnp.ones(2)}
      >>> u, _ = tx.update(grads, tx.init(params), params)
      >>> jnp.round(u["w"], 2)  # about -0.1 times an orthogonal matrix
      Array([[-0.08, -0.  ],
             [-0.  , -0.09]], dtype=float32)

    optax: ``optax.contrib.muon(lr, ...)`` is ``gradtx.muon(lr, ...,
    bias_correction=True)``.

    PyTorch: ``torch.optim.Muon(p, lr, weight_decay, momentum)`` (2-D params
    only, stored (out, in)) is ``gradtx.muon(lr, beta=momentum,
    weight_decay=weight_decay, muon_weight_dimension_numbers=T)`` with ``T`` the
    (out, in) layout; its defaults are
    ``muon_weight_dimension_numbers=MuonDimensionNumbers(reduction_axis=1, output_axis=0)``
    and ``weight_decay=0.1``; ``adjust_lr_fn="match_rms_adamw"`` is
    ``consistent_rms=0.2``. It runs Newton-Schulz in bfloat16, and divides by
    :math:`\max(\lVert \tilde B\rVert, \epsilon)` rather than
    :math:`\lVert \tilde B\rVert + \epsilon` (its ``eps`` is 1e-7).

    References:
      Jordan, Jin, Boza, You, Cesista, Newhouse & Bernstein, *Muon: An
      optimizer for hidden layers in neural networks*, 2024,
      https://kellerjordan.github.io/posts/muon/
      Liu et al., *Muon is Scalable for LLM Training*, 2025,
      https://arxiv.org/abs/2502.16982
      Bernstein & Newhouse, *Old Optimizer, New Norm: An Anthology*, 2024,
      https://arxiv.org/abs/2409.20325
    """  # noqa: E501 (a keyword spelled out whole)
    dims = muon_weight_dimension_numbers
    # Adam's own checks would name its arguments b1, b2...: name them here.
    for name, value in (("adam_b1", adam_b1), ("adam_b2", adam_b2)):
        validate.number("muon", name, value, low=0.0, high=1.0, high_open=True)
    validate.number("muon", "adam_eps_root", adam_eps_root, low=0.0)
    validate.number(
        "muon", "adam_weight_decay", adam_weight_decay, low=0.0, allow_schedule=True
    )

    def is_muon(params: Any) -> Any:
        return _muon_leaves(dims, params)

    def is_adam(params: Any) -> Any:
        return jax.tree.map(lambda m: not m, _muon_leaves(dims, params))

    matrices = chain(
        scale_by_muon(
            ns_coeffs,
            ns_steps,
            beta,
            eps,
            mu_dtype,
            nesterov=nesterov,
            adaptive=adaptive,
            preconditioning=preconditioning,
            weight_dimension_numbers=dims,
            bias_correction=bias_correction,
        ),
        scale_by_shape(dims, consistent_rms),
        add_decayed_weights(weight_decay, weight_decay_mask),
        scale_by_learning_rate(learning_rate),
    )
    others = adamw(
        learning_rate if adam_learning_rate is None else adam_learning_rate,
        b1=adam_b1,
        b2=adam_b2,
        eps=eps,
        eps_root=adam_eps_root,
        mu_dtype=mu_dtype,
        weight_decay=adam_weight_decay,
        nesterov=nesterov,
    )
    return chain(masked(matrices, is_muon), masked(others, is_adam))
