"""L-BFGS, its line searches, and Muon: NumPy references, optax, PyTorch,
convergence, errors.

The references (``numpy_reference_second_order.py``) are written from
Nocedal & Wright's algorithms and Jordan's Muon; the strong Wolfe search is
SciPy's. L-BFGS and the line searches need an objective, not a list of
gradients: they run on smooth problems of the harness's params, every step
compared (float64, ``rtol=1e-10``). optax parity of the registered examples
runs in ``tests/catalogue``; here ``lbfgs()`` against ``optax.lbfgs()`` with
its line search, and Muon's options against ``optax.contrib.muon``. PyTorch:
``torch.optim.Muon`` rows are in ``test_torch_parity.py``; ``torch.optim.LBFGS``
is compared here (see ``gradtx.lbfgs``'s docstring for why it is not a
keyword away).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from typing import Any
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
from tests.optimizers import numpy_reference_second_order as ref
from tests.optimizers.harness import (
    ATOL,
    RTOL,
    assert_trees_close,
    make_problem,
    run_gradtx,
    run_reference,
)
from tests.optimizers.problems import A, C, cosine, quadratic, rosenbrock

torch = pytest.importorskip("torch")

Tree = dict[str, Any]

# ------------------------------------------------------------- problems

CURVATURE = {"w": 1.0, "b": 0.3, "scalar": 2.0}


def smooth(p: Tree) -> jax.Array:
    """sum_k c_k/2 |p_k - 1|^2 + |p_k - 1|^4 / 4: smooth, convex, not quadratic."""
    return sum(
        CURVATURE[k] / 2 * jnp.sum(jnp.abs(p[k] - 1) ** 2)
        + jnp.sum(jnp.abs(p[k] - 1) ** 4) / 4
        for k in p
    )


def smooth_grad(p: Tree) -> Tree:
    """Its gradient, the descent direction's negative also for complex params."""
    return {
        k: CURVATURE[k] * (p[k] - 1) + np.abs(p[k] - 1) ** 2 * (p[k] - 1) for k in p
    }


B = 5.0  # a milder Rosenbrock: L-BFGS needs ~30 steps and its line search zooms


