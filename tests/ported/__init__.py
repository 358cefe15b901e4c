"""A blog written for django-sockpuppet, ported to Sockpuppet (issue 5).

README.md lists every line that differs from the django-sockpuppet original and why;
tests/browser/test_ported_app.py drives it in Chromium on each transport.
"""
