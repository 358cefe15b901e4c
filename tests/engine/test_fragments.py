"""Cutting a page morph's roots out of the re-rendered page (``sockpuppet/fragments.py``).

The usual root, ``body``, is cut from the text when the page is plain: the markup exactly
as the browser parsed it at page load (lxml would re-serialize it: ``<p>a`` becomes
``<p>a</p>``). Anything unusual goes through lxml, as every other root does.
"""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from sockpuppet.fragments import inner_html


def through_lxml(page: str) -> str:
    body = lxml_html.document_fromstring(page).body
    return (body.text or "") + "".join(
        lxml_html.tostring(child, encoding="unicode") for child in body
    )


@pytest.mark.parametrize(
    ("page", "inner"),
    [
        (
            '<!doctype html><html><head><title>t</title></head>\n<body class="x">'
            "<p>unclosed<div>a</div>\n</body>\n</html>\n",
            "<p>unclosed<div>a</div>\n",
        ),
        ("<HTML><BODY data-x=\"a>b\" data-y='c>'><p>x</BODY></HTML>", "<p>x"),
        ("<html><body><body-part>x</body-part></body></html>", "<body-part>x</body-part>"),
    ],
)
def test_a_plain_body_is_cut_from_the_text_as_it_is(page, inner):
    assert inner_html(page, ["body"]) == [("body", inner)]


@pytest.mark.parametrize(
    "page",
    [
        "<html><head><!-- <body> --></head><body><p>x</body></html>",  # a <body in a comment
        '<html><body><script>var s = "</body>"</script><p>x</body></html>',  # in a script
        "<html><p>no body tag</p></html>",
    ],
)
def test_anything_unusual_goes_through_lxml(page):
    assert inner_html(page, ["body"]) == [("body", through_lxml(page))]


def test_other_roots_go_through_lxml():
    page = "<html><body><main><p>a</main><p>b</body></html>"
    assert inner_html(page, ["main"]) == [("main", "<p>a</p>")]
    assert inner_html(page, ["main", "body"])[1] == ("body", "<main><p>a</p></main><p>b</p>")


@pytest.mark.parametrize(
    ("page", "inner"),
    [
        (
            '<html><body><p>x</body>\n<div id="late">late</div><script src="late.js"></script></html>',
            '<p>x</p>\n<div id="late">late</div><script src="late.js"></script>',
        ),
        ("<html><body></body><p>only after</p></html>", "<p>only after</p>"),
        ("<html><body/><p>x</html>", "<p>x</p>"),  # browsers ignore the "/": <p> is inside
        ("<html><body>text</body> <!-- c --><i>i</i> tail</html>", "text <!-- c --><i>i</i> tail"),
    ],
)
def test_what_follows_the_body_is_in_it_as_browsers_parse_it(page, inner):
    """Browsers put content after ``</body>`` at the end of the body; a page morph that
    left it out would remove it from the page."""
    assert inner_html(page, ["body"]) == [("body", inner)]


def test_a_root_after_the_body_is_found():
    page = '<html><body><p>x</body><section id="late"><b>late</b></section></html>'
    assert inner_html(page, ["#late"]) == [("#late", "<b>late</b>")]
