"""The demo's settings with SQLite set up for concurrent writers, for load runs.

The demo's defaults (``demo/settings.py``) use SQLite as Django creates it: rollback
journal, deferred transactions, a 5 s busy timeout. Under load, each reflex that touches
the session writes it (database sessions), and concurrent writers from the thread pool
fail with ``database is locked``. Django's SQLite notes recommend, for concurrency: WAL,
``IMMEDIATE`` transactions and a longer timeout; ``synchronous=NORMAL`` is WAL's usual
companion (no fsync per commit). ``python -m loadtest.run --settings loadtest.settings``.
"""

from demo.settings import *  # noqa: F403
from demo.settings import DATABASES

DATABASES["default"]["OPTIONS"] = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