def chain_rosenbrock(p: Tree) -> jax.Array:
    """sum_i B (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 over the leaves in key order."""
    x = jnp.concatenate([jnp.ravel(p[k]) for k in sorted(p)])
    return jnp.sum(B * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


# Shared by several tests (one compile): lbfgs() on Rosenbrock and the quadratic.
LBFGS = gradtx.lbfgs()
ROSENBROCK_X0 = {"x": np.array([-1.2, 1.0])}


def rosenbrock_x(p: Tree) -> jax.Array:
    return rosenbrock(p["x"])


def quadratic_x(p: Tree) -> jax.Array:
    return quadratic(p["x"])


def chain_rosenbrock_np(x: np.ndarray) -> float:
    return float(np.sum(B * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def chain_rosenbrock_grad(x: np.ndarray) -> np.ndarray:
    r = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[1:] += 2 * B * r
    g[:-1] += -4 * B * r * x[:-1] - 2 * (1 - x[:-1])
    return g


# (tx, f, objective) -> its jitted step, kept with tx and f (so ids stay unique):
# tests that run the same optimizer on the same objective share one compile.
_STEPS: dict[tuple[int, int, bool], tuple[Any, Any, Any]] = {}


def trajectory(
    tx: Any, x0: Any, f: Callable[[Any], jax.Array], steps: int, objective: bool = True
) -> list[Any]:
    """The params after each of ``steps`` steps of one jitted step function.

    The updates are ``conj(grad)`` (the descent direction's negative, also for
    complex params); with ``objective``, ``update`` gets the value, JAX's
    gradient and ``f``.
    """
    key = (id(tx), id(f), objective)
    if key not in _STEPS:

        @jax.jit
        def step(x: Any, state: Any) -> tuple[Any, Any]:
            value, grad = jax.value_and_grad(f)(x)
            kw = {"value": value, "grad": grad, "value_fn": f} if objective else {}
            updates, state = tx.update(jax.tree.map(jnp.conj, grad), state, x, **kw)
            return gradtx.apply_updates(x, updates), state

        _STEPS[key] = (tx, f, step)
    step = _STEPS[key][2]
    x = jax.tree.map(jnp.asarray, x0)
    state, out = tx.init(x), []
    for _ in range(steps):
        x, state = step(x, state)
        out.append(jax.tree.map(np.asarray, x))
    return out


def assert_same_path(got: list[Tree], want: list[Tree], rtol: float = RTOL) -> None:
    assert len(got) == len(want)
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        for k in b:
            np.testing.assert_allclose(
                a[k], b[k], rtol=rtol, atol=ATOL, err_msg=f"{k}@{i}"
            )


# ------------------------------------------------ NumPy references, float64

# name -> (gradtx's L-BFGS with a fixed step, the reference's arguments, dtype).
# Rates at which 50 steps still move (the distance to the minimum is ~1e-3).
LBFGS_CASES = {
    "lbfgs-memory_3": (
        lambda: gradtx.lbfgs(0.2, 3, linesearch=None),
        (0.2, {"memory_size": 3}),
        np.float64,
    ),
    "lbfgs-no_scaling": (
        lambda: gradtx.lbfgs(0.1, scale_init_precond=False, linesearch=None),
        (0.1, {"scale_init_precond": False}),
        np.float64,
    ),
    # memory_size 10 (optax's default), complex params.
    "lbfgs-complex": (
        lambda: gradtx.lbfgs(0.2, linesearch=None),
        (0.2, {}),
        np.complex128,
    ),
}


@pytest.mark.parametrize("name", LBFGS_CASES)
def test_lbfgs_matches_nocedal_wright(name: str) -> None:
    make, (lr, kwargs), dtype = LBFGS_CASES[name]
    p0, _ = make_problem(dtype=dtype)
    got = trajectory(make(), p0, smooth, 50, objective=False)
    lbfgs, x, want = ref.LBFGS(**kwargs), ref.flat(p0), []
    for _ in range(50):
        x = x + lr * lbfgs.direction(x, ref.flat(smooth_grad(ref.unflat(x, p0))))
        want.append(ref.unflat(x, p0))
    assert_same_path(got, want)
    assert max(np.max(np.abs(want[-1][k] - p0[k])) for k in p0) > 1.0  # it moved


def test_lbfgs_zoom_matches_the_strong_wolfe_search_of_nocedal_wright() -> None:
    # Nocedal & Wright's conditions alone (approx_dec_rtol=None), from step 1.
    search = gradtx.scale_by_zoom_linesearch(
        20, approx_dec_rtol=None, initial_guess_strategy="one"
    )
    p0, _ = make_problem()
    got = trajectory(gradtx.lbfgs(linesearch=search), p0, chain_rosenbrock, 30)
    lbfgs, x, want = ref.LBFGS(), ref.flat(p0), []
    f, grad = chain_rosenbrock_np, chain_rosenbrock_grad
    for _ in range(30):
        d = lbfgs.direction(x, grad(x))
        x = x + ref.wolfe_step(f, grad, x, d, c1=1e-4, c2=0.9) * d
        want.append(ref.unflat(x, p0))
    assert_same_path(got, want)
    assert chain_rosenbrock_np(ref.flat(want[-1])) < 1e-6 * chain_rosenbrock_np(
        ref.flat(p0)
    )


def test_backtracking_matches_armijo() -> None:
    tx = gradtx.chain(gradtx.scale(-1.0), gradtx.scale_by_backtracking_linesearch(15))
    p0, _ = make_problem()
    got = trajectory(tx, p0, chain_rosenbrock, 30)
    search, x, want = ref.Backtracking(15), ref.flat(p0), []
    for _ in range(30):
        g = chain_rosenbrock_grad(x)
        x = x - search.step(chain_rosenbrock_np, x, -g, g) * g
        want.append(ref.unflat(x, p0))
    assert_same_path(got, want)


MUON_CASES = {
    # Jordan 2024: Nesterov, no bias correction; also complex params.
    "muon": (lambda: gradtx.muon(0.02), lambda: ref.Muon(0.02), np.float64),
    "muon-complex": (lambda: gradtx.muon(0.02), lambda: ref.Muon(0.02), np.complex128),
    # optax's form.
    "muon-bias_correction": (
        lambda: gradtx.muon(0.02, bias_correction=True),
        lambda: ref.Muon(0.02, bias_correction=True),
        np.float64,
    ),
    "muon-no_nesterov-decay": (
        lambda: gradtx.muon(0.02, beta=0.9, weight_decay=0.1, nesterov=False),
        lambda: ref.Muon(0.02, 0.9, nesterov=False, weight_decay=0.1),
        np.float64,
    ),
    "muon-adaptive-consistent_rms": (
        lambda: gradtx.muon(0.02, adaptive=True, consistent_rms=0.2),
        lambda: ref.Muon(0.02, adaptive=True, consistent_rms=0.2),
        np.float64,
    ),
}


@pytest.mark.parametrize("name", MUON_CASES)
def test_muon_matches_jordan(name: str) -> None:
    make, make_ref, dtype = MUON_CASES[name]
    params, grads = make_problem(dtype=dtype)
    got = run_gradtx(make(), params, grads)
    want = run_reference(make_ref(), params, grads)
    assert_trees_close(got, want, RTOL, ATOL)
    assert np.max(np.abs(want["w"] - params["w"])) > 0.1  # it moved


# ------------------------------------------------------------- optax


def test_lbfgs_is_optax_lbfgs_with_its_line_search() -> None:
    """``lbfgs()`` is ``optax.lbfgs()``, defaults and all (float64: under
    jax_enable_x64, optax computes its scalars in float64 whatever the params'
    dtype). It also reaches Rosenbrock's minimum, exactly."""
    ours = trajectory(LBFGS, ROSENBROCK_X0, rosenbrock_x, 45)
    theirs = trajectory(optax.lbfgs(), ROSENBROCK_X0, rosenbrock_x, 45)
    assert_same_path(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(ours[-1]["x"], [1.0, 1.0], rtol=0, atol=1e-12)


def test_zoom_with_the_keep_strategy_is_optax_s() -> None:
    ours = gradtx.chain(gradtx.sgd(1e-3), gradtx.scale_by_zoom_linesearch(10))
    theirs = optax.chain(optax.sgd(1e-3), optax.scale_by_zoom_linesearch(10))
    assert_same_path(
        trajectory(ours, ROSENBROCK_X0, rosenbrock_x, 15),
        trajectory(theirs, ROSENBROCK_X0, rosenbrock_x, 15),
    )


def test_backtracking_with_slope_rtol_0_is_optax_s_simple_decrease() -> None:
    """``slope_rtol=0`` (c = 0) asks only for f(w + ηu) <= f(w): optax's path,
    and f never increases."""
    ls: dict[str, Any] = {"max_backtracking_steps": 50, "slope_rtol": 0.0}
    ours = gradtx.chain(
        gradtx.scale(-1.0), gradtx.scale_by_backtracking_linesearch(**ls)
    )
    theirs = optax.chain(
        optax.scale(-1.0), optax.scale_by_backtracking_linesearch(**ls)
    )
    got = trajectory(ours, ROSENBROCK_X0, rosenbrock_x, 20)
    assert_same_path(got, trajectory(theirs, ROSENBROCK_X0, rosenbrock_x, 20))
    values = [float(rosenbrock_x(x)) for x in [ROSENBROCK_X0, *got]]
    assert all(b <= a for a, b in itertools.pairwise(values))
    assert values[-1] < values[0] / 2


FLOATS = [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64]
SEARCHES: dict[str, Callable[[Any], Any]] = {
    # optax's test_dtype_stability, with factors in range (its 1e-5 is not).
    "backtracking": lambda a: gradtx.scale_by_backtracking_linesearch(
        5, a(1e-5), a(0.5), a(1.5), a(1e-5), a(1e-5), a(1e-5)
    ),
    "backtracking-inf": lambda a: gradtx.scale_by_backtracking_linesearch(
        5, increase_factor=a(np.inf), max_learning_rate=a(2.0)
    ),
    "zoom": lambda a: gradtx.scale_by_zoom_linesearch(
        5, None, a(1e-5), a(2.0), a(1e-5), a(0.9), a(1e-5), a(1e-5)
    ),
}


@pytest.mark.parametrize("search", SEARCHES)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.__name__)
def test_line_search_states_keep_init_s_dtypes(search: str, dtype: Any) -> None:
    """Hyperparameters that are arrays of another dtype, a value_fn returning
    yet another, a Python float value: update's state has init's structure and
    dtypes, so ``lax.cond`` takes it (also inside a trace)."""
    x = jnp.array([1.0, 2.0], dtype)
    dtypes = lambda t: jax.tree.map(lambda a: a.dtype, t)  # noqa: E731
    for other in FLOATS:
        tx = SEARCHES[search](lambda v, other=other: jnp.array(v, other))
        state = tx.init(x)
        new = _update_in_cond(tx, state, x, other)
        assert dtypes(new) == dtypes(state)


def _update_in_cond(tx: Any, state: Any, x: jax.Array, other: Any) -> Any:
    """The state after an update in one branch of a ``lax.cond``, with a
    value_fn returning ``other``."""
    f = lambda w: jnp.sum(w**2).astype(other)  # noqa: E731
    return jax.lax.cond(
        jax.random.randint(jax.random.key(0), (), 0, 2) == 0,
        lambda w: tx.update(w, state, w, value=1.0, grad=w, value_fn=f)[1],
        lambda w: state,
        x,
    )


def test_value_and_grad_from_state_takes_a_python_float_objective() -> None:
    """Before the first step (the state's value is inf) it computes value and
    gradient, also of a value_fn returning a Python float, in the state's
    dtypes; after a step it returns those the line search kept."""
    f = lambda w: jnp.sum(w**2)  # noqa: E731
    search = gradtx.scale_by_backtracking_linesearch(15, store_grad=True)
    tx = gradtx.chain(gradtx.sgd(1.0), search)
    w = jnp.array([1.0, 2.0, 3.0], jnp.float32)
    state = tx.init(w)
    constant = jax.jit(gradtx.value_and_grad_from_state(lambda _: 1.0))
    value, grad = constant(w, state=state)
    assert value.dtype == grad.dtype == jnp.float32
    assert float(value) == 1.0
    np.testing.assert_array_equal(grad, np.zeros(3))
    value, grad = jax.value_and_grad(f)(w)
    _, state = tx.update(grad, state, w, value=value, grad=grad, value_fn=f)
    value, grad = constant(w, state=state)
    assert float(value) == float(gradtx.tree_get(state, "value")) != 1.0
    np.testing.assert_array_equal(grad, gradtx.tree_get(state, "grad"))


MUON_OPTIONS: list[dict[str, Any]] = [
    {
        "muon_weight_dimension_numbers": {
            "kernel": gradtx.MuonDimensionNumbers(),
            "bias": None,
            "conv": gradtx.MuonDimensionNumbers((0, 1, 2), 3),
            "wide": gradtx.MuonDimensionNumbers(1, 0),
        },
        "weight_decay": 0.1,
        "preconditioning": "aol",
        "ns_coeffs": "dion",
    },
    {
        "preconditioning": "schatten",
        "nesterov": False,
        "adaptive": True,
        "consistent_rms": 0.2,
    },
]


@pytest.mark.parametrize("kw", MUON_OPTIONS, ids=["dims-aol-dion", "schatten-adaptive"])
def test_muon_options_are_optax_s(kw: dict[str, Any]) -> None:
    """Each option as optax.contrib.muon has it (float32, 10 steps, 1e-6)."""
    rng = np.random.default_rng(0)
    shapes = {"kernel": (5, 3), "bias": (3,), "conv": (2, 2, 3, 4), "wide": (2, 6)}
    params = {
        k: jnp.asarray(rng.normal(size=s), jnp.float32) for k, s in shapes.items()
    }
    theirs_kw = dict(kw)
    if "muon_weight_dimension_numbers" in kw:
        theirs_kw["muon_weight_dimension_numbers"] = {
            k: None if d is None else optax.contrib.MuonDimensionNumbers(*d)
            for k, d in kw["muon_weight_dimension_numbers"].items()
        }
    f = lambda p: sum(jnp.sum(jnp.cos(x) + 0.5 * x**2) for x in jax.tree.leaves(p))  # noqa: E731
    ours = trajectory(
        gradtx.muon(0.05, bias_correction=True, **kw), params, f, 10, False
    )
    theirs = trajectory(optax.contrib.muon(0.05, **theirs_kw), params, f, 10, False)
    for k in shapes:
        np.testing.assert_allclose(
            ours[-1][k], theirs[-1][k], rtol=0, atol=1e-6, err_msg=k
        )
        assert np.max(np.abs(ours[-1][k] - params[k])) > 0.05


# ----------------------------------------------------------- convergence


def test_lbfgs_solves_the_quadratic_in_float32() -> None:
    # A quasi-Newton method with a Wolfe search on a 5-D quadratic: 15 steps.
    # The tolerance is the gradient's rounding over the curvature: |x - c| ~
    # kappa * eps * |c| = 10 * 1.2e-7 * 1.3. (float64: 1e-12, in
    # test_lbfgs_and_torch_strong_wolfe_reach_the_same_minimum.)
    got = trajectory(LBFGS, {"x": np.zeros(5, np.float32)}, quadratic_x, 15)
    np.testing.assert_allclose(got[-1]["x"], C, rtol=0, atol=2e-6)
    assert got[-1]["x"].dtype == np.float32


def test_muon_solves_a_matrix_quadratic() -> None:
    """f(W) = 1/2 tr((W - C)^T A (W - C)) over a 5 x 3 matrix, 300 steps.

    Muon's step has spectral norm about lr (its singular values, ~0.7-1.2, times
    sqrt(5/3) here): with a constant rate it circles the minimum at that
    distance. A cosine schedule to 1e-3 * 0.05 leaves it within a few final
    steps, 1e-3 (the Frobenius norm of 5 x 3 such steps is < 5 * 5e-5 * 1.6).
    """
    c = np.stack([C, -C, 0.5 * C], axis=1)
    f = lambda p: 0.5 * jnp.sum((p["w"] - c) * (jnp.asarray(A) @ (p["w"] - c)))  # noqa: E731
    tx = gradtx.muon(cosine(0.05, 300))
    w0 = {"w": np.zeros((5, 3))}

    @jax.jit
    def run(w: Any) -> Any:
        def body(carry: Any, _: None) -> tuple[Any, None]:
            w, state = carry
            u, state = tx.update(jax.grad(f)(w), state, w)
            return (gradtx.apply_updates(w, u), state), None

        return jax.lax.scan(body, (w, tx.init(w)), length=300)[0][0]

    np.testing.assert_allclose(run(w0)["w"], c, rtol=0, atol=1e-3)


# ------------------------------------------------------------ PyTorch


def _torch_lbfgs(
    x0: np.ndarray, f: Callable[[Any], Any], steps: int, **kw: Any
) -> list:
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([x], **kw)

    def closure() -> Any:
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        return loss

    out = []
    for _ in range(steps):
        opt.step(closure)
        out.append({"x": x.detach().numpy().copy()})
    return out


def _quadratic_torch(x: Any) -> Any:
    d = x - torch.tensor(C)
    return 0.5 * d @ (torch.tensor(A) @ d)


def test_lbfgs_takes_torch_s_fixed_steps_where_their_first_steps_agree() -> None:
    """``LBFGS(p, lr, max_iter=1, history_size=m, tolerance_grad=0,
    tolerance_change=0)`` is ``lbfgs(lr, m, linesearch=None)`` when its first
    step, lr * min(1, 1/|g|_1) * g, is gradtx's lr * min(1, 1/|g|_2) * g:
    from a point where |g|_1 <= 1. On a strongly convex quadratic <y, s> =
    s^T A s stays above torch's 1e-10, so it skips no pair."""
    rng = np.random.default_rng(1)
    x0 = C + 0.05 * rng.normal(size=5)
    assert np.sum(np.abs(A @ (x0 - C))) <= 1
    kw = {"max_iter": 1, "history_size": 4, "tolerance_grad": 0, "tolerance_change": 0}
    want = _torch_lbfgs(x0, _quadratic_torch, 15, lr=0.5, **kw)
    tx = gradtx.lbfgs(0.5, 4, linesearch=None)
    got = trajectory(tx, {"x": x0}, quadratic_x, 15, False)
    assert_same_path(got, want)
    # From |g|_1 > 1, the first steps differ by exactly |g|_2 / |g|_1.
    x1 = np.zeros(5)
    g = A @ (x1 - C)
    step_torch = _torch_lbfgs(x1, _quadratic_torch, 1, lr=0.5, **kw)[0]["x"] - x1
    step_ours = trajectory(tx, {"x": x1}, quadratic_x, 1, False)
    ratio = np.linalg.norm(g) / np.sum(np.abs(g))
    np.testing.assert_allclose(step_ours[0]["x"] - x1, step_torch / ratio, rtol=1e-12)


@pytest.mark.parametrize("problem", ["quadratic", "rosenbrock"])
def test_lbfgs_and_torch_strong_wolfe_reach_the_same_minimum(problem: str) -> None:
    """With line searches the steps differ (torch's strong Wolfe search takes
    cubic steps only; gradtx's is optax's zoom), the minima do not: 50 steps
    of each end within 1e-12 of it, float64 (torch's tolerances at 0, and
    max_eval: its default, 1 with max_iter=1, leaves its search no evaluation).
    """
    if problem == "quadratic":
        x0, xs, f_t, f = np.zeros(5), C, _quadratic_torch, quadratic_x
    else:
        x0, xs, f = ROSENBROCK_X0["x"], np.ones(2), rosenbrock_x
        f_t = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2  # noqa: E731
    want = _torch_lbfgs(
        x0, f_t, 50, lr=1, max_iter=1, max_eval=25, history_size=10,
        line_search_fn="strong_wolfe", tolerance_grad=1e-14, tolerance_change=0,
    )  # fmt: skip
    got = trajectory(LBFGS, {"x": x0}, f, 50)
    assert (
        max(np.max(np.abs(a["x"] - b["x"])) for a, b in zip(got, want, strict=True))
        > 1e-3
    )
    np.testing.assert_allclose(got[-1]["x"], xs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(want[-1]["x"], xs, rtol=0, atol=1e-12)


def _muon_torch(w0: np.ndarray, target: np.ndarray, steps: int, dtype: Any) -> list:
    w = torch.tensor(w0, dtype=dtype, requires_grad=True)
    opt = torch.optim.Muon([w], lr=0.02)
    out = []
    for _ in range(steps):
        w.grad = w.detach() - torch.tensor(target, dtype=dtype)
        opt.step()
        out.append({"w": w.detach().numpy().astype(np.float64)})
    return out


@pytest.mark.parametrize("newton_schulz", ["float64", "bfloat16"])
def test_muon_is_torch_muon_on_a_tall_matrix(newton_schulz: str) -> None:
    """``torch.optim.Muon(p, lr)`` is ``muon(lr, weight_decay=0.1,
    muon_weight_dimension_numbers=MuonDimensionNumbers(1, 0))`` (its (out,
    in) layout: a 4 x 3 weight is scaled by sqrt(4/3), not 1).

    Its Newton-Schulz runs in bfloat16: with that cast made a float64 copy
    (and eps 1e-12, where its max(|B|, eps) and gradtx's |B| + eps agree) the
    30 steps agree to 1e-10. As it is, one step differs by under 3% (bfloat16
    keeps 8 bits: a few roundings of 2^-9 through five steps), and 30 steps
    of at most lr * 1.4 each by under 30 * 3% * 0.02 * 1.4 = 0.025.
    """
    rng = np.random.default_rng(0)
    w0, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    exact = newton_schulz == "float64"
    eps = 1e-12 if exact else 1e-7
    layout = gradtx.MuonDimensionNumbers(reduction_axis=1, output_axis=0)
    tx = gradtx.muon(
        0.02, eps=eps, weight_decay=0.1, muon_weight_dimension_numbers=layout
    )
    f = lambda p: 0.5 * jnp.sum((p["w"] - target) ** 2)  # noqa: E731
    got = trajectory(tx, {"w": w0}, f, 30, objective=False)
    patch = mock.patch.object(torch.Tensor, "bfloat16", torch.Tensor.clone)
    with patch if exact else contextlib.nullcontext():
        want = _muon_torch(w0, target, 30, torch.float64)
    if exact:
        assert_same_path(got, want)
        return
    first = np.linalg.norm(got[0]["w"] - want[0]["w"]) / np.linalg.norm(
        want[0]["w"] - w0
    )
    assert 1e-4 < first < 0.03  # bfloat16's rounding, and only that
    assert np.max(np.abs(got[-1]["w"] - want[-1]["w"])) < 0.025


# ------------------------------------------------- extra arguments, state


def test_value_fn_gets_the_extra_arguments_and_the_state_reuses_values() -> None:
    def loss(w: jax.Array, batch: jax.Array) -> jax.Array:
        return jnp.sum((w - batch) ** 2)

    tx = gradtx.lbfgs()
    value_and_grad = gradtx.value_and_grad_from_state(loss)

    @jax.jit
    def step(w: jax.Array, state: Any, batch: jax.Array) -> tuple[Any, Any]:
        value, grad = value_and_grad(w, batch, state=state)
        u, state = tx.update(
            grad, state, w, value=value, grad=grad, value_fn=loss, batch=batch
        )
        return gradtx.apply_updates(w, u), state

    w, batch = jnp.zeros(3), jnp.array([1.0, 2.0, 3.0])
    state = tx.init(w)
    for _ in range(2):
        w, state = step(w, state, batch)
        # The line search kept the value at the step taken, for the next step.
        kept = float(gradtx.tree_get(state, "value"))
        assert kept == pytest.approx(float(loss(w, batch)))
    np.testing.assert_allclose(w, batch, rtol=1e-6)
    message = r"lbfgs: Unexpected keyword arguments \['x'\] passed to update"
    with pytest.raises(TypeError, match=message):
        tx.update(w, state, w, value=1.0, grad=w, value_fn=loss, batch=batch, x=1)


def test_a_complex_objective_descends() -> None:
    """The slope is Re sum u g with g JAX's gradient, at the start as at every
    trial point: L-BFGS with its line search solves a complex quadratic."""
    c = jnp.array([1 + 2j, -1j, 3.0])
    f = lambda p: jnp.sum(jnp.abs(p["z"] - c) ** 2 * jnp.array([1.0, 4.0, 9.0]))  # noqa: E731
    got = trajectory(LBFGS, {"z": np.zeros(3, np.complex128)}, f, 10)
    np.testing.assert_allclose(got[-1]["z"], c, rtol=0, atol=1e-8)


# ---------------------------------------------------------------- errors

ERRORS = [
    (lambda: gradtx.lbfgs(memory_size=0), ValueError, "lbfgs: memory_size is 0"),
    (lambda: gradtx.lbfgs(linesearch=gradtx.adam), TypeError, "lbfgs: linesearch is"),
    (lambda: gradtx.lbfgs(-1.0), ValueError, "lbfgs: learning_rate"),
    (lambda: gradtx.scale_by_lbfgs(2.5), ValueError, "scale_by_lbfgs: memory_size"),
    (
        lambda: gradtx.scale_by_zoom_linesearch(0),
        ValueError,
        "scale_by_zoom_linesearch: max_linesearch_steps is 0",
    ),
    (
        lambda: gradtx.scale_by_zoom_linesearch(9, slope_rtol=1.5),
        ValueError,
        r"scale_by_zoom_linesearch: slope_rtol must be in \(0, 1\)",
    ),
    (
        lambda: gradtx.scale_by_zoom_linesearch(9, initial_guess_strategy="once"),
        ValueError,
        "initial_guess_strategy='once' is not valid.*Did you mean 'one'",
    ),
    (
        lambda: gradtx.scale_by_zoom_linesearch(9, increase_factor=1.0),
        ValueError,
        r"scale_by_zoom_linesearch: increase_factor must be in \(1, inf\)",
    ),
    (
        lambda: gradtx.scale_by_backtracking_linesearch(9, slope_rtol=1.0),
        ValueError,
        r"scale_by_backtracking_linesearch: slope_rtol must be in \[0, 1\)",
    ),
    (
        lambda: gradtx.scale_by_backtracking_linesearch(9, increase_factor=1e-5),
        ValueError,
        r"scale_by_backtracking_linesearch: increase_factor must be in \[1, inf\)",
    ),
    (
        lambda: gradtx.scale_by_backtracking_linesearch(9, decrease_factor=1.0),
        ValueError,
        r"scale_by_backtracking_linesearch: decrease_factor must be in \(0, 1\)",
    ),
    (lambda: gradtx.muon(0.1, beta=1.0), ValueError, r"muon: beta must be in \[0, 1\)"),
    (lambda: gradtx.muon(0.1, eps=0.0), ValueError, r"muon: eps must be in \(0, inf\)"),
    (
        lambda: gradtx.muon(0.1, ns_coeffs=(1.0, 2.0)),
        ValueError,
        "muon: ns_coeffs must",
    ),
    (
        lambda: gradtx.muon(0.1, ns_coeffs="dino"),
        ValueError,
        "muon: ns_coeffs='dino'.*'dion'",
    ),
    (lambda: gradtx.muon(0.1, ns_steps=0), ValueError, "muon: ns_steps is 0"),
    (
        lambda: gradtx.muon(0.1, preconditioning="polar"),
        ValueError,
        "muon: precondition",
    ),
    (
        lambda: gradtx.muon(0.1, adam_b2=1.0),
        ValueError,
        r"muon: adam_b2 must be in \[0, 1\)",
    ),
    (lambda: gradtx.muon(0.1, mu_dtype=jnp.int32), TypeError, "muon: mu_dtype"),
]


@pytest.mark.parametrize(("make", "error", "message"), ERRORS)
def test_bad_hyperparameters_name_the_function(
    make: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        make()


def test_bad_updates_name_the_leaf_and_the_fix() -> None:
    params = {"w": jnp.ones((2, 2)), "b": jnp.ones(2)}
    tx = gradtx.lbfgs()
    with pytest.raises(TypeError, match=r"lbfgs: update needs the objective.*value_fn"):
        tx.update(params, tx.init(params), params)
    tx = gradtx.scale_by_lbfgs()
    with pytest.raises(ValueError, match="scale_by_lbfgs: params is None"):
        tx.update(params, tx.init(params))
    dims = gradtx.MuonDimensionNumbers()
    tx = gradtx.muon(0.1, muon_weight_dimension_numbers=dims)
    with pytest.raises(ValueError, match=r"muon: updates\['b'\] has shape \(2,\)"):
        tx.update(params, tx.init(params), params)
    tx = gradtx.scale_by_muon()
    with pytest.raises(ValueError, match=r"scale_by_muon: updates\['b'\].*matrices"):
        tx.update(params, tx.init(params), params)
    tx = gradtx.chain(gradtx.scale(-1.0), gradtx.scale_by_backtracking_linesearch(5))
    with pytest.raises(
        ValueError, match="value_and_grad_from_state: the state holds no"
    ):
        gradtx.value_and_grad_from_state(lambda p: 0.0)(params, state=tx.init(params))


def test_muon_and_scale_by_muon_default_to_jordan_s_coefficients() -> None:
    import inspect

    ours = inspect.signature(gradtx.muon).parameters["ns_coeffs"].default
    block = inspect.signature(gradtx.scale_by_muon).parameters["ns_coeffs"].default
    assert ours == block == (3.4445, -4.7750, 2.0315)
