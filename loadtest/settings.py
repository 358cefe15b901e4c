"""The settings of earlier load runs (``--settings loadtest.settings``): SQLite set up for
concurrent writers (WAL, ``IMMEDIATE`` transactions, a longer timeout,
``synchronous=NORMAL``). The demo's own settings do the same now (``demo/settings.py``), so
this module only keeps the recorded commands working.
"""

from demo.settings import *  # noqa: F403
