"""PyTorch parity: every optimizer with a ``torch.optim`` counterpart, 60 steps.

For each registered optimizer whose ``pytorch`` counterpart is set, the same
hyperparameters run in ``torch.optim`` (float64, CPU) and in gradtx (float64,
one jitted step) from the same params, on gradients that depend on the params
(a quadratic loss with a different curvature per leaf, plus seeded noise), so
that a wrong update changes every later gradient. The params must agree to
1e-8 relative after 60 steps.

gradtx is called with the counterpart's ``gradtx_kwargs`` (the keywords that
give PyTorch's form, e.g. ``momentum_after_lr=False``), and ``TORCH`` below
translates gradtx's hyperparameters into PyTorch's names (``lr``, ``betas``,
``alpha``...). Adding an optimizer with a PyTorch counterpart means adding its
row to ``TORCH`` and ``CASES``: a test fails until both are there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from gradtx import optimizers

torch = pytest.importorskip("torch")

STEPS = 60
RTOL, ATOL = 1e-8, 1e-10
SHAPES = {"w": (3, 4), "b": (4,), "s": ()}
CURVATURE = {"w": 1.0, "b": 0.3, "s": 2.0}

Kwargs = dict[str, Any]


def _adam_like(kw: Kwargs, **extra: Any) -> Kwargs:
    """torch.optim's Adam-family arguments (lr, betas, eps) from gradtx's, at
    gradtx's defaults, plus ``extra``."""
    return {
        "lr": kw["learning_rate"],
        "betas": (kw.get("b1", 0.9), kw.get("b2", 0.999)),
        "eps": kw.get("eps", 1e-8),
        **extra,
    }


# gradtx keyword arguments -> torch.optim keyword arguments (lr etc.).
TORCH: dict[str, Callable[[Kwargs], Kwargs]] = {
    "sgd": lambda kw: {
        "lr": kw["learning_rate"],
        "momentum": kw.get("momentum") or 0.0,
        "nesterov": kw.get("nesterov", False),
    },
    "adagrad": lambda kw: {
        "lr": kw["learning_rate"],
        "eps": kw.get("eps", 1e-10),
        "initial_accumulator_value": kw.get("initial_accumulator_value", 0.0),
    },
    "rmsprop": lambda kw: {
        "lr": kw["learning_rate"],
        "alpha": kw.get("decay", 0.9),
        "eps": kw.get("eps", 1e-8),
        "momentum": kw.get("momentum") or 0.0,
        "centered": kw.get("centered", False),
    },
    "adam": _adam_like,
    "adamw": lambda kw: _adam_like(kw, weight_decay=kw.get("weight_decay", 1e-4)),
    # Adamax, AMSGrad (torch.optim.Adam with amsgrad=True), NAdam, NAdamW
    # (torch.optim.NAdam with decoupled_weight_decay=True) and RAdam: gradtx
    # takes the counterparts' gradtx_kwargs (AMSGrad: bias_correction_mu=True,
    # bias_correction_nu=True, correct_after_max=True; RAdam: threshold=5.0,
    # eps_before_bias_correction=True; NAdamW: PyTorch's default decay, 0).
    "adamax": _adam_like,
    "amsgrad": lambda kw: _adam_like(kw, amsgrad=True),
    "nadam": lambda kw: _adam_like(kw, momentum_decay=kw.get("momentum_decay", 4e-3)),
    "nadamw": lambda kw: _adam_like(
        kw,
        weight_decay=kw.get("weight_decay", 0.0),
        momentum_decay=kw.get("momentum_decay", 4e-3),
        decoupled_weight_decay=True,
    ),
    "radam": _adam_like,
    # AdaDelta and ASGD: gradtx's defaults are PyTorch's. Adafactor in
    # PyTorch's form (rsqrt_cap=True, eps_clamp=True, eps=None,
    # min_dim_size_to_factor=1): its beta2_decay is -decay_rate, and its
    # weight_decay λ decays by lr * λ, gradtx's weight_decay_rate. Rprop:
    # backtracking=False (iRprop-).
    "adadelta": lambda kw: {
        "lr": kw["learning_rate"],
        "rho": kw.get("rho", 0.9),
        "eps": kw.get("eps", 1e-6),
        "weight_decay": kw.get("weight_decay", 0.0),
    },
    "adafactor": lambda kw: {
        "lr": kw["learning_rate"],
        "beta2_decay": -kw.get("decay_rate", 0.8),
        "eps": (kw.get("eps"), kw.get("min_scale", 1e-3)),
        "d": kw.get("clipping_threshold", 1.0),
        "weight_decay": (kw.get("weight_decay_rate") or 0.0) / kw["learning_rate"],
    },
    "rprop": lambda kw: {
        "lr": kw["learning_rate"],
        "etas": (kw.get("eta_minus", 0.5), kw.get("eta_plus", 1.2)),
        "step_sizes": (kw.get("min_step_size", 1e-6), kw.get("max_step_size", 50.0)),
    },
    "asgd": lambda kw: {
        "lr": kw["learning_rate"],
        "lambd": kw.get("lambd", 1e-4),
        "alpha": kw.get("alpha", 0.75),
        "t0": kw.get("t0", 1e6),
        "weight_decay": kw.get("weight_decay", 0.0),
    },
    # Muon: torch.optim.Muon's (out, in) layout and decay 0.1 come from the
    # counterpart's gradtx_kwargs; adjust_lr_fn="match_rms_adamw" is
    # consistent_rms=0.2.
    "muon": lambda kw: {
        "lr": kw["learning_rate"],
        "momentum": kw.get("beta", 0.95),
        "nesterov": kw.get("nesterov", True),
        "weight_decay": kw.get("weight_decay", 0.1),
        "eps": kw.get("eps", 1e-8),
        "ns_steps": kw.get("ns_steps", 5),
        "adjust_lr_fn": {None: None, 0.2: "match_rms_adamw"}[kw.get("consistent_rms")],
    },
}

