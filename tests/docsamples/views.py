from django.http import HttpResponse
from django.shortcuts import render
from django.template import engines

from tests.docsamples.samples import sample

# A fragment without the client (broadcasting.md's) gets a page around it.
PAGE = "{% load sockpuppet %}<html><head>{% sockpuppet_scripts %}</head><body>SAMPLE</body></html>"


def html_sample(request, doc, index):
    """``docs/<doc>``'s HTML block ``index``, rendered with the session's counter."""
    source = sample(doc, "html", index)
    if "sockpuppet_scripts" not in source:
        source = PAGE.replace("SAMPLE", source)
    template = engines["django"].from_string(source)
    return HttpResponse(template.render({"count": request.session.get("count", 0)}, request))


def cart(request):
    """The page client.md's JavaScript samples run on."""
    return render(request, "docsamples/cart.html", {"cart": request.session.get("cart", 0)})
