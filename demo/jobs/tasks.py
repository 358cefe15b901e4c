"""The demo's background job: some slow work that reports its progress to the browser.

The same function runs in a Celery worker when the demo has a broker (``DEMO_CELERY_BROKER``)
and in a thread of the web process when it has none (see ``runner.py``). Either way it only
broadcasts to the session's stream: whichever process holds the browser's connection
delivers the updates.
"""

import time

from celery import Task, shared_task
from django.conf import settings

from sockpuppet import Channel


@shared_task(bind=True, ignore_result=True)
def crunch(self: Task, session_key: str) -> None:
    """Steps of pretend work; after each, move the page's progress bar."""
    steps = settings.DEMO_JOB_STEPS
    where = "a thread of the web process" if self.request.called_directly else "a Celery worker"
    channel = Channel.for_session(session_key)
    for step in range(1, steps + 1):
        time.sleep(settings.DEMO_JOB_STEP_SECONDS)  # the "work"
        percent = round(step * 100 / steps)
        channel.set_attribute("#job-progress", "value", str(percent))
        channel.text_content("#job-label", f"Step {step} of {steps}: {percent}%")
        channel.broadcast()
    channel.set_attribute("#job", "data-state", "done")
    channel.text_content("#job-label", f"Done: {steps} steps in {where}.")
    channel.remove_attribute("#job-start", "disabled")
    channel.broadcast()
