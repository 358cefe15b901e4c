from django.apps import AppConfig


class TodosConfig(AppConfig):
    name = "demo.todos"
    label = "todos"
    default_auto_field = "django.db.models.BigAutoField"
