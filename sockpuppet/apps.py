from django.apps import AppConfig


class SockpuppetConfig(AppConfig):
    name = "sockpuppet"
    verbose_name = "Sockpuppet"

    def ready(self) -> None:
        from sockpuppet import checks, registry  # noqa: F401 - registers the checks

        registry.discover()
