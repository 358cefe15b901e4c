"""DOM operations as plain dicts: the one place their wire shape is written.

``Reflex.morph`` and ``sockpuppet.Channel`` both build operations here, so the shape
the client applies (``docs/protocol.md``) has a single source.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseRedirect

# Each operation name -> the names of its positional arguments after the selector.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "morph": ("html",),
    "inner_html": ("html",),
    "outer_html": ("html",),
    "replace": ("html",),
    "text_content": ("text",),
    "insert_adjacent_html": ("html", "position"),
    "insert_adjacent_text": ("text", "position"),
    "append": ("html",),
    "prepend": ("html",),
    "remove": (),
    "set_attribute": ("name", "value"),
    "remove_attribute": ("name",),
    "add_css_class": ("name",),
    "remove_css_class": ("name",),
    "set_value": ("value",),
    "set_property": ("name", "value"),
    "set_dataset_property": ("name", "value"),
    "set_style": ("name", "value"),
    "set_focus": (),
    "set_title": ("title",),
    "push_state": ("url",),
    "replace_state": ("url",),
    "redirect_to": ("url",),
    "reload": (),
    "dispatch_event": (),
    "console_log": (),
}


def build(op: str, selector: str | None, *args: Any, **options: Any) -> dict[str, Any]:
    """One operation: ``build("set_attribute", "#x", "title", "hi")``."""
    names = OPERATIONS.get(op)
    if names is None:
        raise ValueError(
            f"Unknown operation {op!r}: the operations are {', '.join(sorted(OPERATIONS))}."
        )
    if selector is not None and not isinstance(selector, str):
        raise TypeError(f"{op}() takes a CSS selector string first, not {selector!r}")
    if len(args) > len(names):
        raise TypeError(
            f"{op}() takes the selector and at most {len(names)} values ({', '.join(names)})"
        )
    if op == "redirect_to" and args:
        args = (redirect_url(args[0]), *args[1:])
    operation: dict[str, Any] = {"op": op, "selector": selector}
    operation.update(zip(names, args, strict=False))
    operation.update({_camel(k): v for k, v in options.items()})
    return operation


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def redirect_url(url: Any) -> str:
    """``url`` if Django's ``redirect()`` would send a browser there; else raises
    ``DisallowedRedirect`` as it does (a ``javascript:`` or ``data:`` URL taken from a
    ``?next=`` parameter would otherwise run in the page)."""
    return str(HttpResponseRedirect(str(url)).url)
