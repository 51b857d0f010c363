r"""NumPy references for L-BFGS, its line searches, and Muon, from the papers.

Written from the algorithms, not from gradtx's code or optax's:

- **L-BFGS**, Nocedal & Wright, *Numerical Optimization* (2006), Algorithm 7.5
  with the two-loop recursion of Algorithm 7.4: from the last :math:`m` pairs
  :math:`s_i = x_{i+1} - x_i`, :math:`y_i = g_{i+1} - g_i`,
  :math:`\rho_i = 1/\langle y_i, s_i\rangle`, the direction
  :math:`d_k = -H_k g_k` with :math:`H_k^0 = \gamma_k I`,
  :math:`\gamma_k = \langle s_{k-1}, y_{k-1}\rangle / \langle y_{k-1},
  y_{k-1}\rangle` (eq. 7.20); at the first step, where the book leaves
  :math:`H_0^0` open, :math:`\gamma_0 = \min(1, 1/\lVert g_0\rVert)` (optax's
  documented choice). Then :math:`x_{k+1} = x_k + \alpha_k d_k` with a fixed
  :math:`\alpha` or a line search. The method acts on the whole vector: trees
  are flattened (leaves in sorted key order), complex numbers as pairs of
  reals (:math:`\langle a, b\rangle = \mathrm{Re}\,\bar a^\top b`).
- **The strong Wolfe line search**, Nocedal & Wright, Algorithms 3.5 and 3.6:
  SciPy's implementation (``scipy.optimize.line_search``: the bracketing
  phase doubling the step from 1, the zoom with safeguarded cubic, quadratic
  and bisection steps), an implementation independent of gradtx's.
- **Backtracking**, Nocedal & Wright, Algorithm 3.1: from
  :math:`\alpha_0 = \min(\gamma\, \alpha_{prev}, \alpha_{max})`, shrink by
  :math:`\delta` until :math:`f(x + \alpha d) \le (1 + r) f(x) + c \alpha
  \langle g, d\rangle + a`.
- **Muon**, Jordan et al. 2024 (https://kellerjordan.github.io/posts/muon/):
  :math:`B_t = \mu B_{t-1} + (1-\mu) G_t`, Nesterov
  :math:`\tilde B_t = \mu B_t + (1-\mu) G_t`, :math:`O_t =
  \mathrm{NS}_5(\tilde B_t)`: the matrix (transposed if it has more rows than
  columns) divided by its Frobenius norm plus :math:`\epsilon`, then five
  steps :math:`X \leftarrow aX + b(XX^H)X + c(XX^H)^2X`;
  :math:`\theta_t = \theta_{t-1} - \eta(s\, O_t + \lambda\theta_{t-1})` with
  :math:`s = \sqrt{\max(1, n_{out}/n_{in})}` for a ``(n_in, n_out)`` matrix
  (or :math:`r\sqrt{\max(n_{in}, n_{out})}`, Liu et al. 2025). Leaves that are
  not matrices take AdamW (NAdam with Nesterov), from ``numpy_reference``.
  Optionally optax's bias correction (:math:`B_t / (1-\mu^t)`, Nesterov
  :math:`\mu B_t/(1-\mu^{t+1}) + (1-\mu)G_t/(1-\mu^t)`) and Bernstein &
  Newhouse's dual-norm scaling :math:`\langle \tilde B_t, O_t\rangle O_t`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize

from tests.optimizers import numpy_reference as base

Tree = dict[str, np.ndarray]
Objective = Callable[[np.ndarray], float]
Gradient = Callable[[np.ndarray], np.ndarray]

NS_COEFFS = (3.4445, -4.7750, 2.0315)


def flat(tree: Tree) -> np.ndarray:
    """The leaves of ``tree`` in one vector, sorted by key (JAX's order)."""
    return np.concatenate([np.ravel(tree[k]) for k in sorted(tree)])


def unflat(x: np.ndarray, like: Tree) -> Tree:
    out, i = {}, 0
    for k in sorted(like):
        n = np.size(like[k])
        out[k] = x[i : i + n].reshape(np.shape(like[k]))
        i += n
    return out


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.real(np.vdot(a, b)))


