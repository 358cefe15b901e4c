"""The chat room in Chromium: two people in two browser contexts (two Django sessions) see
each other's messages, on every transport; a blank message is refused in the form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import wait_connected
from tests.support.server import DemoServer

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "sse", "longpoll"]


def join(page: Page, server: DemoServer, transport: str | None = None) -> Page:
    page.goto(server.url + "/chat/")
    wait_connected(page, transport)
    return page


def say(page: Page, text: str) -> None:
    page.locator("#chat-text").fill(text)
    page.locator("#chat-text").press("Enter")


def texts(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#messages .message-text").all_inner_texts()]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_two_people_see_each_others_messages(
    server_factory: Callable[..., DemoServer], new_page: Callable[[], Page], transport: str
) -> None:
    server = server_factory(transports=transport)
    alice = join(new_page(), server, transport)
    bob = join(new_page(), server, transport)
    assert alice.locator("#chat-me").inner_text() or bob.locator("#chat-me").inner_text()
    expect(alice.locator(".chat-empty")).to_be_visible()

    say(alice, "Hello <b>Bob</b> & all")
    for page in (alice, bob):
        # Escaped by the template: the markup shows as text, no <b> element appears.
        expect(page.locator("#messages .message-text")).to_have_text(["Hello <b>Bob</b> & all"])
        expect(page.locator("#messages b")).to_have_count(0)
        expect(page.locator(".chat-empty")).to_be_hidden()
    expect(alice.locator("#chat-text")).to_have_value("")

    say(bob, "Hi Alice")
    # Alice answers once she has read it (else the two race, and either order is right).
    expect(alice.locator("#messages .message-text").last).to_have_text("Hi Alice")
    say(alice, "How are you?")
    for page in (alice, bob):
        expect(page.locator("#messages .message-text")).to_have_text(
            ["Hello <b>Bob</b> & all", "Hi Alice", "How are you?"]
        )
    authors = bob.locator("#messages .message-author").all_inner_texts()
    assert authors[0] == authors[2] == alice.locator("#chat-me").inner_text()
    assert authors[1] == bob.locator("#chat-me").inner_text()

    # History is stored: a newcomer sees it on load, newest last.
    carol = join(new_page(), server, transport)
    assert texts(carol) == ["Hello <b>Bob</b> & all", "Hi Alice", "How are you?"]


def test_a_blank_message_shows_the_error_and_is_not_sent(
    server_factory: Callable[..., DemoServer], new_page: Callable[[], Page]
) -> None:
    server = server_factory()
    alice = join(new_page(), server)
    bob = join(new_page(), server)

    say(alice, "   ")
    error = alice.locator("#chat-error")
    expect(error).to_have_text("Write something first.")
    expect(alice.locator("#chat-text")).to_have_attribute("aria-invalid", "true")

    say(alice, "Now with words")
    for page in (alice, bob):
        expect(page.locator("#messages .message-text")).to_have_text(["Now with words"])
    expect(error).to_have_count(0)
    expect(alice.locator("#chat-text")).to_have_value("")
    expect(bob.locator("#chat-error")).to_have_count(0)
    # The blank one was never stored.
    assert texts(join(new_page(), server)) == ["Now with words"]
