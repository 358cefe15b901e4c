"""``manage.py sockpuppet_reflex APP NAME``: scaffold a reflex, its view and its template."""

from __future__ import annotations

import inspect
import keyword
import re
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sockpuppet.registry import registry

# Each module's import, then its code: a new module gets both; an existing ``reflexes.py``
# or ``views.py`` (as ``startapp`` makes) gets the code appended, the import when missing;
# an existing ``reflexes/`` or ``views/`` package gets a module of its own.
REFLEX = (
    "from sockpuppet import Reflex\n",
    '''class {name}Reflex(Reflex):
    def increment(self, step=1):
        """Add ``step`` to a count kept in the session; the page re-renders."""
        self.session["{slug}_count"] = self.session.get("{slug}_count", 0) + int(step)
''',
)

VIEW = (
    "from django.shortcuts import render\n",
    """def {slug}(request):
    return render(request, "{app}/{slug}.html", {{"count": request.session.get("{slug}_count", 0)}})
""",
)

TEMPLATE = """{{% load {libraries} %}}<!doctype html>
<html>
<head>
  <title>{name}</title>
  {{% sockpuppet_scripts %}}{script}
</head>
<body>
  {content}
</body>
</html>
"""

COUNTER = """<output id="count">{{{{ count }}}}</output>
  <button data-reflex="click->{name}Reflex#increment">+1</button>"""

# The reflex's element is inside the controller's: its callbacks run for reflexes there.
WITH_CONTROLLER = """<div data-controller="{slug}">
    {counter}
  </div>"""

CONTROLLER = """// Register with: Sockpuppet.application.register("{slug}", {name}Controller)
// (load this file after {{% sockpuppet_scripts %}}, with `defer`).
class {name}Controller extends Sockpuppet.Controller {{
  beforeReflex(element, target) {{
    element.setAttribute("aria-busy", "true")
  }}

  finalizeReflex(element, target) {{
    element.removeAttribute("aria-busy")
  }}
}}

Sockpuppet.application.register("{slug}", {name}Controller)
"""


class Command(BaseCommand):
    help = (
        "Scaffold a reflex, a view and a template (and optionally a Stimulus controller) in an app."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("app", help="the label of an installed app")
        parser.add_argument("name", help="the reflex's name in CamelCase, e.g. Counter")
        parser.add_argument(
            "--javascript", action="store_true", help="also write a Stimulus controller"
        )
        parser.add_argument("--force", action="store_true", help="overwrite existing files")

    def handle(
        self, *args: Any, app: str, name: str, javascript: bool, force: bool, **options: Any
    ) -> None:
        try:
            config = apps.get_app_config(app)
        except LookupError:
            raise CommandError(f"No installed app with label {app!r}.") from None
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name) or keyword.iskeyword(name):
            raise CommandError(f"{name!r} is not a CamelCase class name such as 'Counter'.")
        name = name.removesuffix("Reflex") or name
        slug = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
        root = Path(config.path)
        files: dict[Path, str] = {}
        appended: dict[Path, str] = {}
        code = {
            "reflexes": (REFLEX, f"class {name}Reflex("),
            "views": (VIEW, f"def {slug}("),
        }
        for package, ((imports, body), defines) in code.items():
            body = body.format(name=name, slug=slug, app=config.label)
            module = root / f"{package}.py"
            if (root / package / "__init__.py").exists():  # imported before a module beside it
                files[root / package / f"{slug}.py"] = f"{imports}\n\n{body}"
                continue
            existing = module.read_text() if module.exists() else ""
            if any(line.startswith(defines) for line in existing.splitlines()):
                raise CommandError(
                    f"{module} already defines {defines.rstrip('(').split()[-1]}: "
                    "edit it there, or pick another name."
                )
            if existing:
                appended[module] = _with_import(existing, imports).rstrip("\n") + f"\n\n\n{body}"
            else:
                files[module] = f"{imports}\n\n{body}"
        counter = COUNTER.format(name=name)
        script = ""
        if javascript:
            files[root / "static" / config.label / f"{slug}_controller.js"] = CONTROLLER.format(
                name=name, slug=slug
            )
            counter = WITH_CONTROLLER.format(slug=slug, counter=counter.replace("\n", "\n  "))
            script = (
                f'\n  <script src="{{% static "{config.label}/{slug}_controller.js" %}}" defer>'
                "</script>"
            )
        files[root / "templates" / config.label / f"{slug}.html"] = TEMPLATE.format(
            libraries="sockpuppet static" if javascript else "sockpuppet",
            name=name,
            script=script,
            content=counter,
        )
        taken = registry().get(f"{name}Reflex")
        if taken is not None and not (force and _source(taken) in files):
            raise CommandError(
                f"A reflex named {name}Reflex exists already ({taken.__module__}): reflex "
                "class names are unique in a project (a data-reflex names only the class); "
                "pick another name."
            )
        clashes = [p for p in files if p.exists() and p.read_text() and not force]
        if clashes:
            raise CommandError(f"Not overwriting {', '.join(map(str, clashes))} (use --force).")
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            if text or not path.exists():
                path.write_text(text)
            self.stdout.write(f"wrote {path.relative_to(root.parent)}")
        for path, text in appended.items():
            path.write_text(text)
            self.stdout.write(f"added to {path.relative_to(root.parent)}")
        in_package = root / "views" / f"{slug}.py" in files
        views = f"{config.name}.views" + (f".{slug}" if in_package else "")
        self.stdout.write(
            f"\nAdd the view to your URLconf:\n"
            f"    from {views} import {slug}\n"
            f'    path("{slug}/", {slug}, name="{slug}"),\n'
        )


def _source(cls: type) -> Path | None:
    source = inspect.getsourcefile(cls)
    return Path(source).resolve() if source else None


def _with_import(source: str, line: str) -> str:
    """``source`` with the import ``line``: kept if there, else put before its first import
    (after any ``from __future__``), or at its end when it has none."""
    lines = source.splitlines(keepends=True)
    if line in lines:
        return source
    first = next(
        (
            n
            for n, text in enumerate(lines)
            if text.startswith(("import ", "from ")) and not text.startswith("from __future__")
        ),
        None,
    )
    if first is None:
        return source.rstrip("\n") + ("\n\n" if source.strip() else "") + line
    return "".join([*lines[:first], line, *lines[first:]])
