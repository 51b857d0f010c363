"""Packaging by layer: the core needs JAX and NumPy only; each extra adds one layer.

``import gradtx`` must not import Flax, orbax, scikit-learn or matplotlib;
``gradtx.nn``, ``gradtx.checkpoint`` and ``gradtx.compare`` load on first use,
and without their extra they fail with one line naming it. Checked in a fresh
interpreter, where nothing was imported before.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
import textwrap
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEAVY = ["flax", "orbax", "sklearn", "matplotlib", "optax", "tensorstore"]

PROBE = textwrap.dedent(
    """
    import json, sys
    HEAVY = json.loads(sys.argv[2])
    blocked = sys.argv[1].split(",") if len(sys.argv) > 1 and sys.argv[1] else []
    for name in blocked:  # as if not installed
        sys.modules[name] = None
    import gradtx
    out = {"after_import": sorted(
        {m.split(".")[0] for m in sys.modules if sys.modules[m] is not None}
        & set(HEAVY)
    )}
    for sub in ("nn", "checkpoint", "compare"):
        try:
            out[sub] = type(getattr(gradtx, sub)).__name__
        except ImportError as e:
            out[sub] = "ImportError: " + str(e)
    out["dir"] = [n for n in ("nn", "checkpoint", "compare") if n in dir(gradtx)]
    print(json.dumps(out))
    """
)


def _probe(*blocked: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(blocked), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_import_gradtx_loads_no_extra_and_subpackages_load_on_use() -> None:
    out = _probe()
    assert out["after_import"] == []
    assert out["nn"] == out["checkpoint"] == out["compare"] == "module"
    assert out["dir"] == ["nn", "checkpoint", "compare"]


def test_a_missing_extra_is_one_line_naming_it() -> None:
    out = _probe("flax", "orbax", "sklearn")
    expected = {
        "nn": "pip install 'gradtx[nn]'",
        "checkpoint": "pip install 'gradtx[checkpoint]'",
        "compare": "pip install 'gradtx[compare]'",
    }
    for sub, hint in expected.items():
        message = str(out[sub])
        assert message.startswith(f"ImportError: gradtx.{sub} needs "), message
        assert message.endswith(hint) and "\n" not in message, message


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_dependencies_are_declared_by_layer() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _names(project["dependencies"]) == {"jax", "jaxlib", "numpy"}
    extras = {k: _names(v) for k, v in project["optional-dependencies"].items()}
    assert extras["nn"] == {"flax"}
    assert extras["checkpoint"] == {"orbax-checkpoint"}
    assert extras["compare"] == {"flax", "scikit-learn", "matplotlib"}
    layers = extras["nn"] | extras["checkpoint"] | extras["compare"]
    assert extras["all"] == layers
    assert layers <= extras["test"]


def test_import_gradtx_does_not_import_flax_or_optax() -> None:
    code = (
        "import sys, gradtx; "
        "print(sorted(m for m in ('flax', 'optax') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
