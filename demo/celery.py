"""The demo's Celery app (the standard Django recipe): ``celery -A demo worker``.

Settings come from Django's, under the ``CELERY_`` prefix (``CELERY_BROKER_URL`` is set
from ``DEMO_CELERY_BROKER``); tasks are found in each installed app's ``tasks.py``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

app = Celery("demo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
