from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def playground(request: HttpRequest) -> HttpResponse:
    """Everything in the session, so each morph shows what the reflexes changed."""
    session = request.session
    session["renders"] = session.get("renders", 0) + 1
    context = {
        "renders": session["renders"],
        "quiet": session.get("quiet", 0),
        "guarded": session.get("guarded", 0),
        "root_a": session.get("root_a", 0),
        "root_b": session.get("root_b", 0),
        "sequence": session.get("sequence", []),
    }
    return render(request, "playground/playground.html", context)
