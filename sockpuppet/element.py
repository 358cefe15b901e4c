"""The element that triggered a reflex, as the browser described it."""

from __future__ import annotations

from typing import Any


class Element:
    """Attributes, dataset and state of the triggering element.

    ``dataset`` is keyed by full data names without the ``data-`` prefix:
    ``data-post-id="3"`` is ``element.dataset["post-id"]``.
    """

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        dataset: dict[str, Any] | None = None,
        inner_html: str = "",
        text: str = "",
    ) -> None:
        self.attrs: dict[str, Any] = dict(attrs or {})
        self.dataset: dict[str, Any] = {
            **{k[5:]: v for k, v in self.attrs.items() if k.startswith("data-")},
            **(dataset or {}),
        }
        self.inner_html = inner_html
        self.text = text

    @property
    def tag_name(self) -> str:
        return str(self.attrs.get("tag_name", "")).upper()

    @property
    def value(self) -> Any:
        return self.attrs.get("value")

    @property
    def values(self) -> list[Any]:
        return list(self.attrs.get("values") or [])

    @property
    def checked(self) -> bool:
        return bool(self.attrs.get("checked"))

    @property
    def selected(self) -> bool:
        return bool(self.attrs.get("selected"))

    def __getitem__(self, name: str) -> Any:
        return self.attrs[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)

    @property
    def attributes(self) -> dict[str, Any]:
        """``attrs`` under django-sockpuppet's name."""
        return self.attrs

    def __repr__(self) -> str:
        return f"<Element {self.tag_name or '?'} {self.attrs.get('id', '')}>".replace(" >", ">")
