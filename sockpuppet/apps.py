from django.apps import AppConfig


class SockpuppetConfig(AppConfig):
    name = "sockpuppet"
    verbose_name = "Sockpuppet"

    def ready(self) -> None:
        from sockpuppet import checks, registry, sessions  # noqa: F401 - checks, signals

        registry.discover()
