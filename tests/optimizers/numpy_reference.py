r"""Independent NumPy reference implementations of the classic optimizers.

Each class below is written from its paper's update rule (equation or
algorithm numbers on each class), not from gradtx's code and not from optax's,
so that a parity test against it checks gradtx against the literature rather
than against itself. The rules, with the step counted :math:`k = 1, 2, \dots`
as in the papers:

- **SGD**: :math:`\theta_k = \theta_{k-1} - \eta_k g_k`.
- **Classical momentum**, Sutskever, Martens, Dahl & Hinton, ICML 2013, eq. (1)
  and (2): :math:`v_k = \mu v_{k-1} - \eta_k g_k,\ \theta_k = \theta_{k-1} + v_k`.
- **Nesterov momentum**, the same paper, eq. (3) and (4), rewritten for the
  gradient at the current params :math:`\phi = \theta + \mu v` (the
  "simplified Nesterov momentum" of Bengio, Boulanger-Lewandowski & Pascanu,
  ICASSP 2013):
  :math:`\phi_k = \phi_{k-1} + \mu v_k - \eta_k g_k`.
- **PyTorch's momentum** (``torch.optim.SGD`` docs, ``dampening=0``), where
  the velocity sums raw gradients: :math:`b_k = \mu b_{k-1} + g_k,\
  \theta_k = \theta_{k-1} - \eta_k b_k` (Nesterov: :math:`- \eta_k (g_k + \mu
  b_k)`).
- **AdaGrad**, Duchi, Hazan & Singer, JMLR 2011, Figure 1 (diagonal case):
  :math:`G_k = G_0 + \sum_{s \le k} g_s^2,\ H_k = \delta I +
  \mathrm{diag}(G_k)^{1/2},\ \theta_k = \theta_{k-1} - \eta_k H_k^{-1} g_k`.
  The variants with :math:`\delta` inside the root,
  :math:`g_k / \sqrt{G_k + \delta}`, and :math:`G_0 > 0` are optax's
  defaults (:math:`G_0 = 0.1,\ \delta = 10^{-7}`).
- **RMSProp**, Tieleman & Hinton 2012 (lecture 6e) and Graves 2013,
  arXiv:1308.0850, eq. (38)-(41):
  :math:`n_k = \rho n_{k-1} + (1-\rho) g_k^2`, centered also
  :math:`m_k = \rho m_{k-1} + (1-\rho) g_k`,
  :math:`\Delta_k = \mu \Delta_{k-1} - \eta_k g_k / \sqrt{n_k - m_k^2 +
  \epsilon}` (:math:`m_k = 0` when not centered; PyTorch's
  :math:`\sqrt{n_k - m_k^2} + \epsilon` as an option),
  :math:`\theta_k = \theta_{k-1} + \Delta_k`.
- **Adam**, Kingma & Ba, ICLR 2015, Algorithm 1 (bias correction in sec. 3):
  :math:`m_k = \beta_1 m_{k-1} + (1-\beta_1) g_k`,
  :math:`v_k = \beta_2 v_{k-1} + (1-\beta_2) g_k^2`,
  :math:`\hat m_k = m_k / (1-\beta_1^k)`, :math:`\hat v_k = v_k / (1-\beta_2^k)`,
  :math:`\theta_k = \theta_{k-1} - \eta_k \hat m_k / (\sqrt{\hat v_k} +
  \epsilon)`.
- **NAdam**, Dozat, ICLR 2016 workshop, Algorithm 2 with a constant
  :math:`\mu_k = \beta_1`: :math:`\hat m_k` above is replaced by
  :math:`\beta_1 m_k / (1-\beta_1^{k+1}) + (1-\beta_1) g_k / (1-\beta_1^k)`.
- **Adam with L2 and AdamW**, Loshchilov & Hutter, ICLR 2019, Algorithm 2:
  coupled L2 adds :math:`\lambda \theta_{k-1}` to :math:`g_k` (line 6);
  decoupled weight decay (AdamW, line 12) is
  :math:`\theta_k = \theta_{k-1} - \eta_k (\hat m_k / (\sqrt{\hat v_k} +
  \epsilon) + \lambda \theta_{k-1})`, with the schedule multiplier
  :math:`\eta_k` carrying the learning rate (:math:`\alpha = 1`).

Conventions. Params and gradients are dicts of NumPy arrays (float64, or
complex128: the papers are real, and for complex params the squares are taken
as :math:`|g|^2 = g \bar g`, the gradient given being the descent direction
:math:`\overline{\partial L / \partial z}`). A learning rate (or weight decay)
is a float or a Python function of the 0-based step index ``t = k - 1``, called
once per step: the first step uses ``lr(0)``. Each optimizer keeps its own
state and step count; call :meth:`Reference.step` once per step.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping

import numpy as np

__all__ = [
    "SGD",
    "AdaGrad",
    "Adam",
    "AdamL2",
    "AdamW",
    "PyTorchMomentum",
    "RMSProp",
    "Reference",
    "SutskeverMomentum",
    "Tree",
    "Value",
    "run",
]

Tree = dict[str, np.ndarray]
"""A pytree of params or gradients: a flat dict of arrays."""
Value = float | Callable[[int], float]
"""A hyperparameter: a constant, or a function of the 0-based step index."""


def _at(value: Value, t: int) -> float:
    """The value of a constant or a schedule at 0-based step ``t``."""
    return float(value(t)) if callable(value) else float(value)


def _sq(g: np.ndarray) -> np.ndarray:
    """``|g|^2``, real also for complex ``g``."""
    return (g * np.conj(g)).real


class Reference(abc.ABC):
    """A stateful reference optimizer stepping a dict of arrays.

    Subclasses implement :meth:`_step_leaf`, the paper's rule for one array;
    its per-array state lives in a dict that starts empty.
    """

    def __init__(self) -> None:
        self.t = 0  # steps taken so far: the 0-based index of the next step
        self._states: dict[str, dict[str, np.ndarray]] = {}

    def step(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> Tree:
        """Returns the params after one step with gradients ``grads``."""
        new = {}
        for key, theta in params.items():
            state = self._states.setdefault(key, {})
            theta = np.asarray(theta)
            new[key] = self._step_leaf(theta, np.asarray(grads[key]), state, self.t)
        self.t += 1
        return new

    @abc.abstractmethod
    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        """The new value of one array at 0-based step ``t``; updates ``state``."""


def run(
    reference: Reference,
    params: Mapping[str, np.ndarray],
    grads: list[Mapping[str, np.ndarray]],
) -> Tree:
    """Steps ``reference`` once per entry of ``grads``; returns the last params."""
    out = dict(params)
    for g in grads:
        out = reference.step(out, g)
    return out


class SGD(Reference):
    r"""Plain SGD: :math:`\theta_k = \theta_{k-1} - \eta_k g_k`."""

    def __init__(self, lr: Value) -> None:
        super().__init__()
        self.lr = lr

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        return theta - _at(self.lr, t) * g


class SutskeverMomentum(Reference):
    r"""Momentum in the paper's form, the learning rate inside the velocity.

    Sutskever et al. 2013, eq. (1)-(2): :math:`v_k = \mu v_{k-1} - \eta_k g_k`,
    :math:`\theta_k = \theta_{k-1} + v_k`. With ``nesterov`` (eq. (3)-(4), for
    the gradient at the current params): :math:`\theta_k = \theta_{k-1} + \mu
    v_k - \eta_k g_k`.
    """

    def __init__(self, lr: Value, mu: float, *, nesterov: bool = False) -> None:
        super().__init__()
        self.lr, self.mu, self.nesterov = lr, mu, nesterov

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        lr = _at(self.lr, t)
        v = self.mu * state.get("v", np.zeros_like(theta)) - lr * g
        state["v"] = v
        if self.nesterov:
            return theta + self.mu * v - lr * g
        return theta + v


class PyTorchMomentum(Reference):
    r"""Momentum in PyTorch's form, the velocity summing raw gradients.

    ``torch.optim.SGD`` (``dampening=0``): :math:`b_k = \mu b_{k-1} + g_k`,
    :math:`\theta_k = \theta_{k-1} - \eta_k b_k`; with ``nesterov``,
    :math:`\theta_k = \theta_{k-1} - \eta_k (g_k + \mu b_k)`.
    """

    def __init__(self, lr: Value, mu: float, *, nesterov: bool = False) -> None:
        super().__init__()
        self.lr, self.mu, self.nesterov = lr, mu, nesterov

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        b = self.mu * state.get("b", np.zeros_like(theta)) + g
        state["b"] = b
        direction = g + self.mu * b if self.nesterov else b
        return theta - _at(self.lr, t) * direction


class AdaGrad(Reference):
    r"""Diagonal AdaGrad, Duchi et al. 2011, Figure 1.

    :math:`G_k = G_0 + \sum_{s \le k} g_s^2` and :math:`\theta_k =
    \theta_{k-1} - \eta_k g_k / (\sqrt{G_k} + \delta)` (the paper's
    :math:`H_k = \delta I + \mathrm{diag}(G_k)^{1/2}`), or with
    ``delta_in_sqrt`` :math:`g_k / \sqrt{G_k + \delta}`.
    """

    def __init__(
        self,
        lr: Value,
        delta: float = 1e-10,
        g0: float = 0.0,
        *,
        delta_in_sqrt: bool = False,
    ) -> None:
        super().__init__()
        self.lr, self.delta, self.g0, self.delta_in_sqrt = lr, delta, g0, delta_in_sqrt

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        G = state.get("G", np.full(theta.shape, self.g0)) + _sq(g)
        state["G"] = G
        H = np.sqrt(G + self.delta) if self.delta_in_sqrt else np.sqrt(G) + self.delta
        return theta - _at(self.lr, t) * g / H


class RMSProp(Reference):
    r"""RMSProp, plain or centered, with optional momentum (Graves 2013).

    Graves 2013, eq. (38)-(41): :math:`n_k = \rho n_{k-1} + (1-\rho) g_k^2`;
    centered, also :math:`m_k = \rho m_{k-1} + (1-\rho) g_k`; the scaled
    gradient :math:`d_k = g_k / \sqrt{n_k - m_k^2 + \epsilon}` (or, with
    ``eps_in_sqrt=False`` as in PyTorch, :math:`g_k / (\sqrt{n_k - m_k^2} +
    \epsilon)`); :math:`\Delta_k = \mu \Delta_{k-1} - \eta_k d_k` and
    :math:`\theta_k = \theta_{k-1} + \Delta_k`. Without momentum (Tieleman &
    Hinton 2012) :math:`\mu = 0`.

    Options beyond the paper: ``n0`` (the initial :math:`n`);
    ``bias_correction`` divides :math:`n_k` and :math:`m_k` by
    :math:`1-\rho^k` (Kingma & Ba 2015, sec. 3); ``nesterov`` uses
    :math:`\theta_k = \theta_{k-1} + \mu \Delta_k - \eta_k d_k` (Sutskever et al.
    2013); ``lr_in_velocity=False`` is PyTorch's order, :math:`b_k = \mu b_{k-1}
    + d_k`, :math:`\theta_k = \theta_{k-1} - \eta_k b_k`.
    """

    def __init__(
        self,
        lr: Value,
        rho: float = 0.9,
        eps: float = 1e-8,
        *,
        eps_in_sqrt: bool = True,
        centered: bool = False,
        mu: float = 0.0,
        nesterov: bool = False,
        n0: float = 0.0,
        bias_correction: bool = False,
        lr_in_velocity: bool = True,
    ) -> None:
        super().__init__()
        self.lr, self.rho, self.eps, self.eps_in_sqrt = lr, rho, eps, eps_in_sqrt
        self.centered, self.mu, self.nesterov = centered, mu, nesterov
        self.n0, self.bias_correction = n0, bias_correction
        self.lr_in_velocity = lr_in_velocity

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        rho, k, lr = self.rho, t + 1, _at(self.lr, t)
        n = rho * state.get("n", np.full(theta.shape, self.n0)) + (1 - rho) * _sq(g)
        m = rho * state.get("m", np.zeros_like(theta)) + (1 - rho) * g
        state["n"], state["m"] = n, m
        if self.bias_correction:
            n, m = n / (1 - rho**k), m / (1 - rho**k)
        var = n - _sq(m) if self.centered else n
        if self.eps_in_sqrt:
            d = g / np.sqrt(var + self.eps)
        else:
            d = g / (np.sqrt(var) + self.eps)

        if self.lr_in_velocity:  # Graves: the velocity holds steps
            delta = self.mu * state.get("delta", np.zeros_like(theta)) - lr * d
            state["delta"] = delta
            return theta + (self.mu * delta - lr * d if self.nesterov else delta)
        b = self.mu * state.get("b", np.zeros_like(theta)) + d  # PyTorch
        state["b"] = b
        return theta - lr * (d + self.mu * b if self.nesterov else b)


class Adam(Reference):
    r"""Adam, Kingma & Ba 2015, Algorithm 1, as generalized by Loshchilov & Hutter.

    Loshchilov & Hutter 2019, Algorithm 2, which is Kingma & Ba's Algorithm 1
    when ``l2 = weight_decay = 0``:

    .. math::
       g_k \leftarrow g_k + \lambda_{L2}\,\theta_{k-1} \quad \text{(line 6)},

    the moments and their bias correction of Algorithm 1, and

    .. math::
       \theta_k = \theta_{k-1} - \eta_k \Big(\frac{\hat m_k}{\sqrt{\hat v_k +
       \epsilon_{root}} + \epsilon} + \lambda_k \theta_{k-1}\Big)
       \quad \text{(line 12)}.

    ``eps_root`` (0 in the paper) is an extension; ``nesterov`` replaces
    :math:`\hat m_k` by NAdam's :math:`\beta_1 m_k / (1-\beta_1^{k+1}) +
    (1-\beta_1) g_k / (1-\beta_1^k)` (Dozat 2016, Algorithm 2, constant
    :math:`\mu = \beta_1`).
    """

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-8,
        *,
        eps_root: float = 0.0,
        nesterov: bool = False,
        l2: float = 0.0,
        weight_decay: Value = 0.0,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps, self.eps_root = lr, b1, b2, eps, eps_root
        self.nesterov, self.l2, self.weight_decay = nesterov, l2, weight_decay

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        b1, b2, k = self.b1, self.b2, t + 1
        g = g + self.l2 * theta
        m = b1 * state.get("m", np.zeros_like(theta)) + (1 - b1) * g
        v = b2 * state.get("v", np.zeros(theta.shape)) + (1 - b2) * _sq(g)
        state["m"], state["v"] = m, v
        if self.nesterov:
            m_hat = b1 * m / (1 - b1 ** (k + 1)) + (1 - b1) * g / (1 - b1**k)
        else:
            m_hat = m / (1 - b1**k)
        v_hat = v / (1 - b2**k)
        direction = m_hat / (np.sqrt(v_hat + self.eps_root) + self.eps)
        return theta - _at(self.lr, t) * (direction + _at(self.weight_decay, t) * theta)


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter 2019, Algorithm 2, line 12): decoupled decay."""

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-8,
        *,
        weight_decay: Value = 1e-4,
        eps_root: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(
            lr,
            b1,
            b2,
            eps,
            eps_root=eps_root,
            nesterov=nesterov,
            weight_decay=weight_decay,
        )


class AdamL2(Adam):
    r"""Adam on ``loss + l2/2 |θ|^2`` (Loshchilov & Hutter 2019, Alg. 2, line 6)."""

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-8,
        *,
        l2: float,
    ) -> None:
        super().__init__(lr, b1, b2, eps, l2=l2)
