import asyncio

from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.urls import reverse

from sockpuppet import Reflex
from sockpuppet.channel import Channel


class TrackedMixin:
    def mixed_in(self):
        self.note = "from a mixin"


class BaseCounterReflex(Reflex):
    """An intermediate base: its subclasses are discovered too."""

    def shared(self):
        self.note = "shared"


class CounterReflex(TrackedMixin, BaseCounterReflex):
    def increment(self, step=1):
        self.session["count"] = self.session.get("count", 0) + int(step)

    def by_dataset(self):
        self.session["count"] = self.session.get("count", 0) + int(
            self.element.dataset["step-size"]
        )

    def annotate(self):
        self.note = "annotated"

    def show_count(self, count):
        """Sets ``count`` as a reflex attribute; the views set ``count`` too."""
        self.count = count

    def selector(self):
        self.morph("#note", '<p id="note">selector</p>')

    def two_selectors(self):
        self.morph("#note", '<p id="note">one</p>')
        self.morph("#footer", '<footer id="footer">two</footer>')

    def leave(self):
        self.redirect("class-counter")

    def where(self):
        """Where ``reverse()`` puts the class-based counter, for the page to show."""
        self.note = reverse("class-counter")

    def go_next(self):
        """The usual "continue to ?next=" of a login form."""
        self.redirect(self.params.get("next", "/"))

    def nothing(self):
        self.morph_nothing()

    def explode(self):
        raise ValueError("boom")

    def stop(self):
        self.halt()

    def deny(self):
        self.forbid()

    def flash(self):
        messages.info(self.request, "flashed")

    def echo_params(self):
        self.note = repr(sorted(self.params.lists()))

    def host(self):
        self.note = self.request.get_host()

    def sign_in(self):
        user, _ = get_user_model().objects.get_or_create(username="alice")
        login(self.request, user)

    def sign_in_and_return(self):
        """A login form's reflex: log in, then load the page again (the new session)."""
        self.sign_in()
        self.redirect("/?signed-in")

    def create_then_fail(self):
        get_user_model().objects.create(username="half-done")
        raise RuntimeError("failed after a write")

    async def acreate_then_fail(self):
        await get_user_model().objects.acreate(username="half-done")
        raise RuntimeError("failed after a write")

    def sign_out(self):
        logout(self.request)

    def slow(self):
        import time

        time.sleep(0.3)
        self.session["count"] = self.session.get("count", 0) + 100

    async def async_action(self):
        await asyncio.sleep(0)
        self.note = "async"

    def _private(self):
        raise AssertionError("must never run")

    @property
    def prop(self):
        raise AssertionError("must never run")

    @staticmethod
    def static():
        raise AssertionError("must never run")


class Nested:
    class InnerReflex(Reflex):
        def ping(self):
            self.morph_nothing()


class BroadcastReflex(Reflex):
    """Broadcasts from inside a reflex, to the streams a test follows."""

    def shout(self, text):
        Channel("room").inner_html("#note", text).broadcast()
        self.morph_nothing()

    def to_my_session(self, text):
        Channel.for_session(self.session.session_key).text_content("#note", text).broadcast()
        self.morph_nothing()

    def to_user(self, username, text):
        user = get_user_model().objects.get(username=username)
        Channel.for_user(user).text_content("#note", text).broadcast()
        self.morph_nothing()
