"""Reflexes the hardening tests (tests/hardening) attack, or attack through."""

import os
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

    def release(self):
        released.set()
        self.morph_nothing()

    def huge(self, size):
        self.note = "x" * int(size)

    def flood(self, count, size):
        for i in range(int(count)):
            Channel("flood").text_content("#note", str(i).ljust(int(size))).broadcast()
        self.morph_nothing()
