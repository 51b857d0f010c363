"""``python -m gradtx compare`` / ``gradtx compare``: the command line."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "main_entry"]

EXAMPLES = """\
examples:
  gradtx compare                                   # 7 optimizers x 3 seeds on digits
  gradtx compare --optimizers sgd momentum adam --learning-rates 0.01 0.1
  gradtx compare --optimizers adam --dropout 0 0.3 --batchnorm --augment off light
  gradtx compare --task breast_cancer --activation relu tanh gelu --epochs 20
  gradtx compare --config variants.toml --out results/
config file (TOML or JSON):
  variants = [{optimizer = "adam", learning_rate = 1e-3},
              {optimizer = "sgd", schedule = "cosine"}]
  [grid]                   # and/or a cross product
  weight_decay = [0.0, 1e-4]
"""


def _floats(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name}: {text!r} is not a number"
            ) from None

    return parse


def _clip(text: str) -> float | None:
    return None if text.lower() in ("none", "off", "0") else _floats("--clip")(text)


def parser() -> argparse.ArgumentParser:
    from gradtx.compare._tasks import TASKS
    from gradtx.compare._variants import AUGMENTS, OPTIMIZERS, SCHEDULES

    top = argparse.ArgumentParser(
        prog="gradtx", description="gradtx: compare training techniques side by side."
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="compare")
    p = sub.add_parser(
        "compare",
        help="train variants side by side; print a table, save a figure and data",
        description="Train several variants of a small network on real data, "
        "vectorized over seeds and learning rates, and compare them. Every axis "
        "takes one or more values; the variants are their cross product.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a = p.add_argument
    a(
        "--task",
        default="digits",
        help=f"the data set: {', '.join(TASKS)} "
        "(default: digits, a CNN; the others are tabular, an MLP)",
    )
    a(
        "--optimizers",
        nargs="+",
        default=list(OPTIMIZERS),
        metavar="NAME",
        help=f"any of {', '.join(OPTIMIZERS)} (default: all)",
    )
    a(
        "--learning-rates",
        nargs="+",
        type=_floats("--learning-rates"),
        metavar="LR",
        help="a grid of peak learning rates (default: each optimizer's own)",
    )
    a(
        "--schedule",
        nargs="+",
        default=["constant"],
        metavar="NAME",
        help=f"learning-rate schedules: {', '.join(SCHEDULES)} (default: constant)",
    )
    a(
        "--weight-decay",
        nargs="+",
        type=_floats("--weight-decay"),
        default=[None],
        metavar="WD",
        help="decoupled for adamw, L2 otherwise (default: 0.01 for adamw, 0 for "
        "the others)",
    )
    a(
        "--clip",
        nargs="+",
        type=_clip,
        default=[None],
        metavar="NORM",
        help="global gradient-norm clip, or none (default: none)",
    )
    a(
        "--init",
        nargs="+",
        default=["he_normal"],
        metavar="NAME",
        help="weight initializers from gradtx.init (default: he_normal)",
    )
    a(
        "--activation",
        nargs="+",
        default=["relu"],
        metavar="NAME",
        help="activations from gradtx.activations (default: relu)",
    )
    a(
        "--dropout",
        nargs="+",
        type=_floats("--dropout"),
        default=[0.0],
        metavar="RATE",
        help="dropout rates before the classifier (default: 0)",
    )
    bn = p.add_mutually_exclusive_group()
    bn.add_argument(
        "--batchnorm",
        dest="batchnorm",
        action="store_const",
        const=[True],
        help="BatchNorm after each hidden layer",
    )
    bn.add_argument(
        "--no-batchnorm",
        dest="batchnorm",
        action="store_const",
        const=[False],
        help="no BatchNorm (default)",
    )
    bn.add_argument(
        "--batchnorm-both",
        dest="batchnorm",
        action="store_const",
        const=[False, True],
        help="compare with and without",
    )
    a(
        "--augment",
        nargs="+",
        default=["off"],
        metavar="NAME",
        help=f"augmentation pipelines: {', '.join(AUGMENTS)} (image tasks; "
        "default: off)",
    )
    a("--epochs", type=int, default=10, help="passes over the data (default: 10)")
    a("--batch-size", type=int, default=64, help="examples per step (default: 64)")
    a("--seeds", type=int, default=3, help="seeds per variant (default: 3)")
    a("--config", type=Path, help="a TOML/JSON file of variants (replaces the axes)")
    a(
        "--out",
        type=Path,
        default=Path("gradtx-compare"),
        help="where the figure, JSON and CSV go (default: ./gradtx-compare/)",
    )
    a("--quiet", action="store_true", help="no progress bar")
    return top


def _variants(args: argparse.Namespace) -> list[Any]:
    from gradtx.compare._variants import grid, load_config

    if args.config is not None:
        return load_config(args.config)
    axes: dict[str, Sequence[Any]] = {
        "optimizer": args.optimizers,
        "schedule": args.schedule,
        "weight_decay": args.weight_decay,
        "clip": args.clip,
        "init": args.init,
        "activation": args.activation,
        "dropout": args.dropout,
        "batchnorm": args.batchnorm or [False],
        "augment": args.augment,
    }
    if args.learning_rates:
        axes["learning_rate"] = args.learning_rates
    return grid(**axes)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status (2 for a usage error)."""
    args = parser().parse_args(argv)
    try:
        from gradtx.compare._run import run

        variants = _variants(args)
        if args.seeds < 1 or args.epochs < 1 or args.batch_size < 1:
            raise ValueError("--seeds, --epochs and --batch-size must be >= 1.")
        start = time.perf_counter()
        results = run(
            variants,
            args.task,
            seeds=args.seeds,
            epochs=args.epochs,
            batch_size=args.batch_size,
            progress=not args.quiet,
        )
    except (ValueError, TypeError) as err:
        print(f"gradtx compare: error: {err}", file=sys.stderr)
        return 2
    print()
    print(results.table())
    out = args.out
    files = [
        results.plot(out / "compare.png"),
        results.to_json(out / "results.json"),
        results.to_csv(out / "results.csv"),
    ]
    print(
        f"\n{len(variants)} variants x {args.seeds} seeds in "
        f"{time.perf_counter() - start:.1f} s; wrote {', '.join(map(str, files))}"
    )
    return 0


def main_entry() -> None:
    """The ``gradtx`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    main_entry()
