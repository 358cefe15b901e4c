"""``manage.py sockpuppet_reflex`` writes a reflex that works as written."""

import shutil
import sys

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


def test_scaffolds_files_that_import_and_render(scratch_app, settings):
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "scratch"]):
        call_command("sockpuppet_reflex", "scratch", "Counter", "--javascript")
        for path in ("reflexes/counter.py", "views/counter.py", "templates/scratch/counter.html",
                     "static/scratch/counter_controller.js"):  # fmt: skip
            assert (scratch_app / path).exists(), path
        source = (scratch_app / "reflexes" / "counter.py").read_text()
        compile(source, "counter.py", "exec")
        assert "class CounterReflex(Reflex)" in source
        template = (scratch_app / "templates" / "scratch" / "counter.html").read_text()
        assert 'data-reflex="click->CounterReflex#increment"' in template
        with pytest.raises(CommandError, match="Not overwriting"):
            call_command("sockpuppet_reflex", "scratch", "Counter")


@pytest.mark.parametrize(
    ("app", "name", "complaint"),
    [("nope", "Counter", "No installed app"), ("testapp", "counter", "CamelCase")],
)
def test_bad_arguments_are_clear_errors(app, name, complaint):
    with pytest.raises(CommandError, match=complaint):
        call_command("sockpuppet_reflex", app, name)
