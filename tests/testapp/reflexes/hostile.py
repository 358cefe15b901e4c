"""Reflexes the hardening tests (tests/hardening) attack, or attack through."""

import os
import secrets
import threading

from sockpuppet import Reflex
from sockpuppet.channel import Channel

# A hanging reflex waits for HostileReflex#release, so no test sleeps to let it end.
released = threading.Event()


class HostileReflex(Reflex):
    # Reachable from the class, yet none of them is an action.
    secret = "a class attribute"
    tools = os

    @classmethod
    def build(cls):
        raise AssertionError("must never run")

    def after_reflex(self):
        """A hook overridden here is still a hook, not an action."""

    def echo(self, text):
        """Client data into the page: rendered by templates, so escaped."""
        self.note = text

    def remember(self):
        self._secret = "s3cret"
        self.visible = "shown"

    def hang(self):
        released.clear()
        released.wait(30)

    def held(self):
        """Tells its session it started, then waits for HostileReflex#release."""
        released.clear()
        Channel.for_session(self.session).text_content("#note", "started").broadcast()
        released.wait(30)
        self.session["count"] = self.session.get("count", 0) + 1

    def release(self):
        released.set()
        self.morph_nothing()

    def huge(self, size):
        self.note = "x" * int(size)

    def flood(self, count, size):
        """Broadcast ``count`` messages of ``size`` characters that do not compress."""
        for i in range(int(count)):
            noise = secrets.token_hex(int(size) // 2)
            Channel("flood").text_content("#note", f"{i} {noise}").broadcast()
        self.morph_nothing()
