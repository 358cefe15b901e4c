"""``element``: full data names, attributes and state (django-sockpuppet truncated ``data-post-id``)."""

from sockpuppet.element import Element


def test_dataset_keeps_full_data_names():
    element = Element({"data-post-id": "7", "id": "x"}, {"post-id": "7", "reflex-root": "#a"})
    assert element.dataset["post-id"] == "7"
    assert element.dataset["reflex-root"] == "#a"
    assert "post" not in element.dataset


def test_dataset_sent_by_client_wins_over_attributes():
    element = Element({"data-step": "1"}, {"step": "2"})
    assert element.dataset["step"] == "2"


def test_state_accessors():
    element = Element(
        {"tag_name": "input", "value": "hi", "checked": True, "values": ["a", "b"], "id": "q"}
    )
    assert element.tag_name == "INPUT"
    assert element.value == "hi"
    assert element.checked is True
    assert element.values == ["a", "b"]
    assert element["id"] == "q"
    assert element.get("missing") is None
