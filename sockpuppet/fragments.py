"""Cutting the morph roots of a page morph out of the re-rendered HTML, with lxml.

Always the *inner* HTML of the first match: the client morphs the root's children
(``childrenOnly``), so the root element itself, which the browser already has, is kept.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector, SelectorError


class FragmentError(Exception):
    """A morph root that is not valid CSS or matches nothing in the page."""


@lru_cache(maxsize=256)
def _compile(selector: str) -> CSSSelector:
    try:
        return CSSSelector(selector, translator="html")
    except (SelectorError, etree.XPathError, RecursionError) as exc:
        raise FragmentError(f"Invalid CSS selector {selector!r}: {exc}") from None


def inner_html(page: str, selectors: list[str]) -> list[tuple[str, str]]:
    """``[(selector, inner html of its first match), ...]`` for a rendered page."""
    document = lxml_html.document_fromstring(page)
    fragments = []
    for selector in selectors:
        try:
            matches = _compile(selector)(document)
        except etree.XPathError as exc:  # valid CSS that lxml cannot run, e.g. "ns|p"
            raise FragmentError(f"Invalid CSS selector {selector!r}: {exc}") from None
        if not matches:
            raise FragmentError(
                f"The morph root {selector!r} (from data-reflex-root) matches nothing in the re-rendered page."
            )
        fragments.append((selector, _inner(matches[0])))
    return fragments


def _inner(element: etree._Element) -> str:
    head = escape(element.text, quote=False) if element.text else ""
    if element.tag in ("script", "style"):
        head = element.text or ""
    return head + "".join(
        etree.tostring(child, method="html", encoding="unicode") for child in element
    )
