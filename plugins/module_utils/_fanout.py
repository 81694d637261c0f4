# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The one fan-out over customers (or any list of items): a thread pool over the run's one HTTP
session, its connection pool sized to the threads, results in the items' order, a progress
callback, each customer's failure kept in its own entry, and the one sentence that sums up the
customers that failed."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence, TypeVar

from ._errors import SecureAppError
from ._http import HttpClient

Item = TypeVar("Item")
Result = TypeVar("Result")
# progress(done, failed, total), called after each item from the worker threads.
Progress = Callable[[int, int, int], None]


def fan_out(http: HttpClient, items: Sequence[Item], work: Callable[[Item], Result], concurrency: int, *,
            progress: Progress | None = None) -> list[Result]:
    """work(item) for each item, at most concurrency at a time, results in the items' order. An
    item counts as failed for progress when its result is an entry with an error."""
    if not items:
        return []
    workers = max(1, min(concurrency, len(items)))
    http.ensure_pool(workers)
    if progress is None:
        counted = work
    else:
        done, failed, lock = 0, 0, threading.Lock()

        def counted(item: Item) -> Result:
            nonlocal done, failed
            result = work(item)
            with lock:
                done += 1
                failed += bool(isinstance(result, dict) and result.get("error"))
                progress(done, failed, len(items))
            return result

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(counted, items))


def customer_error(error: SecureAppError) -> dict[str, Any]:
    """The error keys of a customer's entry: the one place a per-customer message is made."""
    return {"error": error.message, "error_code": error.code}


def customer_entry(customer: str, fill: Callable[[dict[str, Any]], None], **fields: Any) -> dict[str, Any]:
    """One customer's entry: tenant_id, the given fields, error and error_code. fill(entry) does
    the customer's work and sets the fields; a SecureAppError it raises becomes the entry's error
    (the fields keep what fill set before it failed), so one customer never stops the others."""
    entry: dict[str, Any] = {"tenant_id": customer, **fields, "error": None, "error_code": None}
    try:
        fill(entry)
    except SecureAppError as error:
        entry.update(customer_error(error))
    return entry


def failed_customers(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in entries if entry.get("error")]


def raise_for_failed_customers(entries: list[dict[str, Any]], outcome: str, **error_options: Any) -> None:
    """When any customer failed: 'N of M <outcome>; first, <tenant>: <its error>', with the first
    failure's code. error_options go to the SecureAppError (details, secret_result)."""
    failed = failed_customers(entries)
    if failed:
        first = failed[0]
        raise SecureAppError(f"{len(failed)} of {len(entries)} {outcome}; first, {first['tenant_id']}: "
                             f"{first['error']}", code=first["error_code"], **error_options)
