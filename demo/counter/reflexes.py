from sockpuppet import Reflex


class CounterReflex(Reflex):
    def increment(self) -> None:
        """Add the button's ``data-step`` to the count; the page re-renders with the view."""
        step = int(self.element.dataset.get("step", "1"))
        self.session["count"] = self.session.get("count", 0) + step

    def reset(self) -> None:
        self.session["count"] = 0
