from django.apps import AppConfig


class PlaygroundConfig(AppConfig):
    name = "demo.playground"
    label = "playground"
