from typing import Any

from django.db.models import QuerySet
from django.views.generic import ListView

from demo.todos.models import Todo, owner_key


class TodoListView(ListView):  # type: ignore[type-arg]
    """A class-based view: reflex attributes reach its template just as for function views."""

    template_name = "todos/todo_list.html"
    context_object_name = "todos"

    def get_queryset(self) -> QuerySet[Todo]:
        return Todo.objects.filter(owner=owner_key(self.request.session))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["remaining"] = sum(not todo.done for todo in context["todos"])
        return context
