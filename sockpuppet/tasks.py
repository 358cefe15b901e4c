"""Stopping a task for sure.

On Python 3.11, ``asyncio.wait_for`` loses a cancel that arrives in the step its awaited
operation completes: the task goes on as if never cancelled. redis-py wraps each command
it sends in one once ``socket_timeout`` is set (the Redis bus sets it), so any task that
talks to Redis can miss the one cancel meant to end it, and whoever awaits its end would
wait forever.
"""

from __future__ import annotations

import asyncio
from typing import Any

# Seconds a cancelled task is given to end before it is cancelled again.
CANCEL_AGAIN = 0.5


async def stop(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for its end, cancelling it again while it goes on. Its
    result or error is of no interest."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=CANCEL_AGAIN)
    await asyncio.gather(task, return_exceptions=True)
