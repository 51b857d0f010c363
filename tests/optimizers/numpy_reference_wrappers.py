r"""NumPy references for the optimistic, lookahead, SAM and schedule-free rules.

Written from the papers, not from gradtx's or optax's code; the step count is
:math:`k = 1, 2, \dots` as in the papers, and the conventions (dicts of
float64 arrays, hyperparameters as constants or functions of the 0-based step
``t = k - 1``) are ``numpy_reference``'s.

- **Optimistic gradient descent**, Daskalakis et al., ICLR 2018, eq. (OMD) for
  :math:`\alpha = \beta = 1`, and Mokhtari, Ozdaglar & Pattathil, AISTATS
  2020, eq. (6) (generalized OGD): :math:`\theta_k = \theta_{k-1} - \eta_k
  ((\alpha+\beta) g_k - \beta g_{k-1})`, with :math:`g_0 = g_1` (the analyses'
  :math:`z_0 = z_1`).
- **Optimistic Adam**, Daskalakis et al. 2018, Algorithm 1, in the same
  generalized form on Adam's ratio :math:`r_k = \hat m_k / (\sqrt{\hat v_k +
  \epsilon_{root}} + \epsilon)`: :math:`\theta_k = \theta_{k-1} - \eta_k
  (\alpha r_k + \beta (r_k - r_{k-1}))`, :math:`r_0 = r_1` (the paper's
  :math:`\hat m_0` is 0/0). Algorithm 1 is :math:`\alpha = \beta = 1`.
  ``nesterov`` replaces :math:`\hat m_k` by NAdam's (Dozat 2016).
- **Lookahead**, Zhang et al., NeurIPS 2019, Algorithm 1: ``k`` steps of an
  inner reference from the slow weights :math:`\phi`, then
  :math:`\phi \leftarrow \phi + \alpha (\theta_{k} - \phi)` and the fast
  weights restart at :math:`\phi`.
- **SAM**, Foret et al., ICLR 2021, Algorithm 1 (with eq. 2 for :math:`p =
  2`): :math:`\hat\epsilon = \rho g / \|g\|_2` over all params, the gradient
  at :math:`w + \hat\epsilon`, and the base optimizer's step from :math:`w`.
  Fed one gradient per call, the adversarial and the outer gradients
  alternate.
- **Schedule-free**, Defazio et al., NeurIPS 2024, Algorithm 1 (AdamW) and its
  SGD form (Section 2): :math:`y_k = (1-\beta_1) z_k + \beta_1 x_k` (the
  params), :math:`z_{k+1} = z_k - \gamma_k (d_k + \lambda y_k)` with
  :math:`d_k = g_k` (SGD) or :math:`g_k / (\sqrt{v_k} + \epsilon)` (AdamW),
  :math:`\gamma_k = \eta \min(1, k/T_{warmup}) \sqrt{1-\beta_2^k}` (AdamW;
  without the root for SGD), :math:`c_{k+1} = \gamma_k^p / \sum_{i \le k}
  \gamma_i^p`, :math:`x_{k+1} = (1-c_{k+1}) x_k + c_{k+1} z_{k+1}`. The
  optax form (``paper=False``) corrects :math:`v` instead,
  :math:`d_k = g_k / (\sqrt{v_k / (1-\beta_2^k)} + \epsilon)`, and drops the
  root from :math:`\gamma_k`. :math:`x` and :math:`z` are kept as they are
  (gradtx recovers :math:`x` from :math:`y`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tests.optimizers.numpy_reference import Reference, Tree, Value, _at, _sq

__all__ = [
    "SAM",
    "Lookahead",
    "OptimisticAdam",
    "OptimisticGD",
    "ScheduleFree",
]


class OptimisticGD(Reference):
    r"""Generalized OGD: :math:`\theta_k = \theta_{k-1} - \eta_k ((\alpha+\beta)
    g_k - \beta g_{k-1})`, :math:`g_0 = g_1`."""

    def __init__(self, lr: Value, alpha: float = 1.0, beta: float = 1.0) -> None:
        super().__init__()
        self.lr, self.alpha, self.beta = lr, alpha, beta

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        prev = state.get("g", g)  # g_0 = g_1
        state["g"] = g
        step = self.alpha * g + self.beta * (g - prev)
        return theta - _at(self.lr, t) * step


class OptimisticAdam(Reference):
    r"""Optimistic gradient descent on Adam's ratio (Daskalakis et al. 2018)."""

    def __init__(
        self,
        lr: Value,
        alpha: float = 1.0,
        beta: float = 1.0,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-8,
        *,
        eps_root: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__()
        self.lr, self.alpha, self.beta = lr, alpha, beta
        self.b1, self.b2, self.eps, self.eps_root = b1, b2, eps, eps_root
        self.nesterov = nesterov

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        b1, b2, k = self.b1, self.b2, t + 1
        m = b1 * state.get("m", np.zeros_like(theta)) + (1 - b1) * g
        v = b2 * state.get("v", np.zeros(theta.shape)) + (1 - b2) * _sq(g)
        state["m"], state["v"] = m, v
        if self.nesterov:
            m_hat = b1 * m / (1 - b1 ** (k + 1)) + (1 - b1) * g / (1 - b1**k)
        else:
            m_hat = m / (1 - b1**k)
        r = m_hat / (np.sqrt(v / (1 - b2**k) + self.eps_root) + self.eps)
        prev = state.get("r", r)  # r_0 = r_1
        state["r"] = r
        return theta - _at(self.lr, t) * (self.alpha * r + self.beta * (r - prev))


class Lookahead:
    r"""Zhang et al. 2019, Algorithm 1, around an inner :class:`Reference`.

    :meth:`step` takes the fast weights and their gradients and returns the
    new fast weights; :attr:`slow` holds :math:`\phi`. With ``reset``, the
    inner optimizer restarts (no state, step 1) after each sync.
    """

    def __init__(
        self, inner: Reference, k: int, alpha: float, *, reset: bool = False
    ) -> None:
        self.inner, self.k, self.alpha, self.reset = inner, k, alpha, reset
        self.slow: Tree | None = None
        self.i = 0  # inner steps since the last sync

    def step(
        self, fast: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> Tree:
        if self.slow is None:
            self.slow = {key: np.array(v) for key, v in fast.items()}
        theta = self.inner.step(fast, grads)
        self.i += 1
        if self.i < self.k:
            return theta
        self.i = 0
        if self.reset:  # the inner optimizer starts afresh: no state, step 1
            self.inner.t, self.inner._states = 0, {}
        self.slow = {
            key: phi + self.alpha * (theta[key] - phi) for key, phi in self.slow.items()
        }
        return {key: np.array(v) for key, v in self.slow.items()}


class SAM:
    r"""Foret et al. 2021, Algorithm 1, one gradient per call.

    Odd calls perturb: :math:`w \leftarrow w + \rho g / \|g\|_2` (the norm over
    every array); even calls take the base optimizer's step with the gradient
    given (taken at the perturbed point) from the saved :math:`w`.
    """

    def __init__(self, base: Reference, rho: float) -> None:
        self.base, self.rho = base, rho
        self.w: Tree | None = None

    def step(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> Tree:
        if self.w is None:  # an ascent step from w
            self.w = {key: np.array(v) for key, v in params.items()}
            norm = np.sqrt(sum(float(np.sum(_sq(g))) for g in grads.values()))
            return {key: params[key] + self.rho * grads[key] / norm for key in params}
        w, self.w = self.w, None
        return self.base.step(w, grads)


class ScheduleFree(Reference):
    r"""Schedule-free SGD (``b2=None``) or AdamW (Defazio et al. 2024, Alg. 1)."""

    def __init__(
        self,
        lr: float,
        b1: float = 0.9,
        b2: float | None = None,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
        warmup: int = 0,
        power: float = 2.0,
        paper: bool = True,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.weight_decay, self.warmup, self.power = weight_decay, warmup, power
        self.paper = paper

    def _step_leaf(
        self, y: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k, b1, b2 = t + 1, self.b1, self.b2
        x, z = state.get("x", y), state.get("z", y)  # x_1 = z_1 = y_1
        gamma = self.lr * (min(1.0, k / self.warmup) if self.warmup else 1.0)
        if b2 is None:
            d = g
        else:
            v = b2 * state.get("v", np.zeros(y.shape)) + (1 - b2) * _sq(g)
            state["v"] = v
            if self.paper:
                gamma *= np.sqrt(1 - b2**k)
                d = g / (np.sqrt(v) + self.eps)
            else:
                d = g / (np.sqrt(v / (1 - b2**k)) + self.eps)
        z = z - gamma * (d + self.weight_decay * y)
        weights = float(state.get("weights", np.zeros(()))) + gamma**self.power
        state["weights"] = np.asarray(weights)
        c = gamma**self.power / weights
        x = (1 - c) * x + c * z
        state["x"], state["z"] = x, z
        return (1 - b1) * z + b1 * x

    def eval_params(self) -> Tree:
        """The average :math:`x` of each array."""
        return {key: s["x"] for key, s in self._states.items()}
