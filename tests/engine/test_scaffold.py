"""``manage.py sockpuppet_reflex`` writes a reflex that works as written."""

import gc
import shutil
import sys
from importlib import import_module, reload
from io import StringIO

import lxml.html
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings


@pytest.fixture
def scratch_app(tmp_path, monkeypatch):
    package = tmp_path / "scratch"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [m for m in sys.modules if m == "scratch" or m.startswith("scratch.")]:
        del sys.modules[name]
    shutil.rmtree(package)
    gc.collect()  # its reflex classes go too: another test's may have the same names


def test_scaffolds_files_that_import_and_render(scratch_app, settings):
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "scratch"]):
        out = StringIO()
        call_command("sockpuppet_reflex", "scratch", "Clicker", "--javascript", stdout=out)
        for path in ("reflexes.py", "views.py", "templates/scratch/clicker.html",
                     "static/scratch/clicker_controller.js"):  # fmt: skip
            assert (scratch_app / path).exists(), path
        # Modules, as the docs' examples have them: a package would hide a reflexes.py.
        assert not (scratch_app / "reflexes").exists() and not (scratch_app / "views").exists()
        source = (scratch_app / "reflexes.py").read_text()
        compile(source, "reflexes.py", "exec")
        assert "class ClickerReflex(Reflex)" in source
        assert "from scratch.views import clicker" in out.getvalue()
        template = (scratch_app / "templates" / "scratch" / "clicker.html").read_text()
        page = lxml.html.fromstring(template.split("%}", 1)[1])
        # The controller's callbacks run for reflexes of elements inside it.
        (button,) = page.cssselect('[data-controller="clicker"] button')
        assert button.get("data-reflex") == "click->ClickerReflex#increment"
        with pytest.raises(CommandError, match="already defines ClickerReflex"):
            call_command("sockpuppet_reflex", "scratch", "Clicker")


def test_an_app_with_packages_gets_a_module_in_each(scratch_app, settings):
    for package in ("reflexes", "views"):
        (scratch_app / package).mkdir()
        (scratch_app / package / "__init__.py").write_text("")
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "scratch"]):
        out = StringIO()
        call_command("sockpuppet_reflex", "scratch", "Tally", stdout=out)
        assert not (scratch_app / "reflexes.py").exists()
        assert import_module("scratch.reflexes.tally").TallyReflex.increment
        assert callable(import_module("scratch.views.tally").tally)
        assert "from scratch.views.tally import tally" in out.getvalue()
        with pytest.raises(CommandError, match="Not overwriting"):
            call_command("sockpuppet_reflex", "scratch", "Tally")


STARTAPP_VIEWS = "from django.shortcuts import render\n\n# Create your views here.\n"
OWN_REFLEXES = '''"""The app's reflexes."""

from __future__ import annotations

import math


class OtherReflex:
    pass
'''


def test_an_app_made_by_startapp_gets_the_code_added_to_its_modules(scratch_app, settings):
    (scratch_app / "views.py").write_text(STARTAPP_VIEWS)
    (scratch_app / "reflexes.py").write_text(OWN_REFLEXES)
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "scratch"]):
        out = StringIO()
        call_command("sockpuppet_reflex", "scratch", "Clicker", stdout=out)
        assert not (scratch_app / "views").exists() and not (scratch_app / "reflexes").exists()
        views = reload(import_module("scratch.views"))  # imported as the app registered
        reflexes = reload(import_module("scratch.reflexes"))
        assert callable(views.clicker) and reflexes.ClickerReflex.increment
        assert reflexes.OtherReflex and reflexes.math  # what was there stays
        text = (scratch_app / "reflexes.py").read_text()
        assert text.index("from __future__") < text.index("from sockpuppet import Reflex")
        assert "from scratch.views import clicker" in out.getvalue()
        with pytest.raises(CommandError, match="already defines ClickerReflex"):
            call_command("sockpuppet_reflex", "scratch", "Clicker", "--force")


@pytest.mark.parametrize(
    ("app", "name", "complaint"),
    [("nope", "Counter", "No installed app"), ("testapp", "counter", "CamelCase")],
)
def test_bad_arguments_are_clear_errors(app, name, complaint):
    with pytest.raises(CommandError, match=complaint):
        call_command("sockpuppet_reflex", app, name)


def test_a_name_another_app_has_taken_is_refused_before_anything_is_written(scratch_app, settings):
    """Regression (newcomer audit). Bug: ``Counter`` beside the README's CounterReflex
    wrote a second CounterReflex, and every manage.py command failed from then on."""
    with (
        override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "scratch"]),
        pytest.raises(
            CommandError,
            match=r"A reflex named CounterReflex exists already \(tests\.testapp\.reflexes\.counter\)",
        ),
    ):
        call_command("sockpuppet_reflex", "scratch", "Counter", stdout=StringIO())
    assert sorted(p.name for p in scratch_app.iterdir()) == ["__init__.py"]
