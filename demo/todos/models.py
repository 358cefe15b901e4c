import secrets

from django.contrib.sessions.backends.base import SessionBase
from django.db import models


def owner_key(session: SessionBase) -> str:
    """Each visitor gets their own list, keyed by a random id kept in their session."""
    return session.setdefault("todo_owner", secrets.token_hex(8))


class Todo(models.Model):
    owner = models.CharField(max_length=32, db_index=True)
    title = models.CharField(max_length=200)
    done = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created", "pk")

    def __str__(self) -> str:
        return self.title
