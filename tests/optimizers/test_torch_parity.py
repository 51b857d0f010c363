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

from collections.abc import Callable
from typing import Any

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
    "adam": lambda kw: {
        "lr": kw["learning_rate"],
        "betas": (kw.get("b1", 0.9), kw.get("b2", 0.999)),
        "eps": kw.get("eps", 1e-8),
    },
    "adamw": lambda kw: {
        "lr": kw["learning_rate"],
        "betas": (kw.get("b1", 0.9), kw.get("b2", 0.999)),
        "eps": kw.get("eps", 1e-8),
        "weight_decay": kw.get("weight_decay", 1e-4),
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
}


def _with_torch() -> list[str]:
    return [n for n, i in optimizers.registry().items() if i.pytorch is not None]


def _problem(
    seed: int = 0,
) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(size=s) for k, s in SHAPES.items()}
    noise = [
        {k: 0.1 * rng.normal(size=s) for k, s in SHAPES.items()} for _ in range(STEPS)
    ]
    return params, noise


def _grad(p: dict[str, Any], noise: dict[str, Any]) -> dict[str, Any]:
    """The gradient of sum_k c_k/2 |p_k - 1|^2, plus noise (any array type)."""
    return {k: CURVATURE[k] * (p[k] - 1.0) + noise[k] for k in SHAPES}


def run_torch(name: str, kw: Kwargs) -> dict[str, np.ndarray]:
    params, noise = _problem()
    leaves = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for k, v in params.items()
    }
    cls = getattr(torch.optim, optimizers.info(name).pytorch.name.rsplit(".", 1)[1])
    opt = cls(list(leaves.values()), **TORCH[name](kw))
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
    params, noise = _problem()
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
    start = _problem()[0]
    for k in SHAPES:
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
