from django.apps import AppConfig


class CounterConfig(AppConfig):
    name = "demo.counter"
    label = "counter"
