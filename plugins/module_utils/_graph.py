# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

Microsoft Graph v1.0 for the app registration and its pre-consent."""

from __future__ import annotations

import time
from typing import Any

from ._clouds import Cloud
from ._errors import SecureAppError
from ._http import (HttpClient, StatusHint, StatusHints, checked_response, follow_pages, json_body, same_origin_link,
                    service_error)
from ._redact import remember

# After a create, Graph may answer 404 for a moment (replication): reads of a fresh object wait.
REPLICATION_WAITS = (1, 2, 4, 8)


def odata_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Graph:
    def __init__(self, http: HttpClient, cloud: Cloud, access_token: str) -> None:
        self.http = http
        self.base = f"{cloud.graph}/v1.0"
        self.cloud = cloud
        self.headers = {"Authorization": f"Bearer {access_token}"}

    def status_hints(self) -> StatusHints:
        """What a refusal means for these calls (subclasses add their own)."""
        return {
            401: StatusHint(f"Microsoft Graph refused the access token ({{code}}): get a token for {self.cloud.graph} "
                            "in the partner tenant."),
            403: StatusHint("permission denied by Microsoft Graph ({code}): sign in as a Global Administrator (or "
                            "Application Administrator) of the partner tenant, with Application.ReadWrite.All or "
                            "Directory.AccessAsUser.All."),
        }

    def _error(self, action: str, response) -> SecureAppError:
        return service_error(action, response, hints=self.status_hints())

    def _send(self, method: str, path: str, action: str, *, expected: tuple[int, ...] = (200,),
              missing_ok: bool = False, create_once: bool = False, **kwargs: Any):
        """The response when its status is expected; None when missing_ok and Graph says 404."""
        url = path if path.startswith("https://") else self.base + path
        response = self.http.request(method, url, headers=self.headers, create_once=create_once, **kwargs)
        return checked_response(response, action, expected=expected, hints=self.status_hints(), missing_ok=missing_ok)

    def _call(self, method: str, path: str, action: str, **kwargs: Any) -> Any:
        response = self._send(method, path, action, **kwargs)
        body = json_body(response) if response is not None and response.content else None
        if isinstance(body, dict):
            remember(body.get("secretText"))  # a client secret addPassword created
        return body

    def _all(self, path: str, action: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        def next_of(page: Any) -> tuple[str, dict[str, str]] | None:
            link = page.get("@odata.nextLink") if isinstance(page, dict) else None
            return (same_origin_link(link, self.base), {}) if link else None

        first = self._call("GET", path, action, params=params)
        return [item for page in follow_pages(self.http, action, first, next_of,
                                              lambda url, _headers: self._call("GET", url, action))
                for item in (page.get("value") or [] if isinstance(page, dict) else [])]

    # applications --------------------------------------------------------------------------------
    def find_applications(self, *, app_id: str | None = None, display_name: str | None = None) -> list[dict[str, Any]]:
        if app_id:
            query = f"appId eq {odata_quote(app_id)}"
        else:
            query = f"displayName eq {odata_quote(display_name or '')}"
        return self._all("/applications", f"look up application {app_id or display_name!r}", {"$filter": query})

    def get_application(self, object_id: str) -> dict[str, Any] | None:
        for wait in (0,) + REPLICATION_WAITS:
            time.sleep(wait)
            found = self._call("GET", f"/applications/{object_id}", f"read application {object_id}", missing_ok=True)
            if found is not None:
                return found
        return None

    def create_application(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create; the caller has made sure no app has this name. When the connection drops after
        sending, the app may exist: look for it by name before sending the create again."""
        action = f"create application {body.get('displayName')!r}"
        try:
            return self._call("POST", "/applications", action, expected=(201,), create_once=True, json=body)
        except SecureAppError as error:
            if error.code != "connection":
                raise
        found = self.find_applications(display_name=body["displayName"])
        if len(found) == 1:
            return found[0]
        return self._call("POST", "/applications", action, expected=(201,), create_once=True, json=body)

    def update_application(self, object_id: str, changes: dict[str, Any]) -> None:
        self._call("PATCH", f"/applications/{object_id}", f"update application {object_id}", expected=(204,),
                   json=changes)

    def delete_application(self, object_id: str) -> None:
        self._call("DELETE", f"/applications/{object_id}", f"delete application {object_id}", expected=(204,),
                   missing_ok=True)

    def add_password(self, object_id: str, display_name: str, end: str | None) -> dict[str, Any]:
        """Add a client secret. Never replayed blindly: a lost answer would leave a secret nobody
        knows. When the connection drops after sending, a secret that appeared meanwhile is that
        lost one: it is removed, then the secret is added once more."""
        credential: dict[str, Any] = {"displayName": display_name}
        if end:
            credential["endDateTime"] = end
        action = f"add a client secret to {object_id}"
        known = {c.get("keyId") for c in (self.get_application(object_id) or {}).get("passwordCredentials") or []}
        try:
            return self._call("POST", f"/applications/{object_id}/addPassword", action, create_once=True,
                              json={"passwordCredential": credential})
        except SecureAppError as error:
            if error.code != "connection":
                raise
        for orphan in (self.get_application(object_id) or {}).get("passwordCredentials") or []:
            if orphan.get("keyId") not in known:
                self.remove_password(object_id, orphan["keyId"])
        return self._call("POST", f"/applications/{object_id}/addPassword", action, create_once=True,
                          json={"passwordCredential": credential})

    def remove_password(self, object_id: str, key_id: str) -> None:
        self._call("POST", f"/applications/{object_id}/removePassword",
                   f"remove client secret {key_id} from {object_id}", expected=(204,), json={"keyId": key_id})

    # certificates and federated credentials (see _app_credentials) ------------------------------
    def key_credentials(self, object_id: str) -> list[dict[str, Any]]:
        """The app's key credentials with their keys (Graph returns `key` only on this $select)."""
        app = self._call("GET", f"/applications/{object_id}", f"read the certificates of application {object_id}",
                         params={"$select": "keyCredentials"})
        return list((app or {}).get("keyCredentials") or [])

    def add_key(self, object_id: str, key_credential: dict[str, Any], proof: str) -> dict[str, Any]:
        return self._call("POST", f"/applications/{object_id}/addKey", f"add a certificate to {object_id}",
                          create_once=True, json={"keyCredential": key_credential, "passwordCredential": None,
                                                  "proof": proof})

    def remove_key(self, object_id: str, key_id: str, proof: str) -> None:
        self._call("POST", f"/applications/{object_id}/removeKey", f"remove certificate {key_id} from {object_id}",
                   expected=(204,), json={"keyId": key_id, "proof": proof})

    def federated_credentials(self, object_id: str) -> list[dict[str, Any]]:
        return self._all(f"/applications/{object_id}/federatedIdentityCredentials",
                         f"list the federated credentials of application {object_id}")

    def create_federated_credential(self, object_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/applications/{object_id}/federatedIdentityCredentials",
                          f"add federated credential {body.get('name')!r} to {object_id}", expected=(201,),
                          create_once=True, json=body)

    def update_federated_credential(self, object_id: str, credential_id: str, changes: dict[str, Any]) -> None:
        self._call("PATCH", f"/applications/{object_id}/federatedIdentityCredentials/{credential_id}",
                   f"update federated credential {credential_id} of {object_id}", expected=(204,), json=changes)

    # service principals ----------------------------------------------------------------------
    def find_service_principal(self, app_id: str) -> dict[str, Any] | None:
        found = self._all("/servicePrincipals", f"look up the service principal of {app_id}",
                          {"$filter": f"appId eq {odata_quote(app_id)}"})
        return found[0] if found else None

    def create_service_principal(self, app_id: str) -> dict[str, Any]:
        action = f"create the service principal of {app_id}"
        response = self._send("POST", "/servicePrincipals", action, expected=(201, 409), json={"appId": app_id})
        if response.status_code == 201:
            return json_body(response)
        if response.status_code == 409:  # created meanwhile (or by a replayed request)
            existing = self.find_service_principal(app_id)
            if existing:
                return existing
        raise self._error(action, response)

    # groups -------------------------------------------------------------------------------------
    def find_group(self, display_name: str) -> list[dict[str, Any]]:
        return self._all("/groups", f"look up group {display_name!r}",
                         {"$filter": f"displayName eq {odata_quote(display_name)}"})

    def group_member_ids(self, group_id: str) -> set[str]:
        return {m["id"] for m in self._all(f"/groups/{group_id}/members", f"list the members of {group_id}")}

    def add_member(self, group_id: str, object_id: str) -> bool:
        """Add; False when it was a member already (Graph answers 400 for that)."""
        action = f"add {object_id} to group {group_id}"
        response = self._send("POST", f"/groups/{group_id}/members/$ref", action, expected=(204, 400),
                              json={"@odata.id": f"{self.base}/directoryObjects/{object_id}"})
        if response.status_code == 204:
            return True
        body = json_body(response) or {}
        message = (body.get("error") or {}).get("message", "") if isinstance(body, dict) else ""
        if "already exist" in str(message):
            return False
        raise self._error(action, response)

    def remove_member(self, group_id: str, object_id: str) -> bool:
        return self._send("DELETE", f"/groups/{group_id}/members/{object_id}/$ref",
                          f"remove {object_id} from group {group_id}", expected=(204,), missing_ok=True) is not None
