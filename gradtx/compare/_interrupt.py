"""Ctrl-C for the command line: stop at a safe point and keep what is done.

Python's own Ctrl-C raises ``KeyboardInterrupt`` wherever the program is. In
a comparison that is usually inside XLA's compiler (which checks for signals
while it compiles), and a ``KeyboardInterrupt`` there returns while the
compile goes on in another thread: the process can then crash with a
segmentation fault as it exits. So this handler never raises while training;
it only counts the presses, and the command line reads the count where
nothing runs on the device:

1. first Ctrl-C: finish the group that is training, then write the results;
2. second: drop that group at the end of its epoch, write the finished ones;
3. third: quit at once (``os._exit(130)``), writing nothing more.

Before training starts, the first Ctrl-C stops there and the second quits.
While the results are written (no JAX runs then) a second Ctrl-C raises
``KeyboardInterrupt``; the files are written atomically, so none is left half
written.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, TextIO

__all__ = ["CtrlC"]


class CtrlC:
    """A context that handles SIGINT as above and restores the previous
    handler on exit.

    It installs nothing when it is not on the main thread or when SIGINT is
    ignored (a process started in the background with ``nohup`` or ``&``):
    then it stays out of the way and Ctrl-C does what it did before.

    Attributes:
      presses: how many times Ctrl-C was pressed.
      phase: ``"checking"`` (before training: a press stops before it
        starts, a second quits), ``"training"`` or ``"writing"``; the command
        line moves it on.
      on_quit: called before a quit at once (e.g. to remove an empty output
        directory).
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.presses = 0
        self.phase = "checking"
        self.on_quit: list[Callable[[], object]] = []
        self.stream = stream
        self._previous: Any = None
        self._installed = False

    @property
    def stop(self) -> bool:
        """Whether to stop training after the current group."""
        return self.presses >= 1

    @property
    def stop_now(self) -> bool:
        """Whether to stop training at the end of the current epoch."""
        return self.presses >= 2

    def __enter__(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not signal.SIG_IGN:
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def _say(self, text: str) -> None:
        line = f"\ngradtx compare: Ctrl-C: {text}\n"
        stream = self.stream or sys.stderr
        try:
            stream.write(line)
            stream.flush()
        except (RuntimeError, OSError, ValueError):
            # The signal came in the middle of a write to the same stream (a
            # "reentrant call"), or the stream is closed: bypass the buffer.
            with contextlib.suppress(OSError):
                os.write(2, line.encode())

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.presses += 1
        n, phase = self.presses, self.phase
        if phase == "writing":
            if n >= 2:
                raise KeyboardInterrupt  # no JAX runs now; the files are atomic
            self._say("finishing the files, then stopping (again: stop now).")
        elif phase == "checking" and n == 1:
            self._say("stopping before any training (again: quit at once).")
        elif phase == "training" and n == 1:
            self._say(
                "finishing this group, then writing its results (again: stop "
                "after this epoch, dropping the group)."
            )
        elif phase == "training" and n == 2:
            self._say(
                "stopping after this epoch; this group is dropped (again: quit at "
                "once, writing nothing)."
            )
        else:
            self._say("quitting at once; nothing more is written.")
            for cleanup in self.on_quit:
                cleanup()
            os._exit(130)
