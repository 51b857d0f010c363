"""``python -m gradtx compare`` / ``gradtx compare``: the command line."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from gradtx.compare._interrupt import CtrlC
    from gradtx.compare._run import Comparison

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
exit status:
  0 done; 1 training failed (the finished variants are still written);
  2 a bad flag, value or config, or an --out that cannot be written (one
  line, checked before any training); 130 stopped by Ctrl-C.
Ctrl-C:
  once: finish the group that is training (the variants that differ only in
  numbers train together), write the results of every finished variant and
  exit 130; twice: drop that group at the end of its epoch; three times: quit
  at once, writing nothing more. No file is ever left half written.
"""
# The files written to --out.
FILES = ("compare.png", "results.json", "results.csv")


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line instead of the whole usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    from gradtx.compare._variants import (
        AUGMENTS,
        OPTIMIZERS,
        SCHEDULES,
        default_optimizers,
    )

    top = _Parser(
        prog="gradtx", description="gradtx: compare training techniques side by side."
    )
    sub = top.add_subparsers(
        dest="command", required=True, metavar="compare", parser_class=_Parser
    )
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

    def axis(flag: str, metavar: str, text: str, kind: Any = None) -> None:
        """An axis of the grid: one or more values."""
        a(flag, nargs="+", type=kind, metavar=metavar, help=text)

    a(
        "--task",
        default="digits",
        help=f"the data set: {', '.join(TASKS)} "
        "(default: digits, a CNN; the others are tabular, an MLP)",
    )
    axis(
        "--optimizers",
        "NAME",
        f"any of {', '.join(OPTIMIZERS)} (default: {', '.join(default_optimizers())})",
    )
    axis(
        "--learning-rates",
        "LR",
        "a grid of peak learning rates (default: each optimizer's own)",
        _floats("--learning-rates"),
    )
    axis(
        "--schedule",
        "NAME",
        f"learning-rate schedules: {', '.join(SCHEDULES)} (default: constant)",
    )
    axis(
        "--weight-decay",
        "WD",
        "decoupled for optimizers with their own (adamw, lion, lamb, ...), L2 "
        "otherwise (default: each optimizer's, 0.01 for adamw, adamaxw and nadamw, "
        "0 for the others)",
        _floats("--weight-decay"),
    )
    axis("--clip", "NORM", "global gradient-norm clip, or none (default: none)", _clip)
    axis("--init", "NAME", "weight initializers from gradtx.init (default: he_normal)")
    axis("--activation", "NAME", "activations from gradtx.activations (default: relu)")
    axis(
        "--dropout",
        "RATE",
        "dropout rates before the classifier (default: 0)",
        _floats("--dropout"),
    )
    bn = p.add_mutually_exclusive_group()
    for flag, const, text in (
        ("--batchnorm", [True], "BatchNorm after each hidden layer"),
        ("--no-batchnorm", [False], "no BatchNorm (default)"),
        ("--batchnorm-both", [False, True], "compare with and without"),
    ):
        bn.add_argument(
            flag, dest="batchnorm", action="store_const", const=const, help=text
        )
    axis(
        "--augment",
        "NAME",
        f"augmentation pipelines: {', '.join(AUGMENTS)} (image tasks; default: off)",
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


# Each axis flag's destination and its Variant field, in the grid's order.
_AXES = {
    "optimizers": "optimizer",
    "schedule": "schedule",
    "weight_decay": "weight_decay",
    "clip": "clip",
    "init": "init",
    "activation": "activation",
    "dropout": "dropout",
    "batchnorm": "batchnorm",
    "augment": "augment",
    "learning_rates": "learning_rate",
}


def _variants(args: argparse.Namespace) -> list[Any]:
    """The variants: the config's, or the cross product of the axis flags
    given (every optimizer, and the other fields' defaults, when not)."""
    from gradtx._internal import validate
    from gradtx.compare._variants import default_optimizers, grid, load_config

    given = {f: getattr(args, d) for d, f in _AXES.items() if getattr(args, d)}
    if args.config is not None:
        if given:
            dest = next(d for d, f in _AXES.items() if f in given)
            flag = f"--{dest.replace('_', '-')}"
            raise validate.error(
                ValueError,
                f"argument {flag}",
                f"not allowed with argument --config (the config names the "
                f"variants, so {flag} would be ignored); put it in the config (e.g. "
                "its [grid] table) or drop --config.",
            )
        return load_config(args.config)
    return grid(**{"optimizer": default_optimizers(), **given})


def _error(err: BaseException) -> int:
    print(f"gradtx compare: error: {err}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line (``gradtx compare ...``); returns the exit status.

    Public as ``gradtx.compare.main``, for scripts and tests:
    ``main(["compare", "--optimizers", "sgd", "adam", "--epochs", "3"])``.

    Args:
      argv: the arguments after the program's name, starting with the
        subcommand ``"compare"``; None reads ``sys.argv[1:]``.

    Returns:
      0: done; 1: training failed (the finished variants are written); 2: a
      usage error, one line on stderr, before any training; 130: stopped by
      Ctrl-C, the finished variants written (see
      ``gradtx/compare/_interrupt.py``). The SIGINT handler is installed for
      this call only. ``--help`` and argparse's own usage errors exit
      (``SystemExit``, status 0 or 2) as argparse does.
    """
    from gradtx.compare._interrupt import CtrlC

    try:
        with CtrlC() as ctrl_c:
            return _compare(parser().parse_args(argv), ctrl_c)
    except KeyboardInterrupt:  # a Ctrl-C the handler did not take
        print("\ngradtx compare: interrupted.", file=sys.stderr)
        return 130


def _compare(args: argparse.Namespace, ctrl_c: CtrlC) -> int:
    """Checks everything, trains group by group while Ctrl-C allows, writes."""
    try:
        from gradtx.compare._files import prepare_dir
        from gradtx.compare._run import Comparison

        comparison = Comparison(
            _variants(args),
            args.task,
            seeds=args.seeds,
            epochs=args.epochs,
            batch_size=args.batch_size,
            progress=not args.quiet,
        )
        created = prepare_dir(args.out, FILES)
    except (ValueError, TypeError) as err:
        return _error(err)
    from gradtx.compare._files import remove_empty
    from gradtx.compare._train import Stopped

    ctrl_c.on_quit.append(lambda: remove_empty(created))
    ctrl_c.phase = "training"

    start = time.perf_counter()
    failure: Exception | None = None
    g = 0
    try:
        for g in range(len(comparison.groups)):
            if ctrl_c.stop:
                break
            comparison.train(g, stop=lambda: ctrl_c.stop_now)
    except (Stopped, KeyboardInterrupt):
        pass
    except Exception as err:  # keep what is done, then report it
        failure = err
    comparison.progress.end_line()
    ctrl_c.phase = "writing"
    why = "training failed" if failure is not None else "stopped by Ctrl-C"
    status = _write(comparison, args.out, created, time.perf_counter() - start, why)
    if failure is not None:
        if not _out_of_memory(failure):
            raise failure  # a bug: its traceback, after the results are safe
        print(
            f"gradtx compare: error: {comparison.group_name(g)} ran out of memory "
            f"({_first_line(failure)}); use fewer seeds or fewer values of the "
            "learning rate, weight decay, dropout and clip.",
            file=sys.stderr,
        )
        return 1
    return 130 if ctrl_c.presses and status != 1 else status


def _out_of_memory(err: Exception) -> bool:
    return isinstance(err, MemoryError) or "RESOURCE_EXHAUSTED" in str(err)


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _write(
    comparison: Comparison, out: Path, created: list[Path], seconds: float, why: str
) -> int:
    """Prints the table and writes the finished variants' files; returns 0,
    1 if a file cannot be written, or 130 if a Ctrl-C cut the writing short.
    ``why`` says why some variants may be missing."""
    from gradtx.compare._files import remove_empty
    from gradtx.compare._variants import labels

    done = set(comparison.finished)
    names = labels(comparison.variants)
    skipped = [n for i, n in enumerate(names) if i not in done]
    if skipped:
        shown = ", ".join(skipped[:5]) + (
            f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        )
        print(
            f"gradtx compare: {why}: {len(done)} of {len(names)} variants "
            f"trained; skipped {shown}{'' if done else '; nothing written'}.",
            file=sys.stderr,
        )
    if not done:
        remove_empty(created)
        return 0
    results = comparison.results()
    print()
    print(results.table())
    written: list[str] = []
    try:
        for name, write in zip(
            FILES, (results.plot, results.to_json, results.to_csv), strict=True
        ):
            written.append(str(write(out / name)))
    except KeyboardInterrupt:
        remove_empty(created)
        left = [str(out / n) for n in FILES[len(written) :]]
        print(
            f"\ngradtx compare: stopped while writing: wrote "
            f"{', '.join(written) or 'nothing'}; not written: {', '.join(left)} "
            "(no file is left half written).",
            file=sys.stderr,
        )
        return 130
    except OSError as err:
        remove_empty(created)
        print(
            f"gradtx compare: error: cannot write {err.filename or out}: "
            f"{err.strerror or err}; wrote {', '.join(written) or 'nothing'}.",
            file=sys.stderr,
        )
        return 1
    print(
        f"\n{len(done)} variants x {len(comparison.seeds)} seeds in {seconds:.1f} s; "
        f"wrote {', '.join(written)}"
    )
    return 0


def main_entry() -> None:
    """The ``gradtx`` console script and ``python -m gradtx``: runs
    :func:`main` on ``sys.argv`` and exits with its status (130 for a Ctrl-C
    that comes after :func:`main` restored the previous handler)."""
    try:
        status = main()
    except KeyboardInterrupt:  # after main restored the previous handler
        status = 130
    sys.exit(status)


if __name__ == "__main__":
    main_entry()
