from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "demo.jobs"
    label = "jobs"
