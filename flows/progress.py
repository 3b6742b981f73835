"""Progress for long checks: a bar on a terminal, periodic log lines elsewhere (CI, workers).

Two users:

- ``paperwatch check`` checks pages in this process and wraps them in ``progress()``;
- ``paperwatch run`` checks in Prefect batch tasks. When the flow run draws a bar (``run_bar``:
  only on a terminal), it opens a ``LinkProgress`` channel under its flow run id; batch tasks
  running in threads of the same process find it by their parent flow run id (``channel``) and
  hand the checkers a per-link callback. Elsewhere (a deployment's worker, CI, a pipe) no channel
  is open, the tasks get no callback, and progress stays one log line and one artifact update a
  batch (``flows.batches.RunProgress``).

Per-link counting is a lock and a few ints; the bar reads the counts when it redraws (10 times
a second), so no check ever waits for drawing, and nothing per link reaches the Prefect API.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from checks.model import Observation, State

if TYPE_CHECKING:
    from rich.console import Console

COUNTED = (State.DEAD, State.ERROR, State.UNKNOWN)  # states the bar counts as it goes, besides the links done
_SLOT = {state: slot for slot, state in enumerate(COUNTED, 1)}


class LinkProgress:
    """Links checked so far in one run, counted per part (a batch task), thread-safe.

    A part's count starts again when the part starts again (a retried batch), and is replaced by
    what the part returned once it is over (``settle``), so retries never count a link twice and a
    failed batch still ends counted."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._lock = threading.Lock()
        self._parts: dict[str, list[int]] = {}

    def part(self, key: str) -> Callable[[Observation], None]:
        """A fresh count for part ``key`` (replacing any earlier attempt's) and its per-link callback."""
        counts = [0] * (1 + len(COUNTED))
        with self._lock:
            self._parts[key] = counts
        lock = self._lock

        def link_done(observation: Observation) -> None:
            slot = _SLOT.get(observation.state, 0)
            with lock:
                counts[0] += 1
                if slot:
                    counts[slot] += 1

        return link_done

    def settle(self, key: str, checked: int, by_state: Mapping[str, int]) -> None:
        """Part ``key`` is over: ``checked`` links, ``by_state`` as it returned them."""
        with self._lock:
            self._parts[key] = [checked] + [int(by_state.get(state, 0)) for state in COUNTED]

    def snapshot(self) -> tuple[int, dict[str, int]]:
        """Links done (never above the total) and the counted states so far."""
        with self._lock:
            sums = [sum(column) for column in zip(*self._parts.values())] or [0] * (1 + len(COUNTED))
        return min(sums[0], self.total), dict(zip((state.value for state in COUNTED), sums[1:]))


_channels: dict[str, LinkProgress] = {}
_channels_lock = threading.Lock()


def channel(key: str) -> LinkProgress | None:
    """The channel open under ``key`` (a flow run id) in this process, if any."""
    return _channels.get(key)


def open_channel(key: str, total: int) -> AbstractContextManager[LinkProgress]:
    """A channel for ``total`` links under ``key`` while the block runs; two runs never share one."""
    return _registered(key, LinkProgress(total))


@contextmanager
def _registered(key: str, links: LinkProgress) -> Iterator[LinkProgress]:
    with _channels_lock:
        if key in _channels:
            raise RuntimeError(f"a progress channel is already open for {key}")
        _channels[key] = links
    try:
        yield links
    finally:
        with _channels_lock:
            if _channels.get(key) is links:
                del _channels[key]


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def terminal_console() -> Console | None:
    """The rich console log lines reach the terminal through, when they do reach a terminal.

    That is Prefect's console handler's console once Prefect has set up logging (sharing it is what
    keeps its log lines from tearing the bar: rich prints them above it), else a console on stderr.
    None when that stream is not a terminal (a pipe, a file, a worker's log), whatever FORCE_COLOR says.
    """
    from rich.console import Console

    console = next((handler.console for handler in logging.getLogger().handlers
                    if isinstance(getattr(handler, "console", None), Console)), None)
    if console is None:
        console = Console(stderr=True)
    if not _isatty(console.file) or not console.is_terminal or console.is_dumb_terminal:
        return None
    return console


_bar_lock = threading.Lock()  # one bar a process: rich draws one live display per console


