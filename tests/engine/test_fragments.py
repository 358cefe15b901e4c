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
        '<html><body><p>x</body><script src="late.js"></script></html>',  # after </body>
        "<html><p>no body tag</p></html>",
        "<html><body/><p>x</html>",
    ],
)
def test_anything_unusual_goes_through_lxml(page):
    assert inner_html(page, ["body"]) == [("body", through_lxml(page))]


def test_other_roots_go_through_lxml():
    page = "<html><body><main><p>a</main><p>b</body></html>"
    assert inner_html(page, ["main"]) == [("main", "<p>a</p>")]
    assert inner_html(page, ["main", "body"])[1] == ("body", "<main><p>a</p></main><p>b</p>")
