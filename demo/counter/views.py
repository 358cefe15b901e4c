from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def counter(request: HttpRequest) -> HttpResponse:
    """A function-based view: the count lives in the visitor's session."""
    return render(request, "counter/counter.html", {"count": request.session.get("count", 0)})
