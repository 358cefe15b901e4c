from django import forms


class CommentForm(forms.Form):
    post = forms.CharField(widget=forms.HiddenInput)
    body = forms.CharField(max_length=140)
