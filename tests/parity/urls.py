from django.urls import path

from tests.parity import views

urlpatterns = [path("<str:name>/", views.page, name="parity-page")]
