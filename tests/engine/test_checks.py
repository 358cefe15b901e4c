"""System checks name the offending key and explain."""

import pytest
from django.core import checks
from django.test import override_settings

from sockpuppet.checks import (
    check_asgi,
    check_bus,
    check_project,
    check_reflex_modules,
    check_sessions,
    check_settings,
)


def ids(messages):
    return [m.id for m in messages]


def test_a_clean_configuration_passes():
    assert (
        check_settings() == []
        and check_project() == []
        and check_bus() == []
        and check_asgi() == []
        and check_sessions() == []
        and check_reflex_modules() == []
    )


@override_settings(
    SOCKPUPPET={
        "TRANSPORTS": ["carrier-pigeon"],
        "HEARTBAET": 3,
        "URL_PREFIX": "x",
        "HEARTBEAT": -1,
    }
)
def test_bad_settings_name_their_key():
    messages = check_settings()
    text = " ".join(m.msg for m in messages)
    assert set(ids(messages)) == {
        "sockpuppet.E002",
        "sockpuppet.E003",
        "sockpuppet.E005",
        "sockpuppet.E006",
    }
    assert 'SOCKPUPPET["HEARTBAET"]' in text and 'SOCKPUPPET["TRANSPORTS"]' in text


def test_reflex_threads_is_a_whole_number_or_none(settings):
    for value in (None, 1, 64):
        settings.SOCKPUPPET = {"REFLEX_THREADS": value}
        assert check_settings() == [], value
    for value in (0, 2.5, "8", True):
        settings.SOCKPUPPET = {"REFLEX_THREADS": value}
        messages = check_settings()
        assert ids(messages) == ["sockpuppet.E006"], value
        assert (
            'SOCKPUPPET["REFLEX_THREADS"]' in messages[0].msg and "whole number" in messages[0].msg
        )


def test_a_missing_context_processor_warns(settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "OPTIONS": {"context_processors": []}}]
    assert ids(check_project()) == ["sockpuppet.W001"]


def test_no_session_middleware_is_an_error(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "SessionMiddleware" not in m]
    assert "sockpuppet.E007" in ids(check_project())