class LBFGS:
    """L-BFGS on a flat vector: :meth:`direction`, then a step of the caller's."""

    def __init__(self, memory_size: int = 10, scale_init_precond: bool = True):
        self.m, self.scale = memory_size, scale_init_precond
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self.last: tuple[np.ndarray, np.ndarray] | None = None

    def direction(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """:math:`d_k = -H_k g_k` at ``x`` with gradient ``g`` (Algorithm 7.4)."""
        if self.last is None:
            norm = np.sqrt(_dot(g, g))
            gamma = min(1.0, 1.0 / norm) if self.scale else 1.0
        else:
            s, y = x - self.last[0], g - self.last[1]
            self.pairs = [*self.pairs, (s, y)][-self.m :]
            yy = _dot(y, y)
            gamma = _dot(s, y) / yy if self.scale and yy > 0 else 1.0
        self.last = (x, g)
        rhos = [1 / _dot(y, s) if _dot(y, s) != 0 else 0.0 for s, y in self.pairs]
        q, alphas = g.copy(), []
        for (s, y), rho in zip(reversed(self.pairs), reversed(rhos), strict=True):
            alphas.insert(0, rho * _dot(s, q))
            q = q - alphas[0] * y
        r = gamma * q
        for (s, y), rho, alpha in zip(self.pairs, rhos, alphas, strict=True):
            beta = rho * _dot(y, r)
            r = r + (alpha - beta) * s
        return -r


def wolfe_step(
    f: Objective, grad: Gradient, x: np.ndarray, d: np.ndarray, c1: float, c2: float
) -> float:
    """A strong Wolfe step size along ``d`` from 1 (Algorithms 3.5 and 3.6)."""
    alpha, *_ = scipy.optimize.line_search(f, grad, x, d, c1=c1, c2=c2)
    assert alpha is not None, "the reference line search failed"
    return float(alpha)


class Backtracking:
    """Armijo backtracking (Algorithm 3.1), the step size carried over."""

    def __init__(
        self,
        max_steps: int,
        c: float = 1e-4,
        decrease: float = 0.8,
        increase: float = 1.5,
        max_step: float = 1.0,
    ) -> None:
        self.max_steps, self.c, self.decrease = max_steps, c, decrease
        self.increase, self.max_step, self.alpha = increase, max_step, 1.0

    def step(self, f: Objective, x: np.ndarray, d: np.ndarray, g: np.ndarray) -> float:
        f0, slope = f(x), _dot(np.conj(d), g)
        alpha = min(self.increase * self.alpha, self.max_step)
        for i in range(self.max_steps + 1):
            if i:
                alpha *= self.decrease
            if f(x + alpha * d) <= f0 + self.c * alpha * slope:
                break
        self.alpha = alpha
        return alpha


def newton_schulz(b: np.ndarray, coeffs: Any = NS_COEFFS, steps: int = 5) -> np.ndarray:
    """Jordan's quintic Newton-Schulz iteration on a matrix, eps = 1e-8."""
    tall = b.shape[0] > b.shape[1]
    x = b.T if tall else b
    x = x / (np.linalg.norm(x) + 1e-8)
    a, bb, c = coeffs
    for _ in range(steps):
        gram = x @ x.conj().T
        x = a * x + (bb * gram + c * gram @ gram) @ x
    return x.T if tall else x


class Muon(base.Reference):
    """Muon on the matrices, AdamW (NAdam if Nesterov) on the other leaves."""

    def __init__(
        self,
        lr: float,
        beta: float = 0.95,
        *,
        nesterov: bool = True,
        weight_decay: float = 0.0,
        bias_correction: bool = False,
        adaptive: bool = False,
        consistent_rms: float | None = None,
    ) -> None:
        super().__init__()
        self.lr, self.beta, self.nesterov = lr, beta, nesterov
        self.weight_decay, self.bias_correction = weight_decay, bias_correction
        self.adaptive, self.consistent_rms = adaptive, consistent_rms
        self.adam = base.AdamW(lr, eps=1e-8, weight_decay=0.0, nesterov=nesterov)

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        if theta.ndim != 2:
            return self.adam._step_leaf(theta, g, state, t)
        mu, k = self.beta, t + 1
        b = mu * state.get("b", np.zeros_like(theta)) + (1 - mu) * g
        state["b"] = b
        if self.nesterov and self.bias_correction:
            mix = mu * b / (1 - mu ** (k + 1)) + (1 - mu) * g / (1 - mu**k)
        elif self.nesterov:
            mix = mu * b + (1 - mu) * g
        else:
            mix = b / (1 - mu**k) if self.bias_correction else b
        o = newton_schulz(mix)
        if self.adaptive:
            o = np.sum(np.conj(mix) * o) * o
        fan_in, fan_out = theta.shape
        if self.consistent_rms is None:
            scale = np.sqrt(max(1.0, fan_out / fan_in))
        else:
            scale = self.consistent_rms * np.sqrt(max(fan_in, fan_out))
        return theta - self.lr * (scale * o + self.weight_decay * theta)