# The hyperparameters each optimizer is compared with (several per optimizer
# where an option changes the rule). Learning rates are large enough that 60
# steps move far from the start.
CASES: dict[str, list[Kwargs]] = {
    "sgd": [
        {"learning_rate": 0.05},
        {"learning_rate": 0.05, "momentum": 0.9},
        {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
    ],
    "adagrad": [{"learning_rate": 0.3}],
    "rmsprop": [
        {"learning_rate": 0.01, "decay": 0.99},
        {"learning_rate": 0.01, "decay": 0.99, "momentum": 0.9, "centered": True},
    ],
    "adam": [{"learning_rate": 0.05}, {"learning_rate": 0.05, "b1": 0.5}],
    "adamw": [{"learning_rate": 0.05, "weight_decay": 0.1}],
    "adamax": [{"learning_rate": 0.05}],
    "amsgrad": [{"learning_rate": 0.05, "b2": 0.99}],
    # momentum_decay 0.1: the momentum schedule moves visibly in 60 steps.
    "nadam": [{"learning_rate": 0.05, "momentum_decay": 0.1}],
    "nadamw": [{"learning_rate": 0.05, "weight_decay": 0.1}],
    "radam": [{"learning_rate": 0.05}],
    "adadelta": [
        {"learning_rate": 1.0},
        {"learning_rate": 0.5, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.1},
    ],
    # lr 0.3: from step 12 on, PyTorch's step is 1/sqrt(t), not lr.
    "adafactor": [
        {"learning_rate": 0.3},
        {
            "learning_rate": 0.05,
            "decay_rate": 0.5,
            "clipping_threshold": 2.0,
            "weight_decay_rate": 0.005,
            "eps": 1e-10,
            "min_scale": 1e-2,
        },
    ],
    "rprop": [
        {"learning_rate": 0.01},
        {
            "learning_rate": 0.05,
            "eta_minus": 0.3,
            "eta_plus": 1.5,
            "min_step_size": 1e-3,
            "max_step_size": 0.2,
        },
    ],
    # PyTorch keeps ASGD's step size and averaging weight in its default dtype
    # (float32): with lambd=0 and a learning rate exact in float32 the step is
    # exact. test_memory_light.py compares the full schedule and the average,
    # in float64.
    "asgd": [
        {"learning_rate": 0.0625, "lambd": 0.0},
        {"learning_rate": 0.0625, "lambd": 0.0, "weight_decay": 0.01},
    ],
    # eps tiny: torch divides by max(|B|, eps), gradtx by |B| + eps (equal to
    # eps / |B|). Only the 2-D leaf (LEAVES).
    "muon": [
        {"learning_rate": 0.02, "eps": 1e-12},
        {
            "learning_rate": 0.02,
            "beta": 0.9,
            "nesterov": False,
            "weight_decay": 0.01,
            "eps": 1e-12,
        },
        {"learning_rate": 0.02, "consistent_rms": 0.2, "eps": 1e-12},
    ],
}


# The leaves torch.optim takes, where not all: torch.optim.Muon takes 2-D
# params only (gradtx.muon sends the others to AdamW).
LEAVES: dict[str, tuple[str, ...]] = {"muon": ("w",)}


def _newton_schulz_in_float64() -> Any:
    """torch.optim.Muon runs Newton-Schulz in bfloat16 (Jordan's choice, for
    speed: 3 significant digits). Here its cast (a copy) keeps float64, so that
    the rest of its rule is compared to 1e-8; tests/optimizers/
    test_second_order.py compares gradtx with the bfloat16 run."""
    return mock.patch.object(torch.Tensor, "bfloat16", torch.Tensor.clone)


# A context each torch optimizer runs in (none: contextlib.nullcontext).
TORCH_CONTEXT: dict[str, Callable[[], Any]] = {"muon": _newton_schulz_in_float64}


def _with_torch() -> list[str]:
    return [n for n, i in optimizers.registry().items() if i.pytorch is not None]


def _problem(
    seed: int = 0, name: str = ""
) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(size=s) for k, s in SHAPES.items()}
    noise = [
        {k: 0.1 * rng.normal(size=s) for k, s in SHAPES.items()} for _ in range(STEPS)
    ]
    keep = LEAVES.get(name, tuple(SHAPES))
    return {k: params[k] for k in keep}, [{k: n[k] for k in keep} for n in noise]


