"""Cutting the morph roots of a page morph out of the re-rendered HTML, with lxml.

Always the *inner* HTML of the first match: the client morphs the root's children
(``childrenOnly``), so the root element itself, which the browser already has, is kept.

The usual root, ``body`` (no ``data-reflex-root``), is cut from the text itself when the
page has one plain ``<body …>`` and one ``</body>`` followed by nothing but ``</html>``:
the markup between them, exactly as the browser parsed it when the page loaded. Anything
else (a ``<body`` in a comment or a script, content after ``</body>``, no body tag) goes
through lxml like every other root. What follows ``</body>`` (a script put after it, say)
is moved into the body first, where browsers put it: lxml leaves it beside the body, and
a page morph would remove it from the page.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

from cssselect import parser as css
from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector, SelectorError

# The morph roots a reflex may name (the client sends them, from data-reflex-root): at
# most MAX_ROOTS selectors of at most MAX_STEPS compound selectors each, and only the kinds
# lxml evaluates in time linear in the page. Sibling combinators and pseudo-classes
# (":first-child" counts the siblings before each element) take quadratic time and more:
# "li ~ li" holds a reflex thread a third of a second on a list of 1,000, and longer
# chains for hours, which no timeout can interrupt.
MAX_ROOTS = 10
MAX_STEPS = 8
_ROOT_KINDS = (css.Element, css.Hash, css.Class, css.Attrib, css.CombinedSelector)


class FragmentError(Exception):
    """A morph root that is not valid CSS or matches nothing in the page."""


@lru_cache(maxsize=256)
def _compile(selector: str) -> CSSSelector:
    try:
        return CSSSelector(selector, translator="html")
    except (SelectorError, etree.XPathError, RecursionError) as exc:
        raise FragmentError(f"Invalid CSS selector {selector!r}: {exc}") from None


def check_roots(selectors: list[str]) -> None:
    """Raise ``FragmentError`` unless ``selectors`` are morph roots this module evaluates
    quickly on any page (see ``MAX_ROOTS``; "#a, #b" counts as two)."""
    roots = 0
    for selector in selectors:
        try:
            parsed = css.parse(selector)
        except SelectorError as exc:
            raise FragmentError(f"Invalid CSS selector {selector!r}: {exc}") from None
        roots += len(parsed)
        if roots > MAX_ROOTS:
            raise FragmentError(
                f"A reflex may name at most {MAX_ROOTS} morph roots (data-reflex-root)."
            )
        if not all(_simple(tree.parsed_tree, MAX_STEPS) for tree in parsed) or any(
            tree.pseudo_element for tree in parsed
        ):
            raise FragmentError(
                f"The morph root {selector!r} is not supported: a morph root "
                "(data-reflex-root) is made of tag, #id, .class and [attribute] "
                f"selectors joined by spaces or '>', at most {MAX_STEPS} of them."
            )


def _simple(tree: css.Tree, steps: int) -> bool:
    """True if ``tree`` has at most ``steps`` compounds, each made of the linear kinds."""
    if not isinstance(tree, _ROOT_KINDS) or getattr(tree, "namespace", None):
        return False
    if isinstance(tree, css.CombinedSelector):
        return (
            tree.combinator in (" ", ">")
            and steps > 1
            and _simple(tree.selector, steps - 1)
            and _simple(tree.subselector, 1)
        )
    if isinstance(tree, css.Element):
        return True
    return _simple(tree.selector, steps)


_BODY_START = re.compile(r"""<body(?=[\s/>])(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_AFTER_BODY = re.compile(r"\s*(?:</html\s*>\s*)?", re.IGNORECASE)


def inner_html(page: str, selectors: list[str]) -> list[tuple[str, str]]:
    """``[(selector, inner html of its first match), ...]`` for a rendered page."""
    if selectors == ["body"] and (body := _plain_body(page)) is not None:
        return [("body", body)]
    document = lxml_html.document_fromstring(page)
    _after_body_into_body(document)
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


def _plain_body(page: str) -> str | None:
    """The text between the page's only ``<body …>`` and ``</body>``, if that is all
    there is to it (see the module's docstring); else None."""
    starts = list(_BODY_START.finditer(page))
    ends = list(_BODY_END.finditer(page))
    if len(starts) != 1 or len(ends) != 1 or ends[0].start() < starts[0].end():
        return None
    if _AFTER_BODY.fullmatch(page, ends[0].end()) is None:
        return None
    return page[starts[0].end() : ends[0].start()]


def _after_body_into_body(document: lxml_html.HtmlElement) -> None:
    """Move the nodes after ``</body>`` to the end of the body, as HTML's "after body"
    insertion mode does (comments too, which browsers keep beside the body: harmless)."""
    body = document.find("body")
    late = list(body.itersiblings()) if body is not None else []
    if body is None or not late:
        return
    if body.tail:  # whitespace between </body> and what follows goes in with it
        if len(body):
            body[-1].tail = (body[-1].tail or "") + body.tail
        else:
            body.text = (body.text or "") + body.tail
        body.tail = None
    for node in late:
        body.append(node)  # moves it, and its tail with it


def _inner(element: etree._Element) -> str:
    head = escape(element.text, quote=False) if element.text else ""
    if element.tag in ("script", "style"):
        head = element.text or ""
    return head + "".join(
        etree.tostring(child, method="html", encoding="unicode") for child in element
    )
