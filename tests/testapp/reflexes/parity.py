"""Reflexes of tests/engine/test_parity.py: server parity and the predecessors' bugs.

Names start with ``EngineParity``: reflex class names are unique across installed apps.
"""

import asyncio

from django.contrib import messages

from sockpuppet import Reflex


class EngineParityBaseReflex(Reflex):
    """A base shared by reflexes at several depths; its action runs on each of them."""

    def whoami(self):
        self.morph("#who", f"<b>{type(self).__name__}</b>")


class EngineParityReflex(EngineParityBaseReflex):
    def annotate(self):
        self.note = "annotated"

    def shout(self):
        """Truthy when called: a template that could see this method would print it."""
        return "LEAKED"

    def two_morphs(self):
        self.morph("#one", "<i>1</i>")
        self.morph("#two", "<i>2</i>")

    def flash_quietly(self):
        messages.success(self.request, "saved quietly")
        self.morph_nothing()

    def flash_and_leave(self):
        messages.success(self.request, "saved and left")
        self.redirect("/parity-engine/")

    def count(self):
        self.session["parity_count"] = self.session.get("parity_count", 0) + 1

    def explode(self):
        raise ValueError("the action broke")

    async def async_explode(self):
        await asyncio.sleep(0)
        raise ValueError("the async action broke")


class EngineParityMiddleReflex(EngineParityBaseReflex):
    """An intermediate base, itself a reflex."""


class EngineParityDeepReflex(EngineParityMiddleReflex):
    """Three classes below ``Reflex``."""


class EngineParityHooksReflex(Reflex):
    """Hooks that raise on demand: ``data-fail="before"`` or ``"after"``."""

    def before_reflex(self):
        if self.element.dataset.get("fail") == "before":
            raise ValueError("before_reflex broke")

    def after_reflex(self):
        if self.element.dataset.get("fail") == "after":
            raise ValueError("after_reflex broke")

    def go(self):
        self.morph_nothing()


class EngineParityAsyncHooksReflex(Reflex):
    """An ``async def`` hook that halts: the action must not run."""

    async def before_reflex(self):
        await asyncio.sleep(0)
        self.halt()

    def go(self):
        self.session["async_hook_ignored"] = True
        self.morph("#ran", "<b>the action ran</b>")
