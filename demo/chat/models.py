import secrets

from django.contrib.sessions.backends.base import SessionBase
from django.db import models

ADJECTIVES = ["Amber", "Brisk", "Calm", "Jolly", "Lucky", "Merry", "Nimble", "Swift"]
ANIMALS = ["Badger", "Crane", "Gecko", "Heron", "Lynx", "Otter", "Panda", "Wombat"]


def handle(session: SessionBase) -> dict[str, str]:
    """The visitor's chat identity, kept in their session: a random id and a friendly name."""
    if "chat_handle" not in session:
        session["chat_handle"] = {
            "id": secrets.token_hex(6),
            "name": f"{secrets.choice(ADJECTIVES)} {secrets.choice(ANIMALS)}",
        }
    return dict(session["chat_handle"])


class Message(models.Model):
    author_key = models.CharField(max_length=12)
    author = models.CharField(max_length=40)
    text = models.CharField(max_length=500)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created", "pk")

    def __str__(self) -> str:
        return f"{self.author}: {self.text}"

    @classmethod
    def recent(cls, limit: int = 50) -> list["Message"]:
        """The last ``limit`` messages, newest last."""
        newest_first = cls.objects.order_by("-created", "-pk")[:limit]
        return list(reversed(newest_first))
