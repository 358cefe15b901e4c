# The Celery app loads with Django, so @shared_task binds to it (the standard recipe).
from demo.celery import app as celery_app

__all__ = ("celery_app",)
