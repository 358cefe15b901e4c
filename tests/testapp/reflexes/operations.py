"""A reflex that broadcasts whatever ``Channel`` calls a browser test names
(tests/browser/test_operations.py), so every DOM operation travels the real way:
reflex → ``Channel`` → bus → the tab's transport → the client."""

from typing import Any

from sockpuppet import Channel, Reflex

# Channel's operation methods; nothing else of it (or of object) is callable from a page.
NOT_OPERATIONS = {"broadcast", "abroadcast", "message", "for_user", "for_session"}

Call = tuple[str, list[Any], dict[str, Any]]


def queue(channel: Channel, calls: list[Call]) -> Channel:
    """Chain ``channel.<name>(*args, **options)`` for each call, as user code would."""
    for name, args, options in calls:
        if name.startswith("_") or name in NOT_OPERATIONS:
            raise ValueError(f"{name!r} is not an operation of Channel")
        channel = getattr(channel, name)(*args, **options)
    return channel


class OperationsReflex(Reflex):
    def apply(self, calls: list[Call]) -> None:
        """One broadcast to this tab's session stream, from sync code."""
        queue(Channel.for_session(self.session), calls).broadcast()
        self.morph_nothing()

    async def apply_async(self, stream: str, calls: list[Call]) -> None:
        """One broadcast to the named stream the page follows, from async code."""
        await queue(Channel(stream), calls).abroadcast()
        self.morph_nothing()
