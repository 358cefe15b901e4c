from django.template.loader import render_to_string

from demo.chat.models import Message, handle
from sockpuppet import Channel, Reflex

LOBBY = "chat:lobby"
MAX_TEXT = Message._meta.get_field("text").max_length or 500


class ChatReflex(Reflex):
    def post(self) -> None:
        """Store the message and broadcast it to every page in the lobby, this one included.

        Only the form is re-rendered here (with the error, or blank again): the message
        itself reaches this page as it reaches every other one, through the stream.
        """
        text = self.params.get("text", "").strip()
        error = None
        if not text:
            error = "Write something first."
        elif len(text) > MAX_TEXT:
            error = f"Keep it under {MAX_TEXT} characters."
        if error is None:
            me = handle(self.session)
            message = Message.objects.create(author_key=me["id"], author=me["name"], text=text)
            html = render_to_string("chat/_message.html", {"message": message})
            Channel(LOBBY).insert_adjacent_html("#messages", html, "beforeend").broadcast()
        context = {"error": error, "text": text if error else ""}
        self.morph("#chat-form", template="chat/_form.html", context=context)
