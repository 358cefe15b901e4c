"""Where a job runs: on Celery when the demo has a broker, else in a thread of this process.

The thread keeps the demo self-contained (memory bus, no Redis, no worker); the broadcasts
of a thread of the web process reach its connections through the memory bus. A Celery
worker is another process, so it needs the Redis bus: ``demo/settings.py`` refuses a broker
without it.
"""

import threading

from django.conf import settings
from django.db import connection

from demo.jobs.tasks import crunch


def uses_celery() -> bool:
    return bool(getattr(settings, "CELERY_BROKER_URL", None))


def start(session_key: str) -> None:
    """Start the job for the session ``session_key``."""
    if uses_celery():
        crunch.delay(session_key)
    else:
        threading.Thread(target=_run_here, args=(session_key,), daemon=True).start()


def _run_here(session_key: str) -> None:
    try:
        crunch(session_key)
    finally:
        connection.close()  # this thread's database connection