def _grad(p: dict[str, Any], noise: dict[str, Any]) -> dict[str, Any]:
    """The gradient of sum_k c_k/2 |p_k - 1|^2, plus noise (any array type)."""
    return {k: CURVATURE[k] * (p[k] - 1.0) + noise[k] for k in p}


def run_torch(name: str, kw: Kwargs) -> dict[str, np.ndarray]:
    params, noise = _problem(name=name)
    leaves = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for k, v in params.items()
    }
    cls = getattr(torch.optim, optimizers.info(name).pytorch.name.rsplit(".", 1)[1])
    opt = cls(list(leaves.values()), **TORCH[name](kw))
    with TORCH_CONTEXT.get(name, contextlib.nullcontext)():
        for n in noise:
            grads = _grad(
                {k: v.detach() for k, v in leaves.items()},
                {k: torch.tensor(v) for k, v in n.items()},
            )
            for k, v in leaves.items():
                v.grad = grads[k].clone()
            opt.step()
    return {k: v.detach().numpy() for k, v in leaves.items()}


def run_gradtx(name: str, kw: Kwargs) -> dict[str, np.ndarray]:
    params, noise = _problem(name=name)
    info = optimizers.info(name)
    tx = info.fn(**{**info.pytorch.gradtx_kwargs, **kw})

    @jax.jit
    def step(p: Any, state: Any, n: Any) -> tuple[Any, Any]:
        updates, state = tx.update(_grad(p, n), state, p)
        return gradtx.apply_updates(p, updates), state

    p = jax.tree.map(jnp.asarray, params)
    state = tx.init(p)
    for n in noise:
        p, state = step(p, state, jax.tree.map(jnp.asarray, n))
    return jax.tree.map(np.asarray, p)