def test_memory_bus_with_several_workers_warns(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    [warning] = check_bus()
    assert warning.id == "sockpuppet.W002" and "4 worker processes" in warning.msg


@pytest.mark.parametrize(
    ("argv", "gunicorn_args", "workers"),
    [
        (["uvicorn", "app:application", "--workers", "3"], "", 3),
        (["uvicorn", "app:application", "--workers=3"], "", 3),
        (["gunicorn", "-w", "5", "-k", "uvicorn.workers.UvicornWorker"], "", 5),
        (["gunicorn", "-w5", "app:application"], "", 5),
        (["gunicorn", "app:application"], "--workers 2 --timeout 30", 2),
        (["uvicorn", "app:application", "--ws-ping-interval", "20"], "", 1),
    ],
)
def test_workers_on_the_command_line_count(monkeypatch, argv, gunicorn_args, workers):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("UVICORN_WORKERS", raising=False)
    monkeypatch.setattr("sys.argv", argv)
    monkeypatch.setenv("GUNICORN_CMD_ARGS", gunicorn_args)
    found = check_bus()
    assert ids(found) == (["sockpuppet.W002"] if workers > 1 else [])
    assert workers == 1 or f"{workers} worker processes" in found[0].msg


@pytest.mark.parametrize(
    ("argv", "file", "config", "workers"),
    [
        (["gunicorn", "-c", "conf.py", "app:application"], "conf.py", "workers = 3\n", 3),
        (["gunicorn", "--config=conf.py", "app"], "conf.py", "bind = ':80'\nworkers = 2\n", 2),
        (["/venv/bin/gunicorn", "app:application"], "gunicorn.conf.py", "workers = 4\n", 4),
        (["/lib/gunicorn/__main__.py", "app"], "gunicorn.conf.py", "workers = 4\n", 4),
        (["gunicorn", "-c", "conf.py", "-w", "1", "app"], "conf.py", "workers = 3\n", 1),
        (["gunicorn", "-c", "conf.py", "app"], "conf.py", "workers = cpu_count() * 2\n", 1),
        (["gunicorn", "-c", "conf.py", "app"], "conf.py", "workers = (\n", 1),
        (["gunicorn", "-c", "python:project.conf", "app"], "gunicorn.conf.py", "workers = 3\n", 1),
        (["uvicorn", "app:application"], "gunicorn.conf.py", "workers = 4\n", 1),
    ],
)
def test_workers_in_gunicorns_config_file_count(monkeypatch, tmp_path, argv, file, config, workers):
    """Read, not run: a literal ``workers = N`` counts; an expression or a module does not."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("UVICORN_WORKERS", raising=False)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / file).write_text(config)
    monkeypatch.setattr("sys.argv", argv)
    found = check_bus()
    assert ids(found) == (["sockpuppet.W002"] if workers > 1 else [])
    assert workers == 1 or f"{workers} worker processes" in found[0].msg


@override_settings(SOCKPUPPET={"BUS": "redis://:secret@127.0.0.1:1/0"})
def test_an_unreachable_redis_warns_without_leaking_the_password():
    [warning] = check_bus()
    assert warning.id == "sockpuppet.W003" and "secret" not in warning.msg and "***" in warning.msg


@pytest.mark.parametrize(("policy", "warned"), [("allkeys-lru", True), ("noeviction", False)])
def test_a_redis_that_evicts_keys_when_full_warns(clean_redis, policy, warned):
    with clean_redis.client() as client:
        client.config_set("maxmemory", "100mb")
        client.config_set("maxmemory-policy", policy)
        try:
            with override_settings(SOCKPUPPET={"BUS": clean_redis.url}):
                found = check_bus()
        finally:
            client.config_set("maxmemory", "0")
            client.config_set("maxmemory-policy", "noeviction")
    assert ids(found) == (["sockpuppet.W007"] if warned else [])
    assert not warned or "allkeys-lru" in found[0].msg


def test_an_asgi_module_without_sockpuppet_warns(tmp_path, monkeypatch, settings):
    package = tmp_path / "plainproject"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "asgi.py").write_text(
        "from django.core.asgi import get_asgi_application\napplication = get_asgi_application()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    settings.ASGI_APPLICATION = "plainproject.asgi.application"
    [warning] = check_asgi()
    assert warning.id == "sockpuppet.W004" and "plainproject.asgi" in warning.msg
    settings.ASGI_APPLICATION = "tests.asgi.application"
    assert check_asgi() == []


def test_django_sockpuppets_asgi_application_left_in_the_settings_warns(settings):
    settings.ASGI_APPLICATION = "sockpuppet.routing.application"
    [warning] = check_asgi()
    assert warning.id == "sockpuppet.W004" and "sockpuppet.routing" in warning.msg


def test_a_reflexes_module_hidden_by_a_package_beside_it_is_named(tmp_path):
    app = tmp_path / "shadowed"
    (app / "reflexes").mkdir(parents=True)
    (app / "reflexes.py").write_text("class LostReflex: ...\n")
    config = type("Config", (), {"path": str(app), "label": "shadowed"})()
    assert check_reflex_modules([config]) == []  # a folder without __init__.py is no package
    (app / "reflexes" / "__init__.py").write_text("")
    [warning] = check_reflex_modules([config])
    assert warning.id == "sockpuppet.W006" and str(app / "reflexes.py") in warning.msg


def test_checks_are_registered():
    assert {
        check_settings,
        check_project,
        check_bus,
        check_asgi,
        check_sessions,
        check_reflex_modules,
    } <= set(checks.registry.registry.get_checks())


LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SHARED = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


@pytest.mark.parametrize(
    ("bus", "engine", "caches", "warns"),
    [
        ("redis://127.0.0.1:1/0", "cached_db", LOCMEM, True),
        ("redis://127.0.0.1:1/0", "cache", LOCMEM, True),
        ("redis://127.0.0.1:1/0", "cached_db", SHARED, False),
        ("redis://127.0.0.1:1/0", "db", LOCMEM, False),
        ("memory", "cached_db", LOCMEM, False),
    ],
)
def test_sessions_cached_in_each_process_warn_on_the_redis_bus(
    settings, bus, engine, caches, warns
):
    """Any process may run a tab's next reflex on the Redis bus: a session read from one
    process's own cache would be stale after another process changed it."""
    settings.SOCKPUPPET = {"BUS": bus}
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{engine}"
    settings.CACHES = caches
    found = check_sessions()
    assert ids(found) == (["sockpuppet.W005"] if warns else [])
    if warns:
        assert "LocMemCache" in found[0].msg and "SESSION_ENGINE" in found[0].msg


@override_settings(SOCKPUPPET="oops")
def test_a_sockpuppet_setting_that_is_not_a_dict_is_reported_not_raised():
    messages = check_settings() + check_bus() + check_sessions() + check_project()
    assert ids(messages) == ["sockpuppet.E001"]


@override_settings(ASGI_APPLICATION=None)
def test_the_checks_run_inside_override_settings():
    """Regression. Bug: inside ``override_settings`` (and with ``settings.configure()``)
    ``SETTINGS_MODULE`` is None, and the ASGI check raised AttributeError, failing the
    whole check run."""
    assert check_asgi() == []
