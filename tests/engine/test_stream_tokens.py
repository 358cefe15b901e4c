"""Stream tokens name a named stream, and cannot be forged."""

import pytest
from django.core import signing

from sockpuppet import streams


def test_a_token_is_the_same_each_time_it_is_rendered():
    # A page morph renders the page's stream elements again: the same token leaves the
    # attribute unchanged, so the client neither subscribes nor unsubscribes.
    assert streams.sign("room:42") == streams.sign("room:42") != streams.sign("room:43")
    assert streams.verify(streams.sign("room:42")) == "n.room:42"


def test_tokens_signed_with_a_timestamp_before_still_name_their_stream():
    older = signing.dumps("room:42", salt="sockpuppet.stream", compress=True)
    assert streams.verify(older) == "n.room:42"


@pytest.mark.parametrize(
    "token",
    [
        streams.sign("room")[:-2] + "xx",
        signing.dumps("room", salt="sockpuppet.stream")[:-2] + "xx",
        signing.Signer(salt="another.salt").sign_object("room"),
        signing.Signer(salt="sockpuppet.stream").sign_object(["room"]),
        "n.room",
        "a:b:c",
        "",
    ],
)
def test_forged_or_tampered_tokens_are_refused(token):
    with pytest.raises(streams.StreamError):
        streams.verify(token)
