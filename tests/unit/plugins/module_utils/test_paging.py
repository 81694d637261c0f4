"""The one paging helper every listing goes through (Graph, Partner Center, Resource Manager):
each bound ends the listing with its own sentence."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._http import follow_pages

BASE = "https://graph.example"


def listing(http, max_pages=50, step=None):
    """A server whose every page links to a new page."""
    def fetch(url, _headers):
        if step:
            step()
        return {"n": int(url.rsplit("=", 1)[1])}
    return list(follow_pages(http, "groups", {"n": 0}, lambda page: (f"{BASE}/groups?page={page['n'] + 1}", {}),
                             fetch, max_pages=max_pages))


def test_a_listing_longer_than_the_page_bound_ends():
    with pytest.raises(SecureAppError) as raised:
        listing(SimpleNamespace(deadline=300), max_pages=7)
    assert raised.value.code == "paging_limit" and "after 7 pages" in raised.value.message


def test_the_deadline_applies_to_the_whole_listing():
    with pytest.raises(SecureAppError) as raised:
        listing(SimpleNamespace(deadline=0.05), step=lambda: time.sleep(0.02))
    assert raised.value.code == "paging_deadline" and "longer than the deadline" in raised.value.message


@pytest.mark.parametrize("headers", [{}, {"MS-ContinuationToken": "same"}])
def test_a_repeated_link_is_a_loop(headers):
    pages = follow_pages(SimpleNamespace(deadline=300), "customers", {}, lambda page: (f"{BASE}/customers", headers),
                         lambda url, _headers: {})
    with pytest.raises(SecureAppError) as raised:
        list(pages)
    assert raised.value.code == "paging_loop"


def test_a_new_continuation_token_on_the_same_link_is_followed():
    tokens = iter(["a", "b", "c"])

    def next_of(page):
        token = next(tokens, None)
        return (f"{BASE}/customers", {"MS-ContinuationToken": token}) if token else None
    assert len(list(follow_pages(SimpleNamespace(deadline=300), "customers", {}, next_of, lambda u, h: {}))) == 4
