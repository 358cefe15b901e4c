"""A strict Content-Security-Policy on every page (``TESTS_CSP=1``): scripts, styles and
connections from the page's own origin only; no inline script, no ``eval``."""

POLICY = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"


class StrictContentSecurityPolicy:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Content-Security-Policy"] = POLICY
        return response
