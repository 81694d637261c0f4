"""The one fan-out over customers: order, real concurrency within its bound, the pool sized to
its threads, progress, per-customer errors and the one summary sentence."""
from __future__ import annotations

import threading

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._fanout import (
    customer_entry, customer_error, fan_out, failed_customers, raise_for_failed_customers)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._http import HttpClient


def pool_size(http):
    return http.adapter._pool_maxsize  # noqa: SLF001


def test_results_keep_the_items_order_and_run_concurrently():
    """Broken by: a serial loop (the barrier never fills), results in completion order."""
    http = HttpClient(pool_size=1)
    both_started = threading.Barrier(2, timeout=5)

    def work(item):
        if item < 2:
            both_started.wait()
        return item * 10
    assert fan_out(http, [1, 0, 2, 3], work, 2) == [10, 0, 20, 30]
    assert pool_size(http) == 2


@pytest.mark.parametrize("concurrency,items,threads", [(8, 3, 3), (2, 5, 2), (0, 2, 1), (-4, 2, 1)])
def test_threads_are_bounded_by_concurrency_and_items(concurrency, items, threads):
    """Broken by: a pool of concurrency threads for fewer items, no floor of one thread."""
    http = HttpClient(pool_size=1)
    seen, lock = set(), threading.Lock()

    def work(item):
        with lock:
            seen.add(threading.get_ident())
        return item
    assert fan_out(http, list(range(items)), work, concurrency) == list(range(items))
    assert len(seen) <= threads and pool_size(http) == max(1, threads)


def test_no_items_no_threads_no_progress():
    calls = []
    assert fan_out(HttpClient(pool_size=1), [], lambda item: item, 4, progress=lambda *a: calls.append(a)) == []
    assert calls == []


def test_progress_counts_done_and_failed_entries_of_the_total():
    """Broken by: failures not counted, counted from a result that is not an entry, a wrong total."""
    calls = []
    results = [{"error": None}, {"error": "x"}, "plain", {"error": "y"}]
    fan_out(HttpClient(pool_size=1), [0, 1, 2, 3], lambda item: results[item], 1,
            progress=lambda *counts: calls.append(counts))
    assert calls == [(1, 0, 4), (2, 1, 4), (3, 1, 4), (4, 2, 4)]


def test_a_customer_error_is_kept_in_its_entry_and_the_others_go_on():
    """Broken by: an error that stops the fan-out, fields reset or lost, the code dropped."""
    def fill(entry):
        entry["step"] = "read"
        if entry["tenant_id"] == "bad":
            raise SecureAppError("Refused.", code="consent_forbidden")
        entry["step"] = "done"
    entries = fan_out(HttpClient(pool_size=1), ["ok", "bad"],
                      lambda customer: customer_entry(customer, fill, step=None), 2)
    assert entries == [{"tenant_id": "ok", "step": "done", "error": None, "error_code": None},
                       {"tenant_id": "bad", "step": "read", "error": "Refused.", "error_code": "consent_forbidden"}]
    assert failed_customers(entries) == entries[1:]
    assert customer_error(SecureAppError("m", code="c")) == {"error": "m", "error_code": "c"}


def test_an_unexpected_exception_is_not_turned_into_an_entry():
    """Its text may hold a value given to the task: the caller's unexpected-error sentence handles it."""
    def fill(entry):
        raise KeyError("secret")
    with pytest.raises(KeyError):
        customer_entry("c", fill)


def test_the_summary_sentence_names_counts_and_the_first_failure():
    """Broken by: another customer named first, the counts swapped, the first code lost."""
    entries = [{"tenant_id": "a", "error": None, "error_code": None},
               {"tenant_id": "b", "error": "B failed.", "error_code": "b_code"},
               {"tenant_id": "c", "error": "C failed.", "error_code": "c_code"}]
    raise_for_failed_customers(entries[:1], "customers gave an error")
    with pytest.raises(SecureAppError) as raised:
        raise_for_failed_customers(entries, "customers gave an error", details={"customers": entries},
                                   secret_result={"refresh_token": "r"})
    assert raised.value.message == "2 of 3 customers gave an error; first, b: B failed."
    assert (raised.value.code, raised.value.details, raised.value.secret_result) == \
        ("b_code", {"customers": entries}, {"refresh_token": "r"})
