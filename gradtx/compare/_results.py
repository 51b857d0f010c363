"""The results of a comparison: a table, a figure, JSON and CSV."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from gradtx.compare._files import atomic_write
from gradtx.compare._variants import FIELDS, Variant, labels

__all__ = ["Results"]


@dataclasses.dataclass
class Results:
    """Curves of every variant and seed, with the summaries people look at.

    Attributes:
      task: the task's name.
      variants: the variants, in the order given.
      seeds: the seeds (the same for every variant).
      epochs: passes over the training data.
      steps_per_epoch: optimizer steps per epoch.
      step_loss: ``(variants, seeds, epochs * steps_per_epoch)`` training loss
        of every step.
      train_loss: ``(variants, seeds, epochs)`` mean training loss per epoch.
      test_loss: ``(variants, seeds, epochs)`` test loss after each epoch.
      test_accuracy: ``(variants, seeds, epochs)`` test accuracy after each
        epoch.
      seconds: ``(variants,)`` wall time: a group's time (compile included)
        split evenly over the variants it trained together.
    """

    task: str
    variants: list[Variant]
    seeds: list[int]
    epochs: int
    steps_per_epoch: int
    step_loss: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    seconds: np.ndarray

    def labels(self) -> list[str]:
        """A short name per variant: the optimizer and the fields that vary."""
        return labels(self.variants)

    def summary(self) -> list[dict[str, Any]]:
        """One dict per variant: final losses, accuracy mean/std, best epoch, time."""
        final_acc = self.test_accuracy[:, :, -1]
        mean_curve = self.test_accuracy.mean(axis=1)
        rows = []
        for i, (variant, label) in enumerate(
            zip(self.variants, self.labels(), strict=True)
        ):
            rows.append(
                {
                    "variant": label,
                    **variant.to_dict(),
                    "final_train_loss": float(self.train_loss[i, :, -1].mean()),
                    "final_train_loss_std": float(self.train_loss[i, :, -1].std()),
                    "test_accuracy": float(final_acc[i].mean()),
                    "test_accuracy_std": float(final_acc[i].std()),
                    "best_epoch": int(np.argmax(mean_curve[i])) + 1,
                    "best_test_accuracy": float(mean_curve[i].max()),
                    "seconds": float(self.seconds[i]),
                }
            )
        return rows

    def table(self) -> str:
        """The summary as an aligned text (Markdown) table, best accuracy first."""
        rows = sorted(self.summary(), key=lambda r: -r["test_accuracy"])
        head = [
            "variant",
            "lr",
            "final train loss",
            "test accuracy",
            "best epoch",
            "time (s)",
        ]
        cells = [
            [
                r["variant"],
                f"{r['learning_rate']:g}",
                f"{r['final_train_loss']:.4f}",
                f"{100 * r['test_accuracy']:.2f}% ± {100 * r['test_accuracy_std']:.2f}",
                f"{r['best_epoch']} ({100 * r['best_test_accuracy']:.2f}%)",
                f"{r['seconds']:.1f}",
            ]
            for r in rows
        ]
        widths = [max(len(c) for c in col) for col in zip(head, *cells, strict=True)]

        def line(values: list[str]) -> str:
            return (
                "| "
                + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))
                + " |"
            )

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        n = len(self.seeds)
        note = (
            f"{self.task}: {self.epochs} epochs x {self.steps_per_epoch} steps, "
            f"{n} seed{'s' * (n != 1)}; accuracy: mean ± std over seeds"
        )
        return "\n".join([note, "", line(head), rule, *map(line, cells)])

    def plot(self, path: str | Path, *, dpi: int = 100) -> Path:
        """Saves loss and accuracy curves (seed mean, band: min to max) as a PNG.

        Like :meth:`to_json` and :meth:`to_csv`, it writes a temporary file and
        renames it: ``path`` is never left half written.

        Returns:
          The path written.
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=dpi)
        epochs = np.arange(1, self.epochs + 1)
        steps = np.arange(1, self.step_loss.shape[-1] + 1) / self.steps_per_epoch
        window = max(1, self.steps_per_epoch // 4)
        kernel = np.ones(window) / window
        for i, label in enumerate(self.labels()):
            # Step losses, smoothed over a quarter epoch so the lines stay readable.
            smooth = np.stack(
                [np.convolve(s, kernel, mode="valid") for s in self.step_loss[i]]
            )
            x = steps[window - 1 :]
            (line,) = ax_loss.plot(x, smooth.mean(0), label=label, lw=1.5)
            ax_loss.fill_between(
                x, smooth.min(0), smooth.max(0), color=line.get_color(), alpha=0.2
            )
            acc = 100 * self.test_accuracy[i]
            ax_acc.plot(
                epochs,
                acc.mean(0),
                color=line.get_color(),
                lw=1.5,
                marker="o",
                ms=3,
                label=label,
            )
            ax_acc.fill_between(
                epochs, acc.min(0), acc.max(0), color=line.get_color(), alpha=0.2
            )
        ax_loss.set(
            xlabel="epoch",
            ylabel="training loss",
            yscale="log",
            title=f"{self.task}: training loss (band: seed range)",
        )
        ax_acc.set(
            xlabel="epoch",
            ylabel="test accuracy (%)",
            title="test accuracy after each epoch",
        )
        ax_acc.legend(fontsize=8, loc="lower right")
        for ax in (ax_loss, ax_acc):
            ax.grid(alpha=0.3)
        fig.tight_layout()
        path = Path(path)
        try:
            with atomic_write(path, "wb") as f:
                fig.savefig(f, format="png")
        finally:
            plt.close(fig)
        return path

    def to_json(self, path: str | Path) -> Path:
        """Writes the summary and every curve as JSON; returns the path."""
        data = {
            "task": self.task,
            "seeds": self.seeds,
            "epochs": self.epochs,
            "steps_per_epoch": self.steps_per_epoch,
            "summary": self.summary(),
            "curves": {
                name: getattr(self, name).tolist()
                for name in ("step_loss", "train_loss", "test_loss", "test_accuracy")
            },
        }
        path = Path(path)
        text = json.dumps(data, indent=1)
        with atomic_write(path) as f:
            f.write(text)
        return path

    def to_csv(self, path: str | Path) -> Path:
        """Writes one row per variant, seed and epoch; returns the path."""
        path = Path(path)
        with atomic_write(path, newline="") as f:
            writer = csv.writer(f)
            writer.writerow(
                [
                    "variant",
                    *FIELDS,
                    "seed",
                    "epoch",
                    "train_loss",
                    "test_loss",
                    "test_accuracy",
                ]
            )
            for i, (variant, label) in enumerate(
                zip(self.variants, self.labels(), strict=True)
            ):
                fields = [variant.to_dict()[f] for f in FIELDS]
                for s, seed in enumerate(self.seeds):
                    for e in range(self.epochs):
                        writer.writerow(
                            [
                                label,
                                *fields,
                                seed,
                                e + 1,
                                f"{self.train_loss[i, s, e]:.6g}",
                                f"{self.test_loss[i, s, e]:.6g}",
                                f"{self.test_accuracy[i, s, e]:.6g}",
                            ]
                        )
        return path
