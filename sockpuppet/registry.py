"""Discovery of reflex classes and safe resolution of ``"ClassName#method"`` targets.

Every installed app's ``reflexes`` module or package (with its submodules) is imported,
and every ``Reflex`` subclass at any depth is registered by class name; a class defined
later (in a test module) is found by its name too. A target resolves
only to a public plain method defined on a registered class or on a class it inherits
before ``Reflex``: never ``Reflex``'s own methods, ``_private`` names, properties,
static or class methods, or attributes.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import module_has_submodule

from sockpuppet.reflex import Reflex


class TargetError(Exception):
    """A reflex target that cannot be run; the message is fit for the client."""


_registry: dict[str, type[Reflex]] | None = None


def discover() -> dict[str, type[Reflex]]:
    """Import every app's reflexes and return the registry; names must be unique."""
    global _registry
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "reflexes"):
            _import_tree(f"{config.name}.reflexes")
    found: dict[str, type[Reflex]] = {}
    for cls in _subclasses(Reflex):
        other = found.get(cls.__name__)
        if other is not None and other is not cls:
            raise ImproperlyConfigured(
                f"Two reflexes are named {cls.__name__}: {_path(other)} and {_path(cls)}. "
                "Reflex class names must be unique; rename one."
            )
        found[cls.__name__] = cls
    _registry = found
    return found


def registry() -> dict[str, type[Reflex]]:
    return _registry if _registry is not None else discover()


# Actions every reflex has, defined on Reflex itself (django-sockpuppet had them too).
BUILT_IN_ACTIONS = frozenset({"reload"})


def resolve(target: str) -> tuple[type[Reflex], str]:
    """``"CounterReflex#increment"`` -> (CounterReflex, "increment"), or ``TargetError``."""
    class_name, sep, method_name = target.partition("#")
    if not sep or not class_name or not method_name:
        raise TargetError(f"Reflex target {target!r} must look like 'ClassName#method'.")
    cls = _find(class_name)
    if cls is None:
        if _find(f"{class_name}Reflex") is not None:  # StimulusReflex's "Example#do" short form
            raise TargetError(
                f"No reflex class named {class_name!r}: write the class's full name, "
                f"'{class_name}Reflex#{method_name}'."
            )
        raise TargetError(
            f"No reflex class named {class_name!r}.{_near(class_name)} Reflexes live in an "
            "installed app's reflexes.py or reflexes/ package and subclass sockpuppet.Reflex."
        )
    if method_name.startswith("_") or not method_name.isidentifier():
        raise TargetError(
            f"{class_name}#{method_name} is not a public method; only public methods can be called."
        )
    if method_name in BUILT_IN_ACTIONS:
        return cls, method_name
    if hasattr(Reflex, method_name) or _defining_class(cls, method_name) is None:
        raise TargetError(
            f"{class_name} has no reflex action {method_name!r}: an action is a public method "
            f"defined on {class_name} or a class it inherits before sockpuppet.Reflex."
        )
    return cls, method_name


def check_arguments(method: Callable[..., Any], args: list[Any]) -> None:
    """Refuse a call whose arguments do not fit the method, before running it."""
    function = getattr(method, "__func__", method)
    bound = (method.__self__,) if function is not method else ()  # type: ignore[attr-defined]
    try:
        _signature(function).bind(*bound, *args)
    except TypeError as exc:
        raise TargetError(
            f"{method.__qualname__} cannot take {len(args)} argument(s): {exc}."
        ) from None


@functools.cache
def _signature(function: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(function)  # slow to build: once per reflex method


def _find(name: str) -> type[Reflex] | None:
    """The registered class, or one defined since discovery (in a test module, say): it
    is looked for among ``Reflex``'s subclasses each time, never remembered, so a class of
    the same name defined later (the next test module's) is never shadowed by it."""
    found = registry().get(name)
    if found is not None:
        return found
    late = [cls for cls in _subclasses(Reflex) if cls.__name__ == name]
    if len(late) > 1:
        raise TargetError(
            f"Two reflexes are named {name}: {_path(late[0])} and {_path(late[1])}. "
            "Reflex class names must be unique; rename one."
        )
    return late[0] if late else None


def _near(name: str) -> str:
    """With DEBUG on, the registered name a typo was likely meant to be (the names of a
    project's reflexes are not for every visitor)."""
    if not settings.DEBUG:
        return ""
    close = difflib.get_close_matches(name, registry(), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _defining_class(cls: type[Reflex], name: str) -> type | None:
    for klass in cls.__mro__:
        if issubclass(Reflex, klass):
            return None
        if name in vars(klass):
            member = vars(klass)[name]
            return klass if inspect.isfunction(member) else None
    return None


def _subclasses(cls: type[Reflex]) -> Iterator[type[Reflex]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _import_tree(name: str) -> None:
    module = importlib.import_module(name)
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=f"{name}."):
        importlib.import_module(info.name)


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
