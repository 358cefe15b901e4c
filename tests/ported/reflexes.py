"""The blog's reflexes, as written for django-sockpuppet; the two changed lines are marked
``# ported:`` (README.md lists them with the reason)."""

from sockpuppet import Reflex  # ported: was `from sockpuppet.reflex import Reflex`
from tests.ported.forms import CommentForm


class BlogReflex(Reflex):
    def like(self):
        post_id = self.element.dataset["post-id"]  # ported: was dataset["post"]
        likes = self.session.get("likes", {})
        likers = likes.setdefault(post_id, [])
        if self.request.user.username not in likers:
            likers.append(self.request.user.username)
        self.session["likes"] = likes

    def rate(self, stars):
        stars_by_post = self.session.get("stars", {})
        stars_by_post[self.element.dataset["post-id"]] = int(stars)
        self.session["stars"] = stars_by_post

    def comment(self):
        form = CommentForm(self.params)
        if not form.is_valid():
            self.comment_errors = form.errors
            self.comment_post = self.params.get("post")
            return
        comments = self.session.get("comments", [])
        comments.append(
            {
                "post": form.cleaned_data["post"],
                "author": self.request.user.username,
                "body": form.cleaned_data["body"],
            }
        )
        self.session["comments"] = comments

    def count_view(self):
        self.session["views"] = self.session.get("views", 0) + 1
        self.session["shares"] = self.session.get("shares", 0) + 1

    def report(self):
        raise Exception("error happened")
