"""What a long notebook run tells the person waiting: a live status line (cell, elapsed, estimated time left) fed
by a papermill engine that reports when each cell starts."""
from __future__ import annotations

import sys
import time


def duration(seconds: float) -> str:
    """`4m36s`, or `42s` under a minute."""
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """A live status line for a notebook run: which cell, time elapsed, and time left as estimated from the
    last run of the same notebook (`expected_s`; None: no estimate). On a terminal the line is redrawn every
    second; elsewhere (logs, CI) a line is printed when a cell starts and at least every `every` seconds."""

    def __init__(self, label: str, expected_s: float | None, stream=None, every: float = 60.0):
        import threading

        self.label, self.expected_s, self.stream = label, expected_s, stream or sys.stderr
        self.tty = self.stream.isatty()
        self.cell, self.cells, self.started = 0, 0, time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, args=(1.0 if self.tty else every,), daemon=True)

    def line(self) -> str:
        elapsed = time.perf_counter() - self.started
        cell = f"cell {self.cell}/{self.cells}, " if self.cells else ""
        if self.expected_s is None:
            left = "no earlier run to estimate the rest from"
        elif elapsed < self.expected_s:
            left = f"~{duration(self.expected_s - elapsed)} left (last run {duration(self.expected_s)})"
        else:
            left = f"longer than the last run ({duration(self.expected_s)})"
        return f"{self.label}: {cell}{duration(elapsed)} elapsed, {left}"

    def on_cell(self, index: int, count: int) -> None:
        self.cell, self.cells = index + 1, count
        if not self.tty:
            self._emit()

    def _emit(self) -> None:
        text = self.line()
        self.stream.write(f"\r{text:<110}" if self.tty else text + "\n")
        self.stream.flush()

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            self._emit()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if self.tty:
            self.stream.write("\r" + " " * 110 + "\r")
            self.stream.flush()


def progress_engine() -> str:
    """Register papermill's nbclient engine, also telling the `on_cell` engine argument when each cell starts;
    return the engine's name for `papermill.execute_notebook(engine_name=...)`."""
    from papermill.engines import NBClientEngine, papermill_engines

    class ProgressEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, on_cell=None, **kwargs):
            if on_cell is not None:
                start = nb_man.cell_start

                def cell_start(cell, cell_index=None, **cell_kwargs):
                    on_cell(cell_index, len(nb_man.nb.cells))
                    return start(cell, cell_index, **cell_kwargs)

                nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register("instructor_progress", ProgressEngine)
    return "instructor_progress"