@contextmanager
def link_bar(label: str, links: LinkProgress, transient: bool = False) -> Iterator[bool]:
    """Draw ``links`` as one bar while the block runs, when on a terminal; yields whether it does.

    Not transient by default: the last frame (all done, time taken, dead and unknown) stays as
    a line of the run's output.
    """
    console = terminal_console()
    if console is None or not _bar_lock.acquire(blocking=False):
        yield False
        return
    try:
        from rich.default_styles import DEFAULT_STYLES
        from rich.theme import Theme

        # Prefect's console has a theme of its own, without rich's progress styles
        console.push_theme(Theme({name: style for name, style in DEFAULT_STYLES.items()
                                  if name.startswith(("bar.", "progress."))}))
        try:
            with _drawn(console, _pulled_bar(console, label, links, transient)):
                yield True
        finally:
            console.pop_theme()
    finally:
        _bar_lock.release()


@contextmanager
def _drawn(console: Console, bar: Any) -> Iterator[None]:
    """Show ``bar`` (a rich Progress without its own refresh thread), redrawn 10 times a second.

    A log line printed on ``console`` redraws the bar below it, rendered in the logging thread
    outside rich's lock; a line's older frame could then land after a newer one, and the count
    would jump back. So the log handlers that print on ``console`` emit under the redraws' lock
    while the bar is up, and frames reach the screen in order.
    """
    lock = threading.RLock()
    handlers = [handler for handler in logging.getLogger().handlers if getattr(handler, "console", None) is console]
    own_emits = [(handler, vars(handler).get("emit")) for handler in handlers]
    stop = threading.Event()

    def in_order(emit: Callable[[logging.LogRecord], None]) -> Callable[[logging.LogRecord], None]:
        def emit_in_order(record: logging.LogRecord) -> None:
            with lock:
                emit(record)
        return emit_in_order

    def redraw() -> None:
        while not stop.wait(0.1):
            with lock:
                bar.refresh()

    with lock:
        bar.start()
        for handler in handlers:
            handler.emit = in_order(handler.emit)  # type: ignore[method-assign]
    thread = threading.Thread(target=redraw, name="progress-bar", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        with lock:
            for handler, emit in own_emits:
                if emit is None:
                    del handler.emit  # the class's own again
                else:
                    handler.emit = emit  # type: ignore[method-assign]
            bar.stop()


def _pulled_bar(console: Console, label: str, links: LinkProgress, transient: bool) -> Any:
    """A rich Progress whose one task reads ``links`` each time it is drawn (``_drawn`` draws it)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
    from rich.text import Text

    colours = {State.DEAD: "red", State.ERROR: "yellow", State.UNKNOWN: "yellow"}

    class CountsColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            found = task.fields.get("found") or {}
            return Text(", ").join(Text(f"{n} {state}", style=colours[state]) for state, n in found.items() if n)

    class PulledProgress(Progress):
        task_id: Any = None

        def get_renderables(self) -> Any:
            if self.task_id is not None:
                done, found = links.snapshot()
                self.update(self.task_id, completed=done, found=found)
            yield from super().get_renderables()

    bar = PulledProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                         CountsColumn(), console=console, transient=transient, auto_refresh=False,
                         # a print to stdout goes above the bar only when stdout is this terminal too
                         redirect_stdout=_isatty(sys.stdout), redirect_stderr=True)
    bar.task_id = bar.add_task(label, total=links.total, found={})
    return bar


@contextmanager
def run_bar(key: str | None, total: int, label: str = "checking links") -> Iterator[LinkProgress | None]:
    """For a flow run checking ``total`` links in batch tasks: on a terminal, a channel under ``key``
    (its flow run id) drawn as one bar; elsewhere None, and nothing is counted per link."""
    if key is None or not total:
        yield None
        return
    links = LinkProgress(total)
    with link_bar(label, links) as drawn:
        if not drawn:  # not a terminal, or another run in this process has the bar
            yield None
            return
        with _registered(key, links):
            yield links


@contextmanager
def progress(label: str, total: int, logger: logging.Logger | logging.LoggerAdapter) -> Iterator[Callable[[Observation], None]]:
    """Yield a thread-safe callback to call once per finished check."""
    if total:
        links = LinkProgress(total)
        with link_bar(label, links, transient=True) as drawn:
            if drawn:
                yield links.part("all")
                return

    lock = threading.Lock()
    done = 0
    step = max(1, total // 10)

    def log_every_tenth(_observation: Observation) -> None:
        nonlocal done
        with lock:
            done += 1
            if done % step == 0 or done == total:
                logger.info("%s: %d/%d checked", label, done, total)

    yield log_every_tenth
