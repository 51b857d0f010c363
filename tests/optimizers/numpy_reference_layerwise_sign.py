r"""NumPy references for the layer-wise, sign and noise optimizers.

Written from the papers' update rules (equation or algorithm numbers on each
class), not from gradtx's code nor optax's, in float64 (complex128 for
complex params, with :math:`|g|^2 = g\bar g` and :math:`\mathrm{sign}(z) =
z/|z|`). Conventions as in ``numpy_reference.py``: a dict of arrays, one
"layer" per entry, the step counted :math:`t = 0, 1, \dots` and hyperparameters
that are constants or functions of :math:`t`. The step :math:`k = t + 1` of
the papers is written ``k``.

- **LARS**, You, Gitman & Ginsburg 2017, eq. (6) and Algorithm 1:
  :math:`\lambda = c\lVert w\rVert / (\lVert g\rVert + \beta\lVert w\rVert +
  \epsilon)`, :math:`v = \mu v + \gamma\lambda(g + \beta w)`, :math:`w = w -
  v` (Nesterov: :math:`w = w - \mu v - \gamma\lambda(g + \beta w)`).
- **LAMB**, You et al. 2020, Algorithm 2: Adam's :math:`r = \hat m / (\sqrt{\hat
  v} + \epsilon)`, :math:`x = x - \eta \lVert x\rVert / \lVert r + \lambda
  x\rVert\,(r + \lambda x)`.
- **Fromage**, Bernstein et al. 2020, Algorithm 1: :math:`W = (W - \eta
  \lVert W\rVert / \lVert g\rVert\, g) / \sqrt{1 + \eta^2}`.
- **Lion**, Chen et al. 2023, Algorithm 2: :math:`c = \beta_1 m + (1-\beta_1)
  g`, :math:`\theta = \theta - \eta(\mathrm{sign}(c) + \lambda\theta)`,
  :math:`m = \beta_2 m + (1-\beta_2) g`.
- **signSGD** and **Signum**, Bernstein et al. 2018, Algorithms 1 and 3.
- **NovoGrad**, Ginsburg et al. 2019, Algorithm 1: :math:`v_1 = \lVert
  g_1\rVert^2`, then :math:`v = \beta_2 v + (1-\beta_2)\lVert g\rVert^2`;
  :math:`m = \beta_1 m + g / (\sqrt v + \epsilon) + d\, w`; :math:`w = w -
  \lambda m`.
- **Gradient noise**, Neelakantan et al. 2015: :math:`g + \mathcal N(0,
  \eta/(1+t)^\gamma)`, then SGD. The normal draws are JAX's (no NumPy
  generator can reproduce them): ``key, sample = split(key)`` each step and
  one ``split(sample, n)`` key per leaf in sorted-key order, as optax
  documents for ``add_noise``.
- **Polyak step size** (SPS\ :sub:`max`), Loizou et al. 2021:
  :math:`\gamma = \min\{(f - f^\star) / (\lVert g\rVert^2 + \epsilon),
  \gamma_{\max}\}` over all leaves, :math:`\theta = \theta - s\gamma g`.
- **DoG**, layer-wise (LDoG), Ivgi, Hinder & Carmon 2023, Section 3:
  :math:`\bar r = \max(\rho(1 + \lVert x_0\rVert), \max_{i \le k}\lVert x_i -
  x_0\rVert)`, :math:`G = \sum_{i \le k}\lVert g_i\rVert^2`, :math:`x = x -
  \bar r / \sqrt{G + \epsilon}\; g`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import jax
import numpy as np

from tests.optimizers.numpy_reference import Reference, Tree, Value

__all__ = [
    "LAMB",
    "LARS",
    "DoG",
    "Fromage",
    "Lion",
    "NoisySGD",
    "NovoGrad",
    "ParamBlockScale",
    "PolyakSGD",
    "SignSGD",
    "Signum",
]


def _at(value: Value, t: int) -> float:
    return float(value(t)) if callable(value) else float(value)


def _norm(x: np.ndarray) -> float:
    return float(np.sqrt(np.sum((x * np.conj(x)).real)))


def _sign(x: np.ndarray) -> np.ndarray:
    """``x / |x|`` (0 at 0): the sign, also of complex numbers."""
    mag = np.abs(x)
    return np.where(mag > 0, x / np.where(mag > 0, mag, 1), 0)


class LARS(Reference):
    r"""LARS with momentum, You et al. 2017, eq. (6) and Algorithm 1.

    ``decayed_grad_norm`` divides by :math:`\lVert g + \beta w\rVert +
    \epsilon` instead (optax's form). ``trust`` and ``decay`` are the keys
    (layers) that get a trust ratio and a weight decay (None: all). A layer
    whose :math:`\lVert w\rVert` or denominator is 0 gets :math:`\lambda = 1`.
    """

    def __init__(
        self,
        lr: Value,
        weight_decay: float = 0.0,
        trust_coefficient: float = 0.001,
        eps: float = 0.0,
        mu: float = 0.9,
        *,
        nesterov: bool = False,
        decayed_grad_norm: bool = False,
        trust: set[str] | None = None,
        decay: set[str] | None = None,
    ) -> None:
        super().__init__()
        self.lr, self.beta, self.c, self.eps = lr, weight_decay, trust_coefficient, eps
        self.mu, self.nesterov, self.decayed_grad_norm = mu, nesterov, decayed_grad_norm
        self.trust, self.decay = trust, decay
        self._key = ""

    def step(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> Tree:
        new = {}
        for key in params:
            self._key = key
            state = self._states.setdefault(key, {})
            new[key] = self._step_leaf(params[key], grads[key], state, self.t)
        self.t += 1
        return new

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        decayed = self.decay is None or self._key in self.decay
        trusted = self.trust is None or self._key in self.trust
        beta = self.beta if decayed else 0.0
        direction = g + beta * theta
        ratio = 1.0
        if trusted:
            w_norm = _norm(theta)
            if self.decayed_grad_norm:
                denominator = _norm(direction)
            else:
                denominator = _norm(g) + beta * w_norm
            if w_norm > 0 and denominator > 0:
                ratio = self.c * w_norm / (denominator + self.eps)
        step = _at(self.lr, t) * ratio * direction
        v = self.mu * state.get("v", np.zeros_like(theta)) + step
        state["v"] = v
        return theta - (self.mu * v + step if self.nesterov else v)


class LAMB(Reference):
    r"""LAMB, You et al. 2020, Algorithm 2 (:math:`\phi` the identity).

    ``decay``: the keys that are decayed (None: all).
    """

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        decay: set[str] | None = None,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.wd, self.decay = weight_decay, decay
        self._key = ""

    step = LARS.step

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        k = t + 1
        m = self.b1 * state.get("m", np.zeros_like(theta)) + (1 - self.b1) * g
        v = (
            self.b2 * state.get("v", np.zeros(theta.shape))
            + (1 - self.b2) * (g * np.conj(g)).real
        )
        state["m"], state["v"] = m, v
        r = (m / (1 - self.b1**k)) / (np.sqrt(v / (1 - self.b2**k)) + self.eps)
        wd = self.wd if self.decay is None or self._key in self.decay else 0.0
        d = r + wd * theta
        x_norm, d_norm = _norm(theta), _norm(d)
        ratio = x_norm / d_norm if x_norm > 0 and d_norm > 0 else 1.0
        return theta - _at(self.lr, t) * ratio * d


class Fromage(Reference):
    """Fromage, Bernstein et al. 2020, Algorithm 1 (norms floored at ``min_norm``)."""

    def __init__(self, lr: Value, min_norm: float = 1e-6) -> None:
        super().__init__()
        self.lr, self.min_norm = lr, min_norm

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        eta = _at(self.lr, t)
        ratio = max(_norm(theta), self.min_norm) / max(_norm(g), self.min_norm)
        return (theta - eta * ratio * g) / np.sqrt(1 + eta**2)


class Lion(Reference):
    """Lion, Chen et al. 2023, Algorithm 2; ``mode`` as optax's (not the paper's)."""

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.99,
        weight_decay: float = 0.0,
        mode: str = "hard",
        smooth_beta: float = 1.0,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.wd = lr, b1, b2, weight_decay
        self.mode, self.smooth_beta = mode, smooth_beta

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        m = state.get("m", np.zeros_like(theta))
        c = self.b1 * m + (1 - self.b1) * g
        if self.mode == "hard":
            s = _sign(c)
        elif self.mode == "smooth":
            s = np.tanh(self.smooth_beta * c)
        else:  # refined
            s = np.where(np.abs(c) < 1, c, _sign(c))
        state["m"] = self.b2 * m + (1 - self.b2) * g
        return theta - _at(self.lr, t) * (s + self.wd * theta)


class SignSGD(Reference):
    """signSGD, Bernstein et al. 2018, Algorithm 1."""

    def __init__(self, lr: Value) -> None:
        super().__init__()
        self.lr = lr

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        return theta - _at(self.lr, t) * _sign(g)


class Signum(Reference):
    """Signum, Bernstein et al. 2018, Algorithm 3."""

    def __init__(self, lr: Value, beta: float = 0.9) -> None:
        super().__init__()
        self.lr, self.beta = lr, beta

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        m = self.beta * state.get("m", np.zeros_like(theta)) + (1 - self.beta) * g
        state["m"] = m
        return theta - _at(self.lr, t) * _sign(m)


class NovoGrad(Reference):
    """NovoGrad, Ginsburg et al. 2019, Algorithm 1 (ε also at the first step)."""

    def __init__(
        self,
        lr: Value,
        b1: float = 0.9,
        b2: float = 0.25,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__()
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, b1, b2, eps, weight_decay

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        sq = _norm(g) ** 2
        if t == 0:
            v = sq
            m = g / (np.sqrt(v) + self.eps) + self.wd * theta
        else:
            v = self.b2 * float(state["v"]) + (1 - self.b2) * sq
            m = self.b1 * state["m"] + g / (np.sqrt(v) + self.eps) + self.wd * theta
        state["v"], state["m"] = np.asarray(v), m
        return theta - _at(self.lr, t) * m


class NoisySGD(Reference):
    """SGD on gradients with annealed noise, Neelakantan et al. 2015.

    ``key``: the int seed of JAX's ``jax.random.key``, from which the draws
    are made as the module docstring says.
    """

    def __init__(self, lr: Value, eta: float, gamma: float, key: int) -> None:
        super().__init__()
        self.lr, self.eta, self.gamma = lr, eta, gamma
        self.key = jax.random.key(key)

    def step(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> Tree:
        names = sorted(params)
        shapes = tuple((np.shape(params[n]), np.iscomplexobj(params[n])) for n in names)
        self.key, noises = _draw(self.key, shapes)
        sigma = np.sqrt(self.eta / (1 + self.t) ** self.gamma)
        lr = _at(self.lr, self.t)
        new = {}
        for name, noise in zip(names, noises, strict=True):
            theta = np.asarray(params[name])
            new[name] = theta - lr * (grads[name] + sigma * np.asarray(noise))
        self.t += 1
        return new

    def _step_leaf(self, *args: object) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError("NoisySGD steps all leaves at once")


@functools.partial(jax.jit, static_argnums=1)
def _draw(key: jax.Array, shapes: tuple[tuple[tuple[int, ...], bool], ...]) -> tuple:
    """The next key, and one standard normal draw per (shape, is_complex)."""
    key, sample = jax.random.split(key)
    keys = jax.random.split(sample, len(shapes))
    return key, [
        jax.random.normal(k, shape, np.complex128 if is_complex else np.float64)
        for k, (shape, is_complex) in zip(keys, shapes, strict=True)
    ]


class PolyakSGD(Reference):
    r"""SGD with the stochastic Polyak step (SPS\ :sub:`max`), Loizou et al. 2021.

    ``loss(params)`` gives :math:`f`; ``scaling_in_norm`` takes the step from
    :math:`s g` (optax's order).
    """

    def __init__(
        self,
        loss: Callable[[Mapping[str, np.ndarray]], float],
        max_lr: float = 1.0,
        scaling: Value = 1.0,
        f_min: float = 0.0,
        eps: float = 0.0,
        *,
        plus: bool = False,
        scaling_in_norm: bool = False,
    ) -> None:
        super().__init__()
        self.loss, self.max_lr, self.scaling, self.f_min = loss, max_lr, scaling, f_min
        self.eps, self.plus, self.scaling_in_norm = eps, plus, scaling_in_norm

    def step(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> Tree:
        s = _at(self.scaling, self.t)
        gap = self.loss(params) - self.f_min
        if self.plus:
            gap = max(gap, 0.0)
        sq = sum(_norm(g) ** 2 for g in grads.values())
        if self.scaling_in_norm:
            sq *= s * s
        denominator = sq + self.eps
        gamma = min(gap / denominator, self.max_lr) if denominator > 0 else 0.0
        self.t += 1
        return {k: params[k] - s * gamma * grads[k] for k in params}

    def _step_leaf(self, *args: object) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError("PolyakSGD's step size is global")


class DoG(Reference):
    """Layer-wise DoG, Ivgi et al. 2023, Section 3 (the step applied as SGD's)."""

    def __init__(self, reps_rel: float = 1e-6, eps: float = 1e-8) -> None:
        super().__init__()
        self.reps_rel, self.eps = reps_rel, eps

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        if t == 0:
            state["x0"] = theta.copy()
            state["r"] = np.asarray(self.reps_rel * (1 + _norm(theta)))
            state["G"] = np.asarray(0.0)
        r = max(float(state["r"]), _norm(theta - state["x0"]))
        G = float(state["G"]) + _norm(g) ** 2
        state["r"], state["G"] = np.asarray(r), np.asarray(G)
        return theta - r / np.sqrt(G + self.eps) * g


class ParamBlockScale(Reference):
    r"""SGD with steps scaled by each leaf's param norm (or RMS), floored at
    ``min_scale``: :math:`\theta = \theta - \eta \max(\lVert\theta\rVert, s)
    g` (optax's ``scale_by_param_block_norm`` / ``_rms``)."""

    def __init__(
        self, lr: float, min_scale: float = 1e-3, *, rms: bool = False
    ) -> None:
        super().__init__()
        self.lr, self.min_scale, self.rms = lr, min_scale, rms

    def _step_leaf(
        self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        n = max(theta.size, 1) if self.rms else 1
        scale = max(_norm(theta) / np.sqrt(n), self.min_scale)
        return theta - self.lr * scale * g
