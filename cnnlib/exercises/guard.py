"""Running a learner's code so that a check always ends in a verdict: a time limit per call, prints
captured and capped, every exception caught (``sys.exit`` too), and endless iterators read no further
than a limit.

    outcome = run_guarded(fn, *args)     # never raises, except KeyboardInterrupt (the stop button)
    outcome.value, outcome.error, outcome.timed_out, outcome.output

The time limit (``TIME_LIMIT_S`` seconds per call, read at each call) is kept two ways:

- in the main thread, where a Jupyter kernel on Linux runs its cells, a ``SIGALRM`` timer
  (``signal.setitimer``) interrupts the call; the previous handler and timer are put back afterwards;
- elsewhere (another thread, no ``SIGALRM``, or a handler installed outside Python), a watcher thread
  raises the same exception in the calling thread (``PyThreadState_SetAsyncExc``).

Either way the call sees :class:`TimeLimitExceeded`, a ``BaseException``, so ``except Exception`` in the
learner's code does not swallow it; it is raised again every ``_AGAIN_S`` seconds until the call ends.
Neither way stops one long call into C (a huge ``np.dot``; in the watcher's case ``time.sleep`` too)
before it returns to Python, nor a loop that swallows everything with a bare ``except:``; the stop
button is then the way out. A timer that was already running (an outer guard's) is paused during the
call and goes off right after it if its time ran out meanwhile.

Prints (stdout and stderr) go to a :class:`CappedOutput` that keeps the first ``OUTPUT_LINES`` lines
(at most ``OUTPUT_CHARS`` characters) and counts the rest; :meth:`CappedOutput.shown` says what was cut.
"""
from __future__ import annotations

import contextlib
import ctypes
import io
import itertools
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

TIME_LIMIT_S = 10.0   # per call of the learner's function; a naive loop on a checker's small cases needs < 1 s
OUTPUT_LINES = 20     # printed lines kept per call
OUTPUT_CHARS = 2_000  # and characters
ITEMS_LIMIT = 100_000  # items read from an iterator before it counts as endless
_AGAIN_S = 0.25       # after the limit, the exception is raised again this often until the call ends


class TimeLimitExceeded(BaseException):
    """Raised inside a learner's call that runs past the time limit (not an ``Exception``, so that
    ``except Exception`` in their code lets it through)."""


class CappedOutput(io.TextIOBase):
    """A text stream that keeps the first ``lines`` lines (at most ``chars`` characters) written to it
    and counts everything."""

    def __init__(self, lines: int | None = None, chars: int | None = None):
        self.max_lines = OUTPUT_LINES if lines is None else lines
        self.max_chars = OUTPUT_CHARS if chars is None else chars
        self.kept = ""     # the first lines, as written
        self.chars = 0     # characters written in all
        self.cut = False   # whether anything written is not in ``kept``
        self._newlines = 0
        self._last = ""
        self._full = False  # nothing more is kept (the fast path of a flood of prints)

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        n = len(text)
        self.chars += n
        self._newlines += text.count("\n")
        if self._full:  # the fast path: count, keep nothing
            if n:
                self._last, self.cut = text[-1], True
            return n
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if n:
            self._last = text[-1]
        piece = text[:self.max_chars - len(self.kept)]
        self.cut = len(piece) < n
        kept, pos = self.kept + piece, -1
        for _ in range(self.max_lines):
            pos = kept.find("\n", pos + 1)
            if pos < 0:
                break
        if pos >= 0 and pos + 1 < len(kept):  # text after the last line kept
            kept, self.cut = kept[:pos + 1], True
        self.kept = kept
        self._full = self.cut or len(kept) >= self.max_chars or kept.count("\n") >= self.max_lines
        return n

    @property
    def lines(self) -> int:
        """Lines written in all (a last line without a newline counts too)."""
        return self._newlines + (1 if self._last not in ("", "\n") else 0)

    def shown(self, indent: str = "  ") -> str:
        """What was printed, the first lines indented, and a note of what was cut; "" if nothing."""
        if not self.chars:
            return ""
        kept = self.kept.splitlines()
        text = "\n".join(indent + line for line in kept)
        if self.cut:
            text += (f"\n{indent}... (output cut: {_count(self.lines, 'line')}, {_count(self.chars, 'character')} "
                     f"in all; the first {_count(len(kept), 'line')} shown)")
        return text


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


