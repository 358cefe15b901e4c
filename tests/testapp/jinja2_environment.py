"""The test app's Jinja2 environment, as docs/client.md shows it."""

from typing import Any

from jinja2 import Environment

from sockpuppet.jinja2 import GLOBALS


def environment(**options: Any) -> Environment:
    env = Environment(**options)
    env.globals.update(GLOBALS)
    return env
