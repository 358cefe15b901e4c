from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.generic import TemplateView


def counter(request):
    return render(request, "testapp/counter.html", {"count": request.session.get("count", 0)})


def jinja_counter(request):
    """The counter page in a Jinja2 template (tests/testapp/jinja2/)."""
    count = request.session.get("count", 0)
    return render(request, "testapp/counter.html", {"count": count}, using="jinja2")


def after_body(request):
    """A template with content after ``</body>``, which browsers put into the body."""
    return render(request, "testapp/after_body.html", {"count": request.session.get("count", 0)})


class CounterView(TemplateView):
    template_name = "testapp/counter.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "count": self.request.session.get("count", 0)}


def broken(request):
    if getattr(request, "sockpuppet_reflex", None) is not None:
        raise RuntimeError("the view broke during a reflex render")
    return render(request, "testapp/counter.html", {"count": -1})


def guarded(request):
    """Like ``@permission_required(..., raise_exception=True)`` for a visitor lacking it."""
    if request.session.get("count", 0) >= 1:
        raise PermissionDenied("only below one")
    return render(request, "testapp/counter.html", {"count": request.session.get("count", 0)})


def redirect_away(request):
    return redirect("/class/")


def echo(request):
    """Reflex data in every HTML context a template puts it (tests/hardening)."""
    return render(request, "testapp/echo.html")


def operations(request):
    """A stage for DOM operations, connected over ``?transport=`` and following ``?stream=``
    (tests/browser/test_operations.py)."""
    context = {
        "transport": request.GET.get("transport", ""),
        "stream": request.GET.get("stream", "operations"),
    }
    return render(request, "testapp/operations.html", context)
