from django.urls import include, path

from tests.testapp import views

urlpatterns = [
    path("", views.counter, name="counter"),
    path("class/", views.CounterView.as_view(), name="class-counter"),
    path("jinja/", views.jinja_counter, name="jinja-counter"),
    path("broken/", views.broken, name="broken"),
    path("guarded/", views.guarded, name="guarded"),
    path("redirect/", views.redirect_away, name="redirect"),
    path("echo/", views.echo, name="echo"),
    path("after-body/", views.after_body, name="after-body"),
    path("operations/", views.operations, name="operations"),
    path("parity/", include("tests.parity.urls")),
    path("ported/", include("tests.ported.urls")),
]
urlpatterns.append(path("docsamples/", include("tests.docsamples.urls")))