@dataclass
class Outcome:
    """What one guarded call did: its ``value``, or the ``error`` it raised; whether it ran past the
    time limit (``timed_out``, even if it caught the exception and returned), and what it printed."""

    value: object = None
    error: BaseException | None = None
    timed_out: bool = False
    output: CappedOutput = field(default_factory=CappedOutput)
    limit_s: float = 0.0


class _State:
    def __init__(self):
        self.armed = True
        self.fired = False


def run_guarded(fn, *args, time_limit: float | None = None) -> Outcome:
    """Call ``fn(*args)`` with a time limit, prints captured, and any exception but KeyboardInterrupt caught."""
    limit = float(TIME_LIMIT_S if time_limit is None else time_limit)
    out, state = CappedOutput(), _State()
    call = _call_with_alarm if _alarm_usable() else _call_with_watcher
    value = error = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            value = call(fn, args, limit, state)
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # noqa: BLE001 - sys.exit, GeneratorExit, the time limit: all become verdicts
        error = err
    return Outcome(value, error, state.fired or isinstance(error, TimeLimitExceeded), out, limit)


def _alarm_usable() -> bool:
    return (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGALRM) is not None)


def _call_with_alarm(fn, args, limit: float, state: _State):
    def on_alarm(signum, frame):
        if state.armed:
            state.fired = True
            signal.setitimer(signal.ITIMER_REAL, _AGAIN_S)  # one alarm at a time; the next if this is swallowed
            raise TimeLimitExceeded(f"no result within {limit:g} s")

    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.monotonic()
    try:
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:  # reached even if the alarm fired on the line above; the next one is _AGAIN_S away
        state.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay > 0:  # someone else's timer: re-armed for what was left of it
            signal.setitimer(signal.ITIMER_REAL, max(old_delay - (time.monotonic() - start), 1e-6), old_interval)


def _raise_in(thread_id: int, exc_type) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc_type) if exc_type else None)


def _call_with_watcher(fn, args, limit: float, state: _State):
    target, lock, done = threading.get_ident(), threading.Lock(), threading.Event()

    def watch():
        wait = limit
        while not done.wait(wait):
            with lock:
                if not state.armed:
                    return
                state.fired = True
                _raise_in(target, TimeLimitExceeded)
            wait = _AGAIN_S

    def disarm():
        with lock:
            state.armed = False
            _raise_in(target, None)  # one raised but not yet delivered is withdrawn
        done.set()

    watcher = threading.Thread(target=watch, name="cnnlib-time-limit", daemon=True)
    watcher.start()
    try:
        try:
            return fn(*args)
        finally:
            disarm()
    finally:  # reached even if the exception arrived on the line above; the next one is _AGAIN_S away
        disarm()


class Endless(Exception):
    """An iterator that was still going after ``ITEMS_LIMIT`` items."""


def settle(value, limit: int | None = None):
    """An iterator (a generator, ``map``, ``itertools.count()``) read into a list; anything else as it is.

    Raises :class:`Endless` if it yields more than ``ITEMS_LIMIT`` items. Run it under
    :func:`run_guarded`: reading calls the learner's code, which may be slow or never yield.
    """
    if not isinstance(value, Iterator):
        return value
    limit = ITEMS_LIMIT if limit is None else limit
    items = list(itertools.islice(value, limit + 1))
    if len(items) > limit:
        raise Endless(f"an iterator that never ends (still going after {limit:,} items)")
    return items


def problem_of(outcome: Outcome, what: str) -> str | None:
    """A sentence for a guarded call that did not return normally (``what`` did ...), or None."""
    if outcome.timed_out:
        return (f"{what} did not return within {outcome.limit_s:g} s (the time limit per call): "
                "look for a loop that never ends")
    err = outcome.error
    if err is None:
        return None
    last = str(err).strip().splitlines()[-1] if str(err).strip() else ""
    text = f"{what} raised {type(err).__name__}" + (f": {last}" if last else "")
    if isinstance(err, SystemExit):
        text += " (sys.exit() and exit() end the whole program: return the result instead)"
    return text


__all__ = ["TIME_LIMIT_S", "OUTPUT_LINES", "OUTPUT_CHARS", "ITEMS_LIMIT", "TimeLimitExceeded", "CappedOutput",
           "Outcome", "run_guarded", "settle", "Endless", "problem_of"]
