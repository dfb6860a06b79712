"""Numbers read from requests, and the page count every paged list shows."""

from __future__ import annotations

from custreg_admin.rules.request_ids import page_count


def test_page_count_rounds_up_and_an_empty_list_has_one_page():
    assert page_count(0, 50) == 1
    assert page_count(1, 50) == 1
    assert page_count(50, 50) == 1
    assert page_count(51, 50) == 2
    assert page_count(1000, 20) == 50
