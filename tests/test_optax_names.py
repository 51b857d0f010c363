"""Every public name of optax's modules is gradtx's too, or listed as left out.

The README's "Names of optax left out" section lists the exceptions, each
with its reason; this test keeps that list exact (a name gradtx gains must
leave the list, a name optax adds must be built or listed).
"""

from __future__ import annotations

import importlib
import pathlib
import re

import optax
import pytest

import gradtx

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"

# optax's module -> gradtx's module at the same address.
MODULES = [
    "",
    ".losses",
    ".tree_utils",
    ".projections",
    ".second_order",
    ".perturbations",
    ".assignment",
    ".microbatching",
    ".contrib",
]


def _left_out() -> set[str]:
    text = README.read_text()
    section = text.split("## Names of optax left out", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section))


def _public(module: object) -> set[str]:
    out = set()
    for n in dir(module):  # the measure: dir(optax)
        if n.startswith("_"):
            continue
        value = getattr(module, n)
        # A module's own imports (optax.tree_utils.functools) are not its API.
        if type(value).__name__ == "module" and not value.__name__.startswith("optax"):
            continue
        out.add(n)
    return out


@pytest.mark.parametrize("suffix", MODULES)
def test_every_optax_name_is_gradtx_s_or_listed(suffix: str) -> None:
    theirs = _public(importlib.import_module("optax" + suffix))
    ours = importlib.import_module("gradtx" + suffix)
    missing = {n for n in theirs if not hasattr(ours, n)}
    unlisted = sorted(missing - _left_out())
    assert not unlisted, (
        f"optax{suffix} has {unlisted}, which gradtx{suffix} lacks: build them, "
        "or list them with the reason in the README's 'Names of optax left out'"
    )


def test_the_left_out_list_names_only_missing_names() -> None:
    present = {
        n
        for suffix in MODULES
        for n in _left_out()
        if hasattr(importlib.import_module("gradtx" + suffix), n)
    }
    assert not present, f"the README lists {sorted(present)} as left out"
    # and each is really optax's
    everywhere = set().union(
        *(_public(importlib.import_module("optax" + s)) for s in MODULES)
    )
    assert _left_out() <= everywhere | {"experimental"} | set(dir(optax))
    assert gradtx.contrib.muon is gradtx.muon
