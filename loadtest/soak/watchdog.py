"""The hard deadline: a run stops by itself, whatever hangs."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import signal
import sys
import threading
import time
from collections import Counter

from loadtest import stack


class Watchdog:
    """Past the hard deadline, whatever hangs: say where the tasks wait, interrupt the run
    (so the programs are stopped and their logs kept as usual); if that does not end it
    within ``grace`` seconds, kill what the run started (by pid) and exit."""

    def __init__(self, running: stack.Stack, loop: asyncio.AbstractEventLoop) -> None:
        self.running = running
        self.loop = loop
        self._timers: list[threading.Timer] = []

    def start(self, after: float, grace: float = 30) -> None:
        for delay, act in ((after, self.interrupt), (after + grace, self.kill)):
            timer = threading.Timer(delay, act)
            timer.daemon = True
            timer.start()
            self._timers.append(timer)

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()

    def interrupt(self) -> None:
        print("soak: past the hard deadline; where things wait:", file=sys.stderr)
        faulthandler.dump_traceback(all_threads=True)
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(_where_tasks_wait)
        time.sleep(1)  # the loop prints, if it runs at all
        # A real signal, to the main thread: it also wakes a loop waiting in select().
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    def kill(self) -> None:
        print("soak: the run did not stop; killing what it started", file=sys.stderr)
        programs = [s.process for s in self.running.servers] + [self.running.redis.process]
        programs.append(self.running.nginx.process if self.running.nginx else None)
        for process in programs:
            if process is not None and process.poll() is None:
                process.kill()
        os._exit(3)


def _where_tasks_wait() -> None:
    """Count the tasks by the line their coroutine waits at."""
    where: Counter[str] = Counter()
    for task in asyncio.all_tasks():
        frames = task.get_stack(limit=1)
        code = frames[0].f_code if frames else None
        line = frames[0].f_lineno if frames else 0
        where[f"{code.co_name} line {line}" if code else repr(task)[:80]] += 1
    for line, count in where.most_common(20):
        print(f"  {count:5} tasks in {line}", file=sys.stderr)