def test_every_optimizer_with_a_torch_counterpart_is_compared() -> None:
    missing = sorted(set(_with_torch()) - (set(TORCH) & set(CASES)))
    assert not missing, f"add TORCH and CASES rows for {missing}"
    assert set(TORCH) == set(CASES) == set(_with_torch())


@pytest.mark.parametrize(
    ("name", "kw"),
    [(n, kw) for n in sorted(CASES) for kw in CASES[n]],
    ids=lambda x: (
        x if isinstance(x, str) else "-".join(f"{k}={v}" for k, v in x.items())
    ),
)
def test_matches_torch_over_60_steps(name: str, kw: Kwargs) -> None:
    got, want = run_gradtx(name, kw), run_torch(name, kw)
    start = _problem(name=name)[0]
    for k in start:
        assert not np.allclose(want[k], start[k], rtol=1e-3)  # it moved
        np.testing.assert_allclose(
            got[k], want[k], rtol=RTOL, atol=ATOL, err_msg=f"{name} {kw} {k}"
        )


def test_parity_test_can_fail() -> None:
    # Without the keywords that give PyTorch's form, SGD with momentum under a
    # constant learning rate is the same; RMSProp (eps inside the root) is not.
    kw = {"learning_rate": 0.01, "decay": 0.99}
    params, noise = _problem()
    tx = gradtx.rmsprop(**kw, eps=1e-2)  # paper's form, a visible eps

    @jax.jit
    def step(p: Any, state: Any, n: Any) -> tuple[Any, Any]:
        updates, state = tx.update(_grad(p, n), state, p)
        return gradtx.apply_updates(p, updates), state

    p = jax.tree.map(jnp.asarray, params)
    state = tx.init(p)
    for n in noise:
        p, state = step(p, state, jax.tree.map(jnp.asarray, n))
    want = run_torch("rmsprop", {**kw, "eps": 1e-2})
    assert not np.allclose(np.asarray(p["b"]), want["b"], rtol=RTOL, atol=ATOL)


def test_asgd_average_matches_torch() -> None:
    """ASGD's whole schedule (lambd, alpha) and its average ``ax`` (read with
    ``gradtx.asgd_eval_params``), 60 steps, with PyTorch's default dtype
    float64 so that its step size and averaging weight (kept in that dtype)
    are exact."""
    kw = {"learning_rate": 0.05, "lambd": 0.05, "alpha": 0.6, "t0": 20.0}
    kw["weight_decay"] = 0.01
    params, noise = _problem()
    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        opt = torch.optim.ASGD(list(leaves.values()), **TORCH["asgd"](kw))
        for n in noise:
            grads = _grad(
                {k: v.detach() for k, v in leaves.items()},
                {k: torch.tensor(v) for k, v in n.items()},
            )
            for k, v in leaves.items():
                v.grad = grads[k].clone()
            opt.step()
    finally:
        torch.set_default_dtype(previous)
    tx = gradtx.asgd(**kw)

    @jax.jit
    def step(p: Any, state: Any, n: Any) -> tuple[Any, Any]:
        updates, state = tx.update(_grad(p, n), state, p)
        return gradtx.apply_updates(p, updates), state

    p = jax.tree.map(jnp.asarray, params)
    state = tx.init(p)
    for n in noise:
        p, state = step(p, state, jax.tree.map(jnp.asarray, n))
    average = gradtx.asgd_eval_params(state)
    for k, v in leaves.items():
        np.testing.assert_allclose(p[k], v.detach().numpy(), rtol=RTOL, atol=ATOL)
        want = opt.state[v]["ax"].numpy()
        assert not np.allclose(want, v.detach().numpy(), rtol=1e-3)  # averaged
        np.testing.assert_allclose(average[k], want, rtol=RTOL, atol=ATOL)
