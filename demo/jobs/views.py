from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from demo.jobs import runner


def jobs(request: HttpRequest) -> HttpResponse:
    context = {"celery": runner.uses_celery()}
    return render(request, "jobs/jobs.html", context)
