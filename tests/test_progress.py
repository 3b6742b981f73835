"""Progress as users see it: one bar advanced per link on a terminal, per-batch log lines elsewhere.

The CLI runs for real in a subprocess, once under a pseudo-terminal and once on plain pipes,
against the simulated web and the session's Prefect API (so no temporary server starts per run).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from checks.model import Observation, State
from flows.progress import LinkProgress, channel, link_bar, open_channel
from simweb import SimulatedWeb

DATA = Path(__file__).parent / "data"
SCENARIO = DATA / "e2e-scenario.yaml"
REPO = Path(__file__).parent.parent
# The command a user types, from this checkout (not whichever checkout the installed script points at)
PAPERWATCH = [sys.executable, "-c", "from flows.cli import main; main(prog_name='paperwatch')"]
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-B]|[=>78])")
BAR = "━"  # rich's bar glyph
# one frame of the bar, nothing else on its line: label, bar, done/total, elapsed, dead/error/unknown so far
BAR_FRAME = re.compile(r"checking links [━╸╺ ]+ +(?P<done>\d+)/(?P<total>\d+) \d+:\d\d:\d\d ?(?P<counts>(\d+ \w+(, )?)*)")
# e2e-papers.md: 11 links; without a token its 3 repositories are checked twice (page, then API)
LINK_CHECKS = 11 + 3


def observed(state: State) -> Observation:
    return Observation(url="https://x.example.org", state=state, reason="", checker="http")


# --- the channel -------------------------------------------------------------------------------------

def test_two_runs_counting_at_once_never_mix_their_counts() -> None:
    with open_channel("run-a", 4000) as a, open_channel("run-b", 3000) as b:
        assert channel("run-a") is a and channel("run-b") is b

        def work(key: str, part: str, n: int, state: State) -> None:
            link_done = channel(key).part(part)
            for _ in range(n):
                link_done(observed(state))

        threads = [threading.Thread(target=work, args=("run-a", f"a{i}", 1000, State.DEAD)) for i in range(4)] + \
                  [threading.Thread(target=work, args=("run-b", f"b{i}", 1000, State.ALIVE)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert a.snapshot() == (4000, {"dead": 4000, "error": 0, "unknown": 0})
        assert b.snapshot() == (3000, {"dead": 0, "error": 0, "unknown": 0})
        with pytest.raises(RuntimeError):
            with open_channel("run-a", 1):
                pass
    assert channel("run-a") is None and channel("run-b") is None


def test_a_retried_part_counts_again_and_a_settled_part_counts_what_it_returned() -> None:
    links = LinkProgress(10)
    first = links.part("batch-1")
    for _ in range(3):
        first(observed(State.ERROR))
    retry = links.part("batch-1")  # the task's second attempt starts its count again
    retry(observed(State.ALIVE))
    first(observed(State.ERROR))  # a straggler of the first attempt no longer counts
    assert links.snapshot() == (1, {"dead": 0, "error": 0, "unknown": 0})

    links.settle("batch-1", 6, {"alive": 4, "unknown": 2})
    links.part("batch-2")(observed(State.DEAD))
    assert links.snapshot() == (7, {"dead": 1, "error": 0, "unknown": 2})
    links.settle("batch-2", 5, {"dead": 5})
    links.settle("batch-3", 5, {})
    assert links.snapshot()[0] == 10  # never above the total


# --- the bar, on a pseudo-terminal --------------------------------------------------------------------

def _drain(master: int, chunks: list[bytes]) -> None:
    """Read what is written to the terminal until its last writer closes it."""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError as exc:
            if exc.errno == errno.EIO:
                return
            raise
        if not data:
            return
        chunks.append(data)


def test_log_lines_printed_while_links_are_checked_never_draw_the_count_backwards() -> None:
    """A log line redraws the bar below it; rich renders that copy in the logging thread, and a long
    line's copy, older than the frame the bar drew meanwhile, used to land after it (the count went
    12/14, 14/14, 12/14 once in CI; long lines make it happen on most runs)."""
    from rich.console import Console
    from rich.logging import RichHandler

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(master, chunks))
    reader.start()
    terminal = open(slave, "w", encoding="utf-8")
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers[:] = [RichHandler(console=Console(file=terminal, width=100), show_time=False, show_path=False)]
    links = LinkProgress(2000)

    def check(part: str) -> None:
        link_done = links.part(part)
        for n in range(500):
            link_done(observed(State.ALIVE))
            if n % 10 == 0:
                logging.getLogger("paperwatch.test").warning("%s at %d: %s", part, n, "word " * 1000)
            time.sleep(0.002)

    try:
        with link_bar("checking links", links) as drawn:
            assert drawn
            workers = [threading.Thread(target=check, args=(f"batch-{i}",)) for i in range(4)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
    finally:
        root.handlers[:] = saved
        terminal.close()
        reader.join(timeout=30)
        os.close(master)

    lines = _screen_lines(b"".join(chunks).decode("utf-8", "replace"))
    done = [int(bar["done"]) for bar in (BAR_FRAME.fullmatch(line.rstrip()) for line in lines if BAR in line) if bar]
    assert sum("word word" in line for line in lines) >= 200  # every log line reached the terminal
    assert len(done) > 10 and done[-1] == 2000
    assert [(a, b) for a, b in zip(done, done[1:]) if b < a] == []


# --- the CLI, as a user runs it --------------------------------------------------------------------

def _command(sim: SimulatedWeb, tmp: Path) -> list[str]:
    remaps = [arg for rule in sim.remap_rules for arg in ("--remap", rule)]
    return [*PAPERWATCH, "run", str(DATA / "e2e-papers.md"), "--db", str(tmp / "h.sqlite"), "--out", str(tmp / "out"),
            "--github-api", sim.github_api_url, "--hf-endpoint", sim.hf_endpoint, "--timeout", "3", *remaps]


def _env() -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = {key: value for key, value in os.environ.items()
           if key not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "GITHUB_TOKEN", "HF_TOKEN")}
    return {**env, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PYTHONPATH": str(REPO),
            "TERM": "xterm", "COLUMNS": "100", "LINES": "40"}


def _run_in_terminal(command: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """Run ``command`` with stdin, stdout and stderr on a pseudo-terminal; returns its exit code and output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError as exc:  # EIO: the child closed the terminal
                if exc.errno == errno.EIO:
                    break
                raise
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def _screen_lines(raw: str) -> list[str]:
    """What was drawn, piece by piece: escape codes removed, split where the cursor went back to a line's start."""
    return [piece for piece in re.split(r"[\r\n]+", ANSI.sub("", raw)) if piece.strip()]


