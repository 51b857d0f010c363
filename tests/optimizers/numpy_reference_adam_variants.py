r"""Independent NumPy references of the Adam variants, written from the papers.

Each class follows its paper's algorithm (cited on the class), not gradtx's
code or optax's; the options reproduce the forms that optax, PyTorch or the
authors' code use where they differ from the paper, each as written in their
documentation. Conventions are those of ``numpy_reference.py``: dicts of
float64 (or complex128) arrays, :math:`|g|^2 = g\bar g` for complex
gradients, step :math:`k = 1, 2, \dots`, and hyperparameters that are floats
or functions of the 0-based step index ``t = k - 1`` (evaluated once per
step). Decoupled weight decay, where an optimizer has it, is Loshchilov &
Hutter's (ICLR 2019, Algorithm 2, line 12) with the learning rate as the
schedule multiplier: :math:`\theta_k = \theta_{k-1} - \eta_k (u_k + \lambda_k
\theta_{k-1})`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tests.optimizers.numpy_reference import Reference, Value

__all__ = [
    "ADOPT",
    "AMSGrad",
    "AdEMAMix",
    "AdaBelief",
    "AdaMax",
    "Adan",
    "NAdam",
    "RAdam",
    "Yogi",
    "ademamix_alpha_warmup",
    "ademamix_beta3_warmup",
]


def _at(value: Value, t: int) -> float:
    return float(value(t)) if callable(value) else float(value)


def _sq(g: np.ndarray) -> np.ndarray:
    return (g * np.conj(g)).real


def _decayed(theta: np.ndarray, u: np.ndarray, lr: float, wd: float) -> np.ndarray:
    """One step along ``-u`` with decoupled weight decay ``wd``."""
    return theta - lr * (u + wd * theta)


class AdaMax(Reference):
    r"""AdaMax, Kingma & Ba, ICLR 2015, Algorithm 2 (section 7.1).

    :math:`m_k = \beta_1 m_{k-1} + (1-\beta_1) g_k`,
    :math:`u_k = \max(\beta_2 u_{k-1}, |g_k|)`,
    :math:`\theta_k = \theta_{k-1} - (\eta_k / (1-\beta_1^k))\, m_k / u_k`;
    :math:`\epsilon` is added to :math:`|g_k|` inside the maximum (optax's and
    PyTorch's documented form; the paper has none). ``weight_decay``: AdaMaxW.
    """

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: Value = 0.0,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, b1, b2, eps, weight_decay

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k = t + 1
        m = self.b1 * state.get("m", 0 * theta) + (1 - self.b1) * g
        u = np.maximum(
            self.b2 * state.get("u", np.zeros(theta.shape)), np.abs(g) + self.eps
        )
        state["m"], state["u"] = m, u
        step = m / ((1 - self.b1**k) * u)
        return _decayed(theta, step, _at(self.lr, t), _at(self.wd, t))


class AMSGrad(Reference):
    r"""AMSGrad, Reddi, Kale & Kumar, ICLR 2018, Algorithm 2 (constant
    :math:`\beta_1`, the step size :math:`\eta_k`).

    :math:`m_k = \beta_1 m_{k-1} + (1-\beta_1) g_k`,
    :math:`v_k = \beta_2 v_{k-1} + (1-\beta_2) g_k^2`,
    :math:`\hat v_k = \max(\hat v_{k-1}, v_k)`,
    :math:`\theta_k = \theta_{k-1} - \eta_k m_k / (\sqrt{\hat v_k} +
    \epsilon)`. ``corrected="optax"``: optax's documented
    :math:`m_k / (1-\beta_1^k)` and :math:`\hat v_k = \max(\hat v_{k-1}, v_k /
    (1-\beta_2^k))`; ``corrected="pytorch"``: ``torch.optim.Adam``'s
    documented ``amsgrad`` form, :math:`\hat v_k = \max(\hat v_{k-1}, v_k)`
    and the denominator :math:`\sqrt{\hat v_k / (1-\beta_2^k)} + \epsilon`.
    """

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-8,
        corrected: str = "",
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps, self.corrected = lr, b1, b2, eps, corrected

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k, b1, b2 = t + 1, self.b1, self.b2
        m = b1 * state.get("m", 0 * theta) + (1 - b1) * g
        v = b2 * state.get("v", np.zeros(theta.shape)) + (1 - b2) * _sq(g)
        state["m"], state["v"] = m, v
        v_in = v / (1 - b2**k) if self.corrected == "optax" else v
        v_max = np.maximum(state.get("v_max", np.zeros(theta.shape)), v_in)
        state["v_max"] = v_max
        if self.corrected:
            m = m / (1 - b1**k)
        denom = v_max / (1 - b2**k) if self.corrected == "pytorch" else v_max
        return theta - _at(self.lr, t) * m / (np.sqrt(denom) + self.eps)


class NAdam(Reference):
    r"""NAdam, Dozat, ICLR 2016 workshop, Algorithm 2.

    With the momentum schedule :math:`\mu_k = \beta_1 (1 - \tfrac12\,
    0.96^{k\psi})` (``torch.optim.NAdam``'s documented form; ``psi=None``: a
    constant :math:`\mu_k = \beta_1`):
    :math:`m_k = \beta_1 m_{k-1} + (1-\beta_1) g_k`,
    :math:`v_k = \beta_2 v_{k-1} + (1-\beta_2) g_k^2`,
    :math:`\bar m_k = \mu_{k+1} m_k / (1 - \prod_{i \le k+1} \mu_i) + (1 -
    \mu_k) g_k / (1 - \prod_{i \le k} \mu_i)`,
    :math:`\theta_k = \theta_{k-1} - \eta_k \bar m_k / (\sqrt{v_k /
    (1-\beta_2^k)} + \epsilon)`. ``weight_decay``: NAdamW.
    """

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-8,
        psi: float | None = 4e-3,
        weight_decay: Value = 0.0,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.psi, self.wd = psi, weight_decay

    def _mu(self, k: int) -> float:
        if self.psi is None:
            return self.b1
        return self.b1 * (1 - 0.5 * 0.96 ** (k * self.psi))

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k, b2 = t + 1, self.b2
        prod_k = float(np.prod([self._mu(i) for i in range(1, k + 1)]))
        prod_next = prod_k * self._mu(k + 1)
        m = self.b1 * state.get("m", 0 * theta) + (1 - self.b1) * g
        v = b2 * state.get("v", np.zeros(theta.shape)) + (1 - b2) * _sq(g)
        state["m"], state["v"] = m, v
        m_bar = self._mu(k + 1) * m / (1 - prod_next) + (1 - self._mu(k)) * g / (
            1 - prod_k
        )
        step = m_bar / (np.sqrt(v / (1 - b2**k)) + self.eps)
        return _decayed(theta, step, _at(self.lr, t), _at(self.wd, t))


class RAdam(Reference):
    r"""RAdam, Liu et al., ICLR 2020, Algorithm 2.

    :math:`\rho_\infty = 2/(1-\beta_2) - 1`, :math:`\rho_k = \rho_\infty - 2k
    \beta_2^k / (1-\beta_2^k)`; Adam's moments; if :math:`\rho_k >` the
    threshold (4 in the paper), :math:`r_k = \sqrt{(\rho_k-4)(\rho_k-2)
    \rho_\infty / ((\rho_\infty-4)(\rho_\infty-2)\rho_k)}` and
    :math:`\theta_k = \theta_{k-1} - \eta_k r_k \hat m_k / (\sqrt{\hat v_k} +
    \epsilon)`, else :math:`\theta_k = \theta_{k-1} - \eta_k \hat m_k`.
    ``torch_eps``: ``torch.optim.RAdam``'s documented adaptive rate
    :math:`\sqrt{1-\beta_2^k} / (\sqrt{v_k} + \epsilon)`.
    """

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-8,
        threshold: float = 4.0,
        torch_eps: bool = False,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.threshold, self.torch_eps = threshold, torch_eps

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k, b1, b2 = t + 1, self.b1, self.b2
        m = b1 * state.get("m", 0 * theta) + (1 - b1) * g
        v = b2 * state.get("v", np.zeros(theta.shape)) + (1 - b2) * _sq(g)
        state["m"], state["v"] = m, v
        m_hat = m / (1 - b1**k)
        rho_inf = 2 / (1 - b2) - 1
        rho = rho_inf - 2 * k * b2**k / (1 - b2**k)
        lr = _at(self.lr, t)
        if rho <= self.threshold:
            return theta - lr * m_hat
        r = np.sqrt(
            (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)
        )
        if self.torch_eps:
            adaptive = np.sqrt(1 - b2**k) / (np.sqrt(v) + self.eps)
        else:
            adaptive = 1 / (np.sqrt(v / (1 - b2**k)) + self.eps)
        return theta - lr * r * m_hat * adaptive


class AdaBelief(Reference):
    r"""AdaBelief, Zhuang et al., NeurIPS 2020, Algorithm 2.

    :math:`m_k = \beta_1 m_{k-1} + (1-\beta_1) g_k`,
    :math:`s_k = \beta_2 s_{k-1} + (1-\beta_2)(g_k - m_k)^2 + \epsilon_s`,
    :math:`\theta_k = \theta_{k-1} - \eta_k \hat m_k / (\sqrt{\hat s_k} +
    \epsilon)` with :math:`\hat m_k = m_k / (1-\beta_1^k)`, :math:`\hat s_k =
    s_k / (1-\beta_2^k)`.
    """

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-16,
        eps_s: float = 1e-16,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps, self.eps_s = lr, b1, b2, eps, eps_s

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k, b1, b2 = t + 1, self.b1, self.b2
        m = b1 * state.get("m", 0 * theta) + (1 - b1) * g
        s = b2 * state.get("s", np.zeros(theta.shape)) + (1 - b2) * _sq(g - m)
        s = s + self.eps_s
        state["m"], state["s"] = m, s
        m_hat, s_hat = m / (1 - b1**k), s / (1 - b2**k)
        return theta - _at(self.lr, t) * m_hat / (np.sqrt(s_hat) + self.eps)


class Yogi(Reference):
    r"""Yogi, Zaheer et al., NeurIPS 2018, Algorithm 2, as implemented.

    :math:`m_k = \beta_1 m_{k-1} + (1-\beta_1) g_k`,
    :math:`v_k = v_{k-1} - (1-\beta_2)\, \mathrm{sign}(v_{k-1} - g_k^2)\,
    g_k^2`, :math:`\theta_k = \theta_{k-1} - \eta_k \hat m_k / (\sqrt{\hat v_k}
    + \epsilon)` with Adam's bias corrections and :math:`m_0 = v_0 = 10^{-6}`
    (the authors' TensorFlow code debiases and starts :math:`v` there; optax
    documents :math:`m_0` there too).
    """

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-3,
        init: float = 1e-6,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps, self.init = lr, b1, b2, eps, init

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k, b1, b2 = t + 1, self.b1, self.b2
        m = (
            b1 * state.get("m", np.full(theta.shape, self.init, theta.dtype))
            + (1 - b1) * g
        )
        v = state.get("v", np.full(theta.shape, self.init))
        v = v - (1 - b2) * np.sign(v - _sq(g)) * _sq(g)
        state["m"], state["v"] = m, v
        m_hat, v_hat = m / (1 - b1**k), v / (1 - b2**k)
        return theta - _at(self.lr, t) * m_hat / (np.sqrt(v_hat) + self.eps)


class Adan(Reference):
    r"""Adan, Xie et al., IEEE TPAMI 2024, Algorithm 1, with the authors' code's
    zero initialization and bias corrections.

    Written with decays :math:`b_i` (the paper's :math:`1 - \beta_i`):
    :math:`d_k = g_k - g_{k-1}` (:math:`d_1 = 0`),
    :math:`m_k = b_1 m_{k-1} + (1-b_1) g_k`,
    :math:`v_k = b_2 v_{k-1} + (1-b_2) d_k`,
    :math:`n_k = b_3 n_{k-1} + (1-b_3) [g_k + (1-\beta_2) d_k]^2` with the
    paper's :math:`1-\beta_2 = b_2` (``omega`` overrides it);
    :math:`\theta_k = \theta_{k-1} - \eta_k ((\hat m_k + \omega \hat v_k) /
    (\sqrt{\hat n_k + \epsilon_r} + \epsilon) + \lambda \theta_{k-1})`.
    """

    def __init__(
        self,
        lr: Value,
        b1: float = 0.98,
        b2: float = 0.92,
        b3: float = 0.99,
        eps: float = 1e-8,
        eps_root: float = 1e-8,
        weight_decay: Value = 0.0,
        omega: float | None = None,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.b3 = lr, b1, b2, b3
        self.eps, self.eps_root, self.wd = eps, eps_root, weight_decay
        self.omega = b2 if omega is None else omega

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k, b1, b2, b3, w = t + 1, self.b1, self.b2, self.b3, self.omega
        d = g - state["g"] if "g" in state else 0 * g
        m = b1 * state.get("m", 0 * theta) + (1 - b1) * g
        v = b2 * state.get("v", 0 * theta) + (1 - b2) * d
        n = b3 * state.get("n", np.zeros(theta.shape)) + (1 - b3) * _sq(g + w * d)
        state.update(m=m, v=v, n=n, g=g)
        u = (m / (1 - b1**k) + w * v / (1 - b2**k)) / (
            np.sqrt(n / (1 - b3**k) + self.eps_root) + self.eps
        )
        return _decayed(theta, u, _at(self.lr, t), _at(self.wd, t))


class ADOPT(Reference):
    r"""ADOPT, Taniguchi et al., NeurIPS 2024, Algorithm 2 with the clipping
    of its experiments.

    The first gradient only sets :math:`v_0 = g_0^2`; then
    :math:`m_k = \beta_1 m_{k-1} + (1-\beta_1)\, \mathrm{clip}(g_k /
    \max(\sqrt{v_{k-1}}, \epsilon), c_k)`, :math:`\theta_k = \theta_{k-1} -
    \eta_k m_k`, :math:`v_k = \beta_2 v_{k-1} + (1-\beta_2) g_k^2`, with
    :math:`c_k = k^{1/4}` (``clip=False``: no clipping). The step index of the
    learning rate counts the first call.
    """

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.9999,
        eps: float = 1e-6,
        clip: bool = True,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps, self.clip = lr, b1, b2, eps, clip

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        if "v" not in state:
            state["v"], state["m"] = _sq(g), 0 * theta
            return theta
        x = g / np.maximum(np.sqrt(state["v"]), self.eps)
        if self.clip:
            c = t**0.25  # t = k: the k-th step after v_0's
            x = np.clip(x, -c, c)
        state["m"] = self.b1 * state["m"] + (1 - self.b1) * x
        state["v"] = self.b2 * state["v"] + (1 - self.b2) * _sq(g)
        return theta - _at(self.lr, t) * state["m"]


def ademamix_alpha_warmup(alpha: float, steps: int) -> Callable[[int], float]:
    r"""Pagliardini et al.'s :math:`f_\alpha`: linear from 0 to ``alpha``."""
    return lambda t: alpha * min(t, steps) / steps


def ademamix_beta3_warmup(b1: float, b3: float, steps: int) -> Callable[[int], float]:
    r"""Pagliardini et al.'s :math:`f_{\beta_3}` (Algorithm 1): from ``b1`` to
    ``b3``, linear in the half-life, :math:`\exp(\ln\beta_1 \ln\beta_3 / ((1
    - t/T)\ln\beta_3 + (t/T)\ln\beta_1))`."""

    def f(t: int) -> float:
        a = min(t, steps) / steps
        lb1, lb3 = np.log(b1), np.log(b3)
        return float(np.exp(lb1 * lb3 / ((1 - a) * lb3 + a * lb1)))

    return f


class AdEMAMix(Reference):
    r"""AdEMAMix, Pagliardini, Ablin & Grangier, ICLR 2025, Algorithm 1.

    :math:`m_{1,k} = \beta_1 m_{1,k-1} + (1-\beta_1) g_k`,
    :math:`m_{2,k} = \beta_{3}(t)\, m_{2,k-1} + (1-\beta_{3}(t)) g_k`,
    :math:`\nu_k = \beta_2 \nu_{k-1} + (1-\beta_2) g_k^2`,
    :math:`\theta_k = \theta_{k-1} - \eta_k ((\hat m_{1,k} + \alpha(t)
    m_{2,k}) / (\sqrt{\hat\nu_k} + \epsilon) + \lambda\theta_{k-1})`, where
    ``b3`` and ``alpha`` may be functions of the 0-based step ``t``.
    """

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.999,
        b3: Value = 0.9999,
        alpha: Value = 5.0,
        eps: float = 1e-8,
        weight_decay: Value = 0.0,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.b3, self.alpha = lr, b1, b2, b3, alpha
        self.eps, self.wd = eps, weight_decay

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k, b1, b2, b3 = t + 1, self.b1, self.b2, _at(self.b3, t)
        m1 = b1 * state.get("m1", 0 * theta) + (1 - b1) * g
        m2 = b3 * state.get("m2", 0 * theta) + (1 - b3) * g
        nu = b2 * state.get("nu", np.zeros(theta.shape)) + (1 - b2) * _sq(g)
        state.update(m1=m1, m2=m2, nu=nu)
        u = (m1 / (1 - b1**k) + _at(self.alpha, t) * m2) / (
            np.sqrt(nu / (1 - b2**k)) + self.eps
        )
        return _decayed(theta, u, _at(self.lr, t), _at(self.wd, t))
