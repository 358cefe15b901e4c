"""Discovery and safe resolution of reflex targets (DESIGN §4)."""

import gc

import pytest
from django.core.exceptions import ImproperlyConfigured

from sockpuppet import Reflex, registry
from sockpuppet.registry import TargetError
from tests.testapp.reflexes.counter import CounterReflex


def test_discovers_subclasses_at_any_depth_and_in_subpackages():
    found = registry.discover()
    assert {"CounterReflex", "BaseCounterReflex", "DeepReflex", "InnerReflex"} <= set(found)


def test_resolves_public_methods_of_the_class_its_bases_and_mixins():
    assert registry.resolve("CounterReflex#increment") == (CounterReflex, "increment")
    assert registry.resolve("CounterReflex#shared") == (CounterReflex, "shared")
    assert registry.resolve("CounterReflex#mixed_in") == (CounterReflex, "mixed_in")
    assert registry.resolve("CounterReflex#async_action") == (CounterReflex, "async_action")


@pytest.mark.parametrize(
    ("target", "complaint"),
    [
        ("CounterReflex#_private", "not a public method"),
        ("CounterReflex#__init__", "not a public method"),
        ("CounterReflex#__class__", "not a public method"),
        ("CounterReflex#prop", "no reflex action"),
        ("CounterReflex#static", "no reflex action"),
        ("CounterReflex#morph", "no reflex action"),
        ("CounterReflex#before_reflex", "no reflex action"),
        ("CounterReflex#halt", "no reflex action"),
        ("CounterReflex#base_attributes", "no reflex action"),
        ("CounterReflex#missing", "no reflex action"),
        ("CounterReflex#not-an-identifier", "not a public method"),
        ("Reflex#morph", "No reflex class"),
        ("os#system", "No reflex class"),
        ("Counter#increment", "write the class's full name, 'CounterReflex#increment'"),
        ("TrackedMixin#mixed_in", "No reflex class"),
        ("CounterReflex", "must look like"),
        ("#increment", "must look like"),
        ("CounterReflex#", "must look like"),
    ],
)
def test_refuses_everything_that_is_not_a_public_action(target, complaint):
    with pytest.raises(TargetError, match=complaint):
        registry.resolve(target)


def test_a_typo_in_a_class_name_is_named_with_debug_on(settings):
    settings.DEBUG = True
    with pytest.raises(TargetError, match=r"'CounterReflx'\. Did you mean 'CounterReflex'\?"):
        registry.resolve("CounterReflx#increment")
    settings.DEBUG = False
    with pytest.raises(TargetError) as refused:
        registry.resolve("CounterReflx#increment")
    assert "Did you mean" not in str(refused.value)


def test_duplicate_class_names_are_a_startup_error():
    saved = registry.registry()
    # Held until discover() ran: a class is cyclic garbage, so without a reference a
    # collection in between (any allocation may start one) freed it first (flaky in CI).
    impostor = type("CounterReflex", (Reflex,), {"__module__": "tests.elsewhere"})
    try:
        with pytest.raises(ImproperlyConfigured, match="Two reflexes are named CounterReflex"):
            registry.discover()
    finally:
        # Forget the impostor: drop it from the subclass tree by deleting all references.
        import gc

        del impostor
        gc.collect()
        registry._registry = saved


def test_argument_count_is_checked_before_the_call():
    reflex = CounterReflex.__new__(CounterReflex)
    registry.check_arguments(reflex.increment, [])
    registry.check_arguments(reflex.increment, [3])
    with pytest.raises(TargetError, match="cannot take 2 argument"):
        registry.check_arguments(reflex.increment, [1, 2])


def test_a_reflex_defined_after_discovery_is_found_by_its_name():
    """Regression. Bug: only classes that existed when the registry was built resolved,
    so a reflex defined in a test module (docs/testing.md's ShoutReflex) was "No reflex
    class named 'ShoutReflex'"."""
    registry.registry()

    class LateShoutReflex(Reflex):
        def shout(self):
            pass

    assert registry.resolve("LateShoutReflex#shout") == (LateShoutReflex, "shout")
    with pytest.raises(TargetError, match="write the class's full name, 'LateShoutReflex#shout'"):
        registry.resolve("LateShout#shout")


def test_two_reflexes_defined_after_discovery_with_one_name_are_refused():
    registry.registry()
    first = type("TwiceReflex", (Reflex,), {"__module__": "tests.one", "go": lambda self: None})
    second = type("TwiceReflex", (Reflex,), {"__module__": "tests.two", "go": lambda self: None})
    with pytest.raises(TargetError, match=r"Two reflexes are named TwiceReflex: tests\.one\.Twice"):
        registry.resolve("TwiceReflex#go")
    del first, second
    gc.collect()  # cyclic garbage: gone from the subclass tree only once collected
