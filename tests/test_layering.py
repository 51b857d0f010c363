"""The package's layering, read from its source with ``ast`` (issue 15).

- Packages share private code only through the floor, ``gradtx._internal``: a
  module outside it never imports a private module or name (one starting
  with ``_``) of another gradtx package.
- Every input check lives in ``gradtx._internal.validate``: no module outside
  it defines a check helper (a private function named ``check_*`` or
  ``_check_*``), except the few domain checks listed below, each of which
  makes its messages with ``validate``.
- Dependencies point down: the building blocks (``gradtx.transforms``) and
  the combinators (``gradtx.combinators``) never import each other, not even
  public names; what both need (masks, norms, finiteness checks, ``masked``)
  lives below them, in ``gradtx.tree`` and ``gradtx.core``.
"""

from __future__ import annotations

import ast
import fnmatch
import pathlib
from collections.abc import Iterator

ROOT = pathlib.Path(__file__).resolve().parent.parent / "gradtx"
FLOOR = "gradtx._internal"
VALIDATE = ROOT / "_internal" / "validate"

# Domain checks that stay with their domain: they check a value against
# another one (a state, an input's layout, a file), not one argument alone,
# and raise through validate.error. (module path, function name): why.
DOMAIN_CHECKS = {
    ("activations/_gated.py", "_check_even"): "a gated unit splits x in halves",
    ("augment/_compose.py", "_check_stages"): "a pipeline's stages are functions",
    ("augment/_resample.py", "_check_resampling"): "order/mode/cval of 3 functions",
    ("checkpoint/_layout.py", "check_storable"): "leaves a checkpoint can store",
    ("checkpoint/_record.py", "_check"): "a file against its recorded checksum",
    ("combinators/_flatten.py", "_check_dtypes"): "packed updates vs params dtypes",
    ("combinators/_master_weights.py", "_check_master"): "state.master vs params",
    ("compare/_memory.py", "check"): "a comparison's size vs the memory available",
    ("compare/_model.py", "check_network"): "a variant vs the task's network",
    ("losses/_softmax.py", "_check_labels_in_range"): "labels vs the logits' classes",
    ("nn/_batch_stats.py", "check_layout"): "batch norm's feature and ghost axes",
    ("optimizers/_registry.py", "_check_entry"): "an entry vs the registry, its fn",
    ("transforms/_muon.py", "_check_leaf"): "a leaf's shape vs its dimension numbers",
    ("transforms/_rms.py", "_check_rms_args"): "shared by scale_by_rms/stddev",
    ("transforms/_variant_checks.py", "check_eps"): "eps vs eps_root, Adam variants",
    ("tree/_state.py", "_check_value"): "tree_set: a new value vs the old entry",
    ("tree/_state.py", "_check_range"): "tree_set: the same, for values",
}

# Work of issue 15 that other changes are finishing (the public kit in
# gradtx.core, gradtx.tree for masks and norms, the optimizer registry, the
# compare tool). Each entry is (module glob, imported name or check helper
# prefix); delete entries as those changes land.
PENDING_IMPORTS: set[tuple[str, str]] = set()
PENDING_CHECKS: set[tuple[str, str]] = set()

# Packages that must not import each other, in either direction.
NEVER_BOTH_WAYS = [("gradtx.transforms", "gradtx.combinators")]


def _modules() -> Iterator[tuple[str, str, ast.Module]]:
    """(path relative to gradtx/, dotted package of the module, its tree)."""
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        parts = ("gradtx", *rel.with_suffix("").parts)
        package = ".".join(parts[:-1])  # for __init__.py: the package itself
        yield rel.as_posix(), package, ast.parse(path.read_text(), str(path))


def _imported(node: ast.AST, package: str) -> Iterator[str]:
    """The dotted names an import statement brings in (``a.b`` for a module)."""
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: from the package, up level - 1
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, *([base] if base else [])])
        yield from (f"{base}.{a.name}" for a in node.names)


def _private_owner(name: str) -> str | None:
    """The package whose private part ``name`` reaches into, or None."""
    parts = name.split(".")
    if parts[0] != "gradtx":
        return None
    for i, part in enumerate(parts[1:], 1):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def _pending(table: set[tuple[str, str]], rel: str, name: str) -> bool:
    return any(
        fnmatch.fnmatch(rel, glob) and name.startswith(prefix) for glob, prefix in table
    )


def test_no_package_imports_another_packages_private_names() -> None:
    bad = []
    for rel, package, tree in _modules():
        for node in ast.walk(tree):
            for name in _imported(node, package):
                owner = _private_owner(name)
                if (
                    owner is None
                    or owner == package
                    or name.startswith(FLOOR)
                    or _pending(PENDING_IMPORTS, rel, name)
                ):
                    continue
                bad.append(f"gradtx/{rel}:{node.lineno} imports {name}")
    assert not bad, (
        "Private names of another package: make them public there, or move "
        "them to gradtx._internal.\n" + "\n".join(bad)
    )


def _public(tree: ast.Module) -> set[str]:
    """The names in the module's ``__all__``."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return set()


def test_every_check_helper_lives_in_validate() -> None:
    found = set()
    bad = []
    for rel, _, tree in _modules():
        if (ROOT / rel).is_relative_to(VALIDATE):
            continue
        public = _public(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            name = node.name
            if not (
                name.lstrip("_") == "check" or name.lstrip("_").startswith("check_")
            ):
                continue
            if name in public or _pending(PENDING_CHECKS, rel, name):
                continue  # public API (e.g. gradtx.check_updates), or pending
            if (rel, name) in DOMAIN_CHECKS:
                found.add((rel, name))
                continue
            bad.append(f"gradtx/{rel}:{node.lineno} defines {name}")
    assert not bad, (
        "Check helpers outside gradtx._internal.validate: use or extend "
        "validate, or (domain logic only) list them in DOMAIN_CHECKS.\n"
        + "\n".join(bad)
    )
    assert found == set(DOMAIN_CHECKS), (
        f"DOMAIN_CHECKS lists helpers that are gone: {set(DOMAIN_CHECKS) - found}"
    )


def test_transforms_and_combinators_do_not_import_each_other() -> None:
    bad = []
    for rel, package, tree in _modules():
        for a, b in NEVER_BOTH_WAYS:
            for mine, other in ((a, b), (b, a)):
                if not (package == mine or package.startswith(mine + ".")):
                    continue
                for node in ast.walk(tree):
                    for name in _imported(node, package):
                        if name == other or name.startswith(other + "."):
                            bad.append(f"gradtx/{rel}:{node.lineno} imports {name}")
    assert not bad, (
        "gradtx.transforms and gradtx.combinators never import each other: move "
        "what both need down, to gradtx.tree (masks, norms, finiteness) or "
        "gradtx.core (composition).\n" + "\n".join(bad)
    )
