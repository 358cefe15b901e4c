"""Reflexes of the parity pages; class names start with ``Parity`` to stay unique."""

import json

from django.utils.html import format_html

from sockpuppet import Reflex


class ParityEchoReflex(Reflex):
    def echo(self, *args):
        """Show what arrived, as JSON in ``#echo`` (a selector morph)."""
        received = {
            "args": list(args),
            "reflex_id": self.reflex_id,
            "selectors": self.selectors,
            "attrs": self.element.attrs,
            "dataset": self.element.dataset,
            "inner_html": self.element.inner_html,
            "text": self.element.text,
            "params": dict(self.params.lists()),
        }
        self.morph("#echo", format_html('<pre id="echo">{}</pre>', json.dumps(received)))

    def quiet(self):
        self.morph_nothing()


class ParityPageReflex(Reflex):
    def bump(self):
        """Count in the session; the page morph shows the count."""
        self.session["parity_bumps"] = self.session.get("parity_bumps", 0) + 1


class ParityLifecycleReflex(Reflex):
    def save_item(self):
        self.morph("#life-out", '<output id="life-out">saved</output>')

    def break_down(self):
        raise RuntimeError("parity breakdown")

    def deny_access(self):
        self.forbid()

    def skip_render(self):
        self.morph_nothing()


class ParityHaltReflex(Reflex):
    def before_reflex(self):
        self.halt()

    def hold_on(self):
        raise AssertionError("before_reflex halts: this never runs")
