# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

Partner Center REST: the organization profile and customers."""

from __future__ import annotations

import uuid
from typing import Any

from ._clouds import Cloud
from ._errors import SecureAppError
from ._http import (HttpClient, StatusHint, StatusHints, checked_response, follow_pages, json_body, same_origin_link,
                    service_error)

CUSTOMER_PAGE_SIZE = 500


class PartnerCenter:
    def __init__(self, http: HttpClient, cloud: Cloud, access_token: str) -> None:
        self.http = http
        self.base = f"{cloud.partner_center}/v1"
        self.correlation_id = str(uuid.uuid4())  # one per run, so support can follow it
        self.headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json",
                        "MS-CorrelationId": self.correlation_id}

    def status_hints(self) -> StatusHints:
        """What a refusal means for these calls (subclasses add their own)."""
        return {401: (
            StatusHint("Partner Center requires multi-factor authentication, and the refresh token was issued "
                       "without it: run the consent again with an account that completes MFA.", code="mfa_required",
                       when=lambda body: isinstance(body, dict) and "MFA" in str(body.get("description", ""))),
            StatusHint(f"Partner Center refused the access token: use a token for {self.base.rsplit('/v1', 1)[0]} "
                       "issued in the partner tenant."),
        )}

    def _error(self, action: str, response) -> SecureAppError:
        return service_error(action, response, hints=self.status_hints())

    def _send(self, method: str, path: str, action: str, *, expected: tuple[int, ...] = (200,),
              missing_ok: bool = False, **kwargs: Any):
        """The response when its status is expected; None when missing_ok and Partner Center says 404."""
        headers = dict(self.headers, **kwargs.pop("headers", {}), **{"MS-RequestId": str(uuid.uuid4())})
        url = same_origin_link(path, self.base) if "://" in path else self.base + path
        response = self.http.request(method, url, headers=headers, **kwargs)
        return checked_response(response, action, expected=expected, hints=self.status_hints(), missing_ok=missing_ok)

    def _get(self, path: str, action: str, **kwargs: Any) -> Any:
        return json_body(self._send("GET", path, action, **kwargs))

    def organization_profile(self) -> dict[str, Any]:
        return self._get("/profiles/organization", "read the Partner Center organization profile")

    def customers(self, page_size: int = CUSTOMER_PAGE_SIZE) -> list[dict[str, Any]]:
        """All customers, following the continuation token of each page."""
        def next_of(page: Any) -> tuple[str, dict[str, str]] | None:
            link = ((page.get("links") if isinstance(page, dict) else None) or {}).get("next")
            if not link:
                return None
            # Only the continuation token is taken from the link: its other headers could replace ours.
            headers = {h["key"]: h["value"] for h in link.get("headers", [])
                       if str(h.get("key", "")).lower() == "ms-continuationtoken"}
            # links are relative to /v1 ("/customers?size=..&seekOperation=Next"); a network-path
            # reference ("//host/...") or an absolute one names a host, which must be ours.
            uri = str(link.get("uri") or "")
            path = uri[3:] if uri.startswith("/v1/") else uri
            url = same_origin_link(path, self.base) if path.startswith("//") or "://" in path else self.base + path
            return url, headers

        first = self._get("/customers", "list customers", params={"size": page_size})
        pages = follow_pages(self.http, "customers", first, next_of,
                             lambda url, headers: self._get(url, "list customers", headers=headers))
        return [item for page in pages for item in (page.get("items") or [] if isinstance(page, dict) else [])]
