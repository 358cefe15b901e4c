from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from demo.chat.models import Message, handle

HISTORY = 50


def lobby(request: HttpRequest) -> HttpResponse:
    """The last messages; later ones arrive as broadcasts on the ``chat:lobby`` stream."""
    context = {
        "chat_messages": Message.recent(HISTORY),
        "me": handle(request.session),
        "history": HISTORY,
    }
    return render(request, "chat/lobby.html", context)