@pytest.mark.prefect
def test_on_a_terminal_a_bar_counts_every_link_and_log_lines_go_above_it(prefect_api: None, sim: SimulatedWeb,
                                                                        tmp_path: Path) -> None:
    code, raw = _run_in_terminal(_command(sim, tmp_path), _env(), cwd=tmp_path)
    lines = _screen_lines(raw)
    assert code == 0, "\n".join(lines[-30:])

    frames = [line for line in lines if BAR in line]
    bars = [BAR_FRAME.fullmatch(frame.rstrip()) for frame in frames]
    assert bars and all(bars), f"torn or unexpected bar frames: {[f for f, b in zip(frames, bars) if not b]}"
    done = [int(bar["done"]) for bar in bars]
    assert done == sorted(done) and {int(bar["total"]) for bar in bars} == {LINK_CHECKS}  # only ever goes forward
    assert done[-1] == LINK_CHECKS and "dead" in bars[-1]["counts"]  # the last frame stays: all checked, and dead links
    # the per-batch log lines still reach the terminal, above the bar, each on a line of its own
    batch_lines = [line for line in lines if "link checks done" in line]
    assert batch_lines and f"{LINK_CHECKS}/{LINK_CHECKS} link checks done" in batch_lines[-1]
    assert lines[-1].startswith("report:") and any(line.startswith("run 1: 11 papers, 11 links") for line in lines)


@pytest.mark.prefect
def test_without_a_terminal_progress_is_one_log_line_a_batch_and_no_bar(prefect_api: None, sim: SimulatedWeb,
                                                                       tmp_path: Path) -> None:
    proc = subprocess.run(_command(sim, tmp_path), capture_output=True, text=True, timeout=120, env=_env(),
                          cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    batch_lines = [line for line in output.splitlines() if "link checks done" in line]
    assert len(batch_lines) >= 3 and f"{LINK_CHECKS}/{LINK_CHECKS} link checks done" in batch_lines[-1]
    assert BAR not in output and "checking links" not in output and "\x1b[" not in output
    # PyGithub's own log line (the renamed repository's redirect) is printed once, not also by its own handler
    assert output.count("Following Github server redirection") == 1
