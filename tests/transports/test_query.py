"""The endpoints' query strings read as ``parse_qs`` reads them, first value of each name."""

from urllib.parse import parse_qs

from hypothesis import example, given
from hypothesis import strategies as st

from transports.common import query

PIECES = ["a", "b", "=", "&", "&&", "+", "%2F", "%E2%82%AC", "%zz", "%", "é", ";", " ", "token"]


@given(st.lists(st.sampled_from(PIECES), max_size=12))
@example(["a", "=", "b", "&", "a", "=", "token"])  # the first value counts
def test_a_query_string_reads_as_parse_qs_reads_it(pieces):
    raw = "".join(pieces).encode()
    expected = parse_qs(raw.decode("latin-1"), keep_blank_values=True)
    assert dict(query({"query_string": raw})) == {k: v[0] for k, v in expected.items()}


def test_a_long_poll_query_reads_afresh_when_only_since_changed():
    first = query({"query_string": b"token=t%2B1&since=%7B%22a%22%3A1%7D"})
    second = query({"query_string": b"token=t%2B1&since=%7B%22a%22%3A2%7D"})
    assert first == {"token": "t+1", "since": '{"a":1}'}
    assert second == {"token": "t+1", "since": '{"a":2}'}
