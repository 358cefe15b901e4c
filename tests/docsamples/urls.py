from django.urls import path

from tests.docsamples import views

urlpatterns = [
    path("html/<str:doc>/<int:index>/", views.html_sample, name="docs-html-sample"),
    path("cart/", views.cart, name="docs-cart"),
]
