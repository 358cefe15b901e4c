"""Pages and reflexes for the client parity tests (tests/browser/test_client_parity.py).

Each page shows what the server received or rendered, so the browser test can read it
back: ``ParityEchoReflex#echo`` morphs ``#echo`` into JSON of its reflex's attributes;
the roots page renders a session counter in several regions and an id per render; the
lifecycle page records every callback and ``sockpuppet:*`` event in ``window.__parityLog``.
"""
