"""Progress for long checks: a bar on a terminal, periodic log lines elsewhere (CI, workers)."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from checks.model import Observation


@contextmanager
def progress(label: str, total: int, logger: logging.Logger | logging.LoggerAdapter) -> Iterator[Callable[[Observation], None]]:
    """Yield a thread-safe callback to call once per finished check."""
    lock = threading.Lock()
    done = 0
    if total and sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      transient=True) as bar:
            task_id = bar.add_task(label, total=total)

            def advance(_observation: Observation) -> None:
                bar.advance(task_id)

            yield advance
        return

    step = max(1, total // 10)

    def log_every_tenth(_observation: Observation) -> None:
        nonlocal done
        with lock:
            done += 1
            if done % step == 0 or done == total:
                logger.info("%s: %d/%d checked", label, done, total)

    yield log_every_tenth
