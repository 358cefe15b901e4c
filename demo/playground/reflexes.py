from django.utils.html import format_html

from sockpuppet import Channel, Reflex

WALL = "playground:wall"
SEQUENCE_KEPT = 200


class PlaygroundReflex(Reflex):
    def refresh(self) -> None:
        """Does nothing itself: the page re-renders (a page morph)."""

    def mirror(self) -> None:
        """Runs on every keystroke; a public attribute becomes template context."""
        self.mirrored = self.element.value or ""

    def tally_quietly(self) -> None:
        """Changes state but sends no morph: the page shows the new count only when refreshed."""
        self.session["quiet"] = self.session.get("quiet", 0) + 1
        self.morph_nothing()

    def ping(self) -> None:
        """Changes nothing and answers nothing: the page times the round trip (the
        framework's floor: middleware, dispatch and transport, no state, no render)."""
        self.morph_nothing()

    def explode(self) -> None:
        raise RuntimeError("Kaboom! This reflex failed on purpose.")

    def bump_both(self) -> None:
        """Changes two counters; the button's data-reflex-root morphs only one of them."""
        self.session["root_a"] = self.session.get("root_a", 0) + 1
        self.session["root_b"] = self.session.get("root_b", 0) + 1

    def record(self) -> None:
        """Append the number the clicked button carries (``data-seq``, counted up by the
        page at each click) to a list in the session: which clicks ran, in what order."""
        sequence = [*self.session.get("sequence", []), int(self.element.dataset["seq"])]
        self.session["sequence"] = sequence[-SEQUENCE_KEPT:]

    def shout(self) -> None:
        """Broadcast a note to every page following the wall's stream, this one included."""
        note = self.params.get("note", "").strip()[:140]
        if note:
            Channel(WALL).prepend(
                "#wall", format_html('<li class="note">{}</li>', note)
            ).broadcast()
        self.morph_nothing()


class GuardedReflex(Reflex):
    def before_reflex(self) -> None:
        guard = self.element.dataset.get("guard")
        if guard == "halt":
            self.halt()
        elif guard == "forbid":
            self.forbid()

    def attempt(self) -> None:
        self.session["guarded"] = self.session.get("guarded", 0) + 1
