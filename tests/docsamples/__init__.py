"""Pages and reflexes on which tests/browser/test_docs_samples.py runs the docs' samples.

The HTML samples are read from ``docs/*.md`` at each request, by position, so the page a
test opens is the sample as the docs show it today.
"""
