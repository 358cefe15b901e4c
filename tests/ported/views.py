from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse_lazy
from django.views.generic import TemplateView

POSTS = {"1": "Hello, reflexes", "2": "Porting from django-sockpuppet"}


class PostListView(LoginRequiredMixin, TemplateView):
    template_name = "ported/posts.html"
    login_url = reverse_lazy("ported-login")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        session = self.request.session
        session["renders"] = session.get("renders", 0) + 1
        likes = session.get("likes", {})
        stars = session.get("stars", {})
        comments = session.get("comments", [])
        context["posts"] = [
            {
                "id": post_id,
                "title": title,
                "likes": likes.get(post_id, []),
                "stars": stars.get(post_id, 0),
                "comments": [c for c in comments if c["post"] == post_id],
            }
            for post_id, title in POSTS.items()
        ]
        context["renders"] = session["renders"]
        context["views"] = session.get("views", 0)
        context["shares"] = session.get("shares", 0)
        return context
