"""The reflexes client.md's and broadcasting.md's samples call (names unique in the suite)."""

from sockpuppet import Reflex
from tests.docsamples.samples import sample


class CartReflex(Reflex):
    def add(self, quantity):
        """Adds to the session's cart; shows whether the form came along."""
        self.session["cart"] = self.session.get("cart", 0) + int(quantity)
        self.form_sent = "note" in self.params

    def fail(self):
        raise RuntimeError("the cart is on fire")


class DocsBroadcastReflex(Reflex):
    def broadcast(self):
        """Runs broadcasting.md's first sample in the server process."""
        exec(compile(sample("broadcasting.md", "python"), "docs/broadcasting.md", "exec"), {})
        self.morph_nothing()
