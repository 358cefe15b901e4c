from django.contrib import messages
from django.db.models import QuerySet

from demo.todos.models import Todo, owner_key
from sockpuppet import Reflex

MAX_TITLE = Todo._meta.get_field("title").max_length or 200


class TodoReflex(Reflex):
    def add(self) -> None:
        """Create a todo from the form; a bad title re-renders only the form, with the error."""
        title = self.params.get("title", "").strip()
        error = None
        if not title:
            error = "Give your todo a title."
        elif len(title) > MAX_TITLE:
            error = f"Keep it under {MAX_TITLE} characters."
        if error:
            context = {"error": error, "title": title}
            self.morph("#todo-form", template="todos/_form.html", context=context)
            return
        Todo.objects.create(owner=owner_key(self.session), title=title)
        messages.success(self.request, f"Added “{title}”.")

    # A todo already gone (a double click, another tab deleted it) is left as it is: the
    # page re-renders without it.

    def toggle(self) -> None:
        self._todo().update(done=bool(self.element.checked))

    def delete(self) -> None:
        self._todo().delete()

    def clear_done(self) -> None:
        Todo.objects.filter(owner=owner_key(self.session), done=True).delete()

    def _todo(self) -> QuerySet[Todo]:
        pk = int(self.element.dataset["todo-id"])
        return Todo.objects.filter(owner=owner_key(self.session), pk=pk)
