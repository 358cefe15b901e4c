from uuid import uuid4

from django.http import Http404
from django.shortcuts import render

PAGES = {"stimulate", "roots", "lifecycle"}


def page(request, name):
    """A parity page, connected over ``?transport=`` only; ``?debug=1`` turns debug on."""
    if name not in PAGES:
        raise Http404(name)
    context = {
        "transport": request.GET.get("transport", ""),
        "debug": request.GET.get("debug") == "1",
        "bumps": request.session.get("parity_bumps", 0),
        "render_id": uuid4().hex,
    }
    return render(request, f"parity/{name}.html", context)
