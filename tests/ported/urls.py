from django.contrib.auth.views import LoginView
from django.urls import path

from tests.ported.views import PostListView

urlpatterns = [
    path("", PostListView.as_view(), name="ported-posts"),
    path("login/", LoginView.as_view(template_name="ported/login.html"), name="ported-login"),
]
