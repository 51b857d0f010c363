r"""NumPy references for AdaDelta, Adafactor, SM3, Rprop, ASGD and Prodigy.

Written from the papers (equation or algorithm numbers on each class), not
from gradtx's code nor optax's; where an option is another library's form,
the class says whose and from which source. The conventions are
``numpy_reference``'s: dicts of float64 arrays, hyperparameters as constants
or functions of the 0-based step ``t = k - 1``, the step count :math:`k = 1,
2, \dots` as in the papers.

- **AdaDelta**, Zeiler 2012, Algorithm 1: :math:`E[g^2]_k = \rho E[g^2]_{k-1}
  + (1-\rho) g_k^2`, :math:`\Delta_k = \sqrt{E[\Delta^2]_{k-1} + \epsilon} /
  \sqrt{E[g^2]_k + \epsilon}\, g_k`, :math:`E[\Delta^2]_k = \rho
  E[\Delta^2]_{k-1} + (1-\rho) \Delta_k^2`, :math:`\theta_k = \theta_{k-1} -
  \eta_k \Delta_k`; a weight decay adds :math:`\lambda \theta_{k-1}` to
  :math:`g_k` first (PyTorch's documented algorithm).
- **Adafactor**, Shazeer & Stern 2018, Algorithm 4 (matrices: row and column
  *sums* :math:`R_k, C_k` of :math:`G_k^2 + \epsilon_1`, :math:`\hat V_k =
  R_k C_k / 1^\top R_k`) and Algorithm 5 (other leaves), :math:`\hat\beta_{2,k}
  = 1 - k^{-c}`, update clipping :math:`\hat U = U / \max(1,
  \mathrm{RMS}(U)/d)`, relative step :math:`\alpha_k = \max(\epsilon_2,
  \mathrm{RMS}(\theta_{k-1}))\, \rho_k`. Options: :math:`\rho_k =
  \min(\eta_k, 1/\sqrt k)` (the paper's experiments with :math:`\eta = 10^{-2}`,
  PyTorch's form); optax's extensions, an EMA of the steps (momentum) and a
  decay :math:`w \theta_{k-1}`; PyTorch's clamped :math:`\epsilon_1`
  (``torch.optim.Adafactor``'s code: running *means* of :math:`G^2`,
  :math:`\hat V = \max(R C / \max(\mathrm{mean}(R), \epsilon_1),
  \epsilon_1^2)`).
- **SM3-II**, Anil, Gupta, Koren & Singer 2019, Algorithm 2 (SM3-II), with the
  cover of a leaf of rank :math:`\ge 2` by its slices along each axis and of
  other leaves by single entries: :math:`\nu_k(i) = \min_{r \ni i}
  \mu_{k-1}(r) + g_k(i)^2`, :math:`\mu_k(r) = \max_{i \in r} \nu_k(i)`, the
  step :math:`g_k / \sqrt{\nu_k + \epsilon}` (0/0 = 0; the paper's
  :math:`\epsilon = 0`) averaged with momentum :math:`m_k = \beta m_{k-1} +
  (1-\beta) \cdot` step, as the paper's experiments (Section 6).
- **Rprop**, Riedmiller & Braun 1993, the pseudo-code of Section 3 (with
  weight-backtracking): the step size grows by :math:`\eta^+` (at most
  :math:`\Delta_{max}`) while :math:`g_{k-1} g_k > 0`, shrinks by
  :math:`\eta^-` (at least :math:`\Delta_{min}`) when it is :math:`< 0`, and
  then the last weight change is reverted and :math:`g_k` set to 0. Option:
  Igel & Hüsken 2000's iRprop⁻ (no revert; PyTorch's).
- **ASGD**, ``torch.optim.ASGD``'s documented algorithm (Polyak & Juditsky
  1992 averaging, Bottou 2012's schedule): :math:`\eta_k = \eta / (1 +
  \lambda\eta(k-1))^\alpha`, :math:`\theta_k = \theta_{k-1}(1 - \lambda\eta_k)
  - \eta_k (g_k + w\theta_{k-1})`, :math:`\bar\theta_k = \bar\theta_{k-1} +
  \mu_k(\theta_k - \bar\theta_{k-1})`, :math:`\mu_k = 1/\max(1, k - 1 - t_0)`.
- **Prodigy**, Mishchenko & Defazio 2023, Algorithm 3 (Adam version), with
  the :math:`(1-\beta_3)` factors of :math:`r` and :math:`s` and a decoupled
  weight decay (the paper's experiments). Options from the authors' code
  (``prodigyopt``): Adam's bias correction of the step (and so of :math:`r,
  s`), :math:`\epsilon d_{k+1}` in the denominator, and ``safeguard_warmup``
  (:math:`s` without :math:`\gamma_k` nor the bias correction).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np

from tests.optimizers.numpy_reference import Reference, Tree, Value, _at, _sq

__all__ = ["ASGD", "SM3", "AdaDelta", "Adafactor", "Prodigy", "Rprop"]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(_sq(x))))


class AdaDelta(Reference):
    r"""Zeiler 2012, Algorithm 1, times a learning rate, with coupled L2."""

    def __init__(
        self, lr: Value = 1.0, rho: float = 0.9, eps: float = 1e-6, wd: float = 0.0
    ) -> None:
        super().__init__()
        self.lr, self.rho, self.eps, self.wd = lr, rho, eps, wd

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        rho, eps = self.rho, self.eps
        g = g + self.wd * theta
        eg = rho * state.get("eg", np.zeros(theta.shape)) + (1 - rho) * _sq(g)
        rms_dx = np.sqrt(state.get("edx", np.zeros(theta.shape)) + eps)
        delta = rms_dx / np.sqrt(eg + eps) * g
        state["eg"] = eg
        state["edx"] = rho * state.get("edx", np.zeros(theta.shape)) + (1 - rho) * _sq(
            delta
        )
        return theta - _at(self.lr, t) * delta


class Adafactor(Reference):
    r"""Shazeer & Stern 2018, Algorithms 4 and 5 (see the module docstring)."""

    def __init__(
        self,
        lr: Value,
        *,
        factor_matrices: bool = True,
        c: float = 0.8,
        eps1: float | None = 1e-30,
        eps2: float = 1e-3,
        d: float | None = 1.0,
        relative_step: bool = True,
        rsqrt_cap: bool = False,
        momentum: float | None = None,
        w: float | None = None,
        torch_eps: bool = False,
    ) -> None:
        super().__init__()
        self.lr, self.factor_matrices, self.c = lr, factor_matrices, c
        self.eps1, self.eps2, self.d = eps1, eps2, d
        self.relative_step, self.rsqrt_cap = relative_step, rsqrt_cap
        self.momentum, self.w, self.torch_eps = momentum, w, torch_eps

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k = t + 1
        beta = 1.0 - k ** (-self.c)
        eps1 = np.finfo(theta.dtype).eps if self.eps1 is None else self.eps1
        if self.factor_matrices and theta.ndim == 2:
            n, m = theta.shape
            if self.torch_eps:  # running means, V clamped
                r = beta * state.get("R", np.zeros(n)) + (1 - beta) * _sq(g).mean(1)
                c = beta * state.get("C", np.zeros(m)) + (1 - beta) * _sq(g).mean(0)
                v = np.outer(r, c) / max(r.mean(), eps1)
                v = np.maximum(v, eps1 * eps1)
            else:  # Algorithm 4: sums
                sq = _sq(g) + eps1
                r = beta * state.get("R", np.zeros(n)) + (1 - beta) * sq.sum(1)
                c = beta * state.get("C", np.zeros(m)) + (1 - beta) * sq.sum(0)
                v = np.outer(r, c) / r.sum()
            state["R"], state["C"] = r, c
        else:  # Algorithm 5
            sq = _sq(g) if self.torch_eps else _sq(g) + eps1
            v = beta * state.get("V", np.zeros(theta.shape)) + (1 - beta) * sq
            state["V"] = v
            if self.torch_eps:
                v = np.maximum(v, eps1 * eps1)
        u = g / np.sqrt(v)
        if self.d is not None:
            u = u / max(1.0, _rms(u) / self.d)
        rho = _at(self.lr, t)
        if self.rsqrt_cap:
            rho = min(rho, 1 / np.sqrt(k))
        alpha = rho * (max(self.eps2, _rms(theta)) if self.relative_step else 1.0)
        step = alpha * u
        if self.momentum is not None:  # optax's: an EMA of the steps
            b = self.momentum
            step = b * state.get("M", np.zeros(theta.shape)) + (1 - b) * step
            state["M"] = step
        if self.w is not None:
            step = step + self.w * theta
        return theta - step


class SM3(Reference):
    r"""SM3-II (Anil et al. 2019, Algorithm 2) with momentum on its steps."""

    def __init__(self, lr: Value, beta: float = 0.9, eps: float = 0.0) -> None:
        super().__init__()
        self.lr, self.beta, self.eps = lr, beta, eps

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        if theta.ndim < 2:  # every entry is a set of the cover: AdaGrad
            nu = state.get("mu", np.zeros(theta.shape)) + _sq(g)
            state["mu"] = nu
        else:  # the sets: the slices i_a = j of each axis a
            mus = [state.get(f"mu{a}", np.zeros(n)) for a, n in enumerate(theta.shape)]
            shaped = [
                np.reshape(mu, [-1 if b == a else 1 for b in range(theta.ndim)])
                for a, mu in enumerate(mus)
            ]
            nu = functools.reduce(np.minimum, shaped) + _sq(g)
            for a in range(theta.ndim):
                others = tuple(b for b in range(theta.ndim) if b != a)
                state[f"mu{a}"] = nu.max(axis=others)
        with np.errstate(invalid="ignore", divide="ignore"):
            step = np.where(nu > 0, g / np.sqrt(nu + self.eps), 0.0)
        m = self.beta * state.get("m", np.zeros(theta.shape)) + (1 - self.beta) * step
        state["m"] = m
        return theta - _at(self.lr, t) * m


class Rprop(Reference):
    r"""Riedmiller & Braun 1993 (backtracking), or iRprop⁻ (Igel & Hüsken 2000)."""

    def __init__(
        self,
        delta0: float,
        eta_minus: float = 0.5,
        eta_plus: float = 1.2,
        delta_min: float = 1e-6,
        delta_max: float = 50.0,
        *,
        backtracking: bool = True,
    ) -> None:
        super().__init__()
        self.delta0, self.eta_minus, self.eta_plus = delta0, eta_minus, eta_plus
        self.delta_min, self.delta_max = delta_min, delta_max
        self.backtracking = backtracking

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        delta = state.get("delta", np.full(theta.shape, self.delta0))
        g_prev = state.get("g", np.zeros(theta.shape))
        dw_prev = state.get("dw", np.zeros(theta.shape))
        new = theta.copy()
        dw = np.zeros(theta.shape)
        g_kept = g.copy()
        for i in np.ndindex(theta.shape):
            p = g_prev[i] * g[i]
            if p > 0:
                delta[i] = min(delta[i] * self.eta_plus, self.delta_max)
                dw[i] = -np.sign(g[i]) * delta[i]
                new[i] = theta[i] + dw[i]
            elif p < 0:
                delta[i] = max(delta[i] * self.eta_minus, self.delta_min)
                if self.backtracking:
                    new[i] = theta[i] - dw_prev[i]
                g_kept[i] = 0.0
            else:
                dw[i] = -np.sign(g[i]) * delta[i]
                new[i] = theta[i] + dw[i]
        state["delta"], state["g"], state["dw"] = delta, g_kept, dw
        return new


class ASGD(Reference):
    r"""``torch.optim.ASGD``'s documented algorithm; :attr:`ax` is the average."""

    def __init__(
        self,
        lr: float,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        wd: float = 0.0,
    ) -> None:
        super().__init__()
        self.lr, self.lambd, self.alpha, self.t0, self.wd = lr, lambd, alpha, t0, wd
        self.ax: Tree = {}

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k = t + 1
        eta = self.lr / (1 + self.lambd * self.lr * (k - 1)) ** self.alpha
        mu = 1 / max(1, k - 1 - self.t0)
        new = theta * (1 - self.lambd * eta) - eta * (g + self.wd * theta)
        ax = state.get("ax", np.zeros(theta.shape))
        state["ax"] = ax + mu * (new - ax)
        return new

    def step(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> Tree:
        new = super().step(params, grads)
        self.ax = {key: self._states[key]["ax"] for key in params}
        return new


class Prodigy(Reference):
    r"""Mishchenko & Defazio 2023, Algorithm 3 (its estimate spans all leaves)."""

    def __init__(
        self,
        lr: Value = 1.0,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-8,
        d0: float = 1e-6,
        *,
        coef: float = 1.0,
        wd: float = 0.0,
        bias_correction: bool = False,
        eps_new_d: bool = False,
        safeguard_warmup: bool = False,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps, self.d = lr, b1, b2, eps, d0
        self.b3 = np.sqrt(b2)
        self.d0, self.coef, self.wd = d0, coef, wd
        self.bias_correction, self.eps_new_d = bias_correction, eps_new_d
        self.safeguard_warmup = safeguard_warmup
        self.r = 0.0
        self.x0: Tree = {}
        self.m: Tree = {}
        self.v: Tree = {}
        self.s: Tree = {}

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        raise NotImplementedError  # the estimate is global: see step

    def step(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> Tree:
        k, b1, b2, b3, d = self.t + 1, self.b1, self.b2, self.b3, self.d
        if not self.x0:
            self.x0 = {key: np.array(x) for key, x in params.items()}
            zeros = {key: np.zeros(np.shape(x)) for key, x in params.items()}
            self.m, self.v, self.s = dict(zeros), dict(zeros), dict(zeros)
        gamma = _at(self.lr, self.t)
        if self.bias_correction:
            gamma = gamma * np.sqrt(1 - b2**k) / (1 - b1**k)
        weight = d * d if self.safeguard_warmup else gamma * d * d
        inner = 0.0
        for key, g in grads.items():
            self.m[key] = b1 * self.m[key] + (1 - b1) * d * g
            self.v[key] = b2 * self.v[key] + (1 - b2) * d * d * g * g
            self.s[key] = b3 * self.s[key] + (1 - b3) * weight * g
            inner += float(np.sum(g * (self.x0[key] - params[key])))
        self.r = b3 * self.r + (1 - b3) * gamma * d * d * inner
        l1 = sum(float(np.sum(np.abs(s))) for s in self.s.values())
        new_d = max(d, self.coef * self.r / l1) if l1 > 0 else d
        d_eps = new_d if self.eps_new_d else d
        new = {
            key: x
            - gamma
            * d
            * (self.m[key] / (np.sqrt(self.v[key]) + d_eps * self.eps) + self.wd * x)
            for key, x in params.items()
        }
        self.d = new_d
        self.t += 1
        return new
