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


def test_long_queries_are_read_but_not_kept():
    """Anyone may send queries of 60 KB (no token needed to be answered 401): the caches
    keep only pieces as short as a client's own, or junk would fill the memory."""
    from transports import common

    common._parsed_cached.cache_clear()
    common._pair.cache_clear()
    junk = b"x=" + b"a" * 60_000
    for n in range(3):
        raw = junk + b"%d&token=bad" % n
        assert query({"query_string": raw}) == {"x": "a" * 60_000 + str(n), "token": "bad"}
    assert common._parsed_cached.cache_info().currsize == 0
    assert common._pair.cache_info().currsize == 1  # token=bad
    client_query = b"token=" + b"t" * 300 + b"&since=%7B%7D"
    assert query({"query_string": client_query})["since"] == "{}"
    assert common._parsed_cached.cache_info().currsize == 1
