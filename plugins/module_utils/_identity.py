# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

Everything the collection does with the identity platform goes through msal here: refresh
token exchange (partner and customer tenants), client credentials, device code, authorization
code with PKCE. AADSTS codes become one sentence with the cause and the fix, and a tenant that
lives in another national cloud is caught from its discovery document before any token request."""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from ._clouds import CLOUD_BY_INSTANCE, Cloud
from ._errors import MissingLibraryError, SecureAppError, with_support_id
from ._http import HttpClient, json_body
from ._redact import remember
from ._sam_credential import ClientCredential, cache_key, token_form

try:
    import msal
except ImportError:
    HAS_MSAL = False
else:
    HAS_MSAL = True

try:
    import jwt
except ImportError:
    HAS_JWT = False
else:
    HAS_JWT = True

OIDC_SCOPES = ("openid", "profile", "offline_access")
DISCOVERY_SUFFIX = "/v2.0/.well-known/openid-configuration"

# AADSTS code -> what happened and what to do; {tenant}, {client_id} and {cloud} are filled in.
AADSTS_EXPLANATIONS: dict[int, str] = {
    50011: "The redirect URI is not registered on app {client_id}: add it with app_registration (redirect_uris) "
           "or use the registered one.",
    50020: "The signed-in account has no access to tenant {tenant} (no delegated admin relationship): set up "
           "DAP or GDAP with that customer, or leave it out.",
    50034: "The user account does not exist in tenant {tenant}: check the user name, or sign in with an account "
           "of that tenant.",
    50057: "The user account is disabled: enable it or use another service account, then run the consent again.",
    50076: "Multi-factor authentication is required (Conditional Access): run the consent again and complete MFA.",
    50078: "The multi-factor authentication presented has expired: run the consent again and complete MFA anew.",
    50079: "The account must register for multi-factor authentication first: register MFA for it, then run the "
           "consent again.",
    50126: "The user name or password is wrong: check the credentials and sign in again.",
    53003: "Conditional Access blocked the sign-in: ask the administrator of tenant {tenant} to allow this "
           "application or location.",
    65001: "App {client_id} has no consent for this resource in tenant {tenant}: run the consent again (and, for "
           "a customer, pre-consent with admin_agents under DAP or a GDAP application consent).",
    70000: "The refresh token is malformed, revoked, or was issued to another application: run the consent again "
           "for app {client_id} and store the new refresh token.",
    70008: "The refresh token or authorization code has expired or was revoked: run the consent again to get a "
           "new refresh token.",
    700016: "Application {client_id} was not found in tenant {tenant}: check client_id, tenant_id and cloud, or "
            "create the app with app_registration.",
    700024: "The client assertion is outside its valid time range: check this machine's clock (and, for a federated "
            "credential, that the workload's token is fresh).",
    700027: "The certificate given is not a valid certificate of app {client_id} (not registered, or expired): use "
            "the one the vault holds, or rotate it (playbooks/rotate_credential.yml).",
    7000274: "The client assertion's signature does not verify with the certificate of app {client_id} it names: the "
             "private key and the certificate given are not one pair; give the PEM the onboarding stored.",
    700021: "The client assertion is not for app {client_id} (its subject is another app): give the certificate of "
            "this app.",
    700023: "The client assertion's audience is not tenant {tenant}'s token endpoint: check tenant_id and the cloud.",
    50027: "The client assertion is not a valid JWT: for a federated credential, check the token the workload gives.",
    70025: "App {client_id} has no federated identity credential: add one with app_registration (credential_kind: "
           "federated), or give the app's secret or certificate.",
    70021: "No federated identity credential of app {client_id} matches the workload's token: check its issuer, "
           "subject and audience (app_registration federated_credential).",
    700211: "No federated identity credential of app {client_id} trusts the issuer of the workload's token: set "
            "federated_credential.issuer to it (for a managed identity, https://<login host>/<tenant id>/v2.0).",
    700212: "No federated identity credential of app {client_id} has the audience of the workload's token: use "
            "api://AzureADTokenExchange (the managed identity's token is asked for that audience).",
    700213: "No federated identity credential of app {client_id} names the subject of the workload's token: set "
            "federated_credential.subject to the managed identity's object id (or the subject the issuer uses), "
            "or run where that identity is assigned (managed_identity_client_id for a user-assigned one).",
    700082: "The refresh token was unused for 90 days and has expired: run the consent again, and use the token "
            "at least every 90 days (schedule the partner_token role).",
    7000215: "The client secret of app {client_id} is wrong: rotate it with app_registration (rotate_secret: true) "
             "and store the new one.",
    7000218: "App {client_id} needs its client secret for this request: give client_secret, or allow public "
             "client flows on the app (app_registration allow_public_client_flows: true).",
    7000222: "The client secret of app {client_id} has expired: rotate it with app_registration "
             "(rotate_secret: true) and store the new one.",
    90002: "Tenant {tenant} does not exist in {cloud}: check tenant_id, or set cloud to the tenant's national "
           "cloud.",
    90038: "Tenant {tenant} lives in another national cloud than {cloud}: set cloud to the tenant's cloud.",
    900382: "Tenant {tenant} lives in another national cloud than {cloud}: set cloud to the tenant's cloud.",
    700022: "The request named scopes of two resources at once: ask for one resource per token.",
    901002: "The request used the v1 'resource' parameter: ask for the scope '<resource>/.default' instead.",
    500011: "The resource of the requested scope is not known in tenant {tenant}: check the scope and the cloud.",
    # Refresh tokens and sessions that partners' runs meet (Entra's AADSTS reference, in this collection's terms).
    50055: "The service account's password has expired: reset it, then consent again (playbooks/onboard.yml "
           "with onboard_renew_consent=true).",
    50089: "The sign-in flow expired before it completed: sign in again and finish within the time the code "
           "or page allows.",
    50132: "The account's session ended because its password expired or was changed, which also ends its "
           "refresh tokens: consent again (playbooks/onboard.yml with onboard_renew_consent=true).",
    50133: "The account's session was revoked after a password expiry or change, which also ends its refresh "
           "tokens: consent again (playbooks/onboard.yml with onboard_renew_consent=true).",
    50173: "The refresh token was revoked (a password reset, or an administrator or the user revoked the "
           "account's sessions): consent again (playbooks/onboard.yml with onboard_renew_consent=true) and "
           "store the new refresh token.",
    65004: "The consent was declined on the consent page: run the consent again and accept the permissions.",
    70002: "The client secret of app {client_id} does not match: give the secret the vault holds, or rotate "
           "it with app_registration (rotate_secret: true) and store the new one.",
    70043: "A Conditional Access sign-in frequency policy ended the refresh token: exclude the service "
           "account or the SAM app from sign-in frequency, then consent again (playbooks/onboard.yml with "
           "onboard_renew_consent=true).",
    700007: "The refresh token was issued to another application than {client_id}: store the refresh token of "
            "this app (the app id and the refresh token must come from the same onboarding), or consent again "
            "for {client_id}.",
    90099: "App {client_id} is not authorized in tenant {tenant} for the partner's delegated administrators: "
           "pre-consent it (admin_agents, under DAP) or grant a GDAP application consent "
           "(playbooks/customers.yml with customer_access_consent=true).",
    530034: "Microsoft blocked the partner's delegated administrator from tenant {tenant} because of account "
            "risk in the partner tenant: remediate the service account's risk in Entra ID Protection, then "
            "run again.",
}


def require_msal() -> None:
    if not HAS_MSAL:
        raise MissingLibraryError(
            "The Python package 'msal' is not installed where this task runs: pip install -r requirements.txt "
            "from the collection.")


# In a customer tenant the same codes mean a missing GDAP piece: what to look at is named.
CUSTOMER_EXPLANATIONS: dict[str, str] = {
    "AADSTS50020": "The service account has no access to tenant {tenant}: no active GDAP relationship with an access "
                   "assignment covering one of its groups (nor DAP); playbooks/customers.yml reports which piece is "
                   "missing and how to fix it.",
    "AADSTS65001": "App {client_id} has no consent for this resource in customer tenant {tenant}: under GDAP, consent "
                   "it with application_consent (playbooks/customers.yml with customer_access_consent=true); under "
                   "DAP, pre-consent it with admin_agents.",
}


def explain(result: dict[str, Any], *, tenant: str, client_id: str, cloud: Cloud) -> SecureAppError:
    """An msal error result (or an Entra error body) as one actionable sentence."""
    codes = result.get("error_codes") or []
    code = int(codes[0]) if codes else None
    template = AADSTS_EXPLANATIONS.get(code) if code is not None else None
    if template:
        message = template.format(tenant=tenant, client_id=client_id, cloud=cloud.name)
    else:
        description = str(result.get("error_description") or result.get("error") or "unknown error")
        first_line = description.split(" Trace ID:", maxsplit=1)[0].splitlines()[0]
        message = f"Sign-in to tenant {tenant} failed: {first_line} (see the AADSTS code at https://login.microsoftonline.com/error)."
    details = {k: result[k] for k in ("correlation_id", "trace_id") if result.get(k)}
    return SecureAppError(with_support_id(message, details),
                          code=f"AADSTS{code}" if code is not None else str(result.get("error")), details=details)


def unverified_claims(token: str | None) -> dict[str, Any]:
    """Claims of a JWT, read without verification: only to report who signed in and how (the
    APIs verify tokens; a token that is not a JWT simply yields no claims)."""
    if not token or not HAS_JWT:
        return {}
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}


@dataclass
class TokenResult:
    access_token: str
    expires_on: int
    scope: str
    tenant_id: str
    refresh_token: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    id_token_claims: dict[str, Any] = field(default_factory=dict)

    @property
    def mfa(self) -> bool:
        return "mfa" in (self.claims.get("amr") or []) or "mfa" in (self.id_token_claims.get("amr") or [])

    def identity(self) -> dict[str, Any]:
        claims = self.claims or {}
        return {
            "upn": claims.get("upn") or claims.get("unique_name") or self.id_token_claims.get("preferred_username"),
            "object_id": claims.get("oid") or self.id_token_claims.get("oid"),
            "tenant_id": claims.get("tid") or self.id_token_claims.get("tid") or self.tenant_id,
            "mfa": self.mfa,
        }

    def public(self) -> dict[str, Any]:
        """The access token with what a caller needs to use it (returned only by no_log tasks)."""
        return {"access_token": self.access_token, "expires_on": self.expires_on, "tenant_id": self.tenant_id,
                "scope": self.scope}


class _DiscoveryRecorder:
    """The http client msal gets: our session, plus a note of each tenant discovery document,
    which carries the tenant's national cloud (cloud_instance_name)."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self.documents: dict[str, tuple[int, Any]] = {}

    def get(self, url: str, **kwargs: Any):
        response = self.http.get(url, **kwargs)
        if url.split("?")[0].endswith(DISCOVERY_SUFFIX):
            self.documents[url.split("?")[0]] = (response.status_code, json_body(response))
        return response

    def post(self, url: str, **kwargs: Any):
        return self.http.post(url, **kwargs)

    def close(self) -> None:
        pass


class Identity:
    """msal applications for one cloud, built once per (client, tenant) and reused."""

    def __init__(self, http: HttpClient, cloud: Cloud) -> None:
        require_msal()
        self.http = http
        self.cloud = cloud
        self._recorder = _DiscoveryRecorder(http)
        # One msal http cache for every application object: a tenant's discovery is fetched once.
        self._http_cache: dict[Any, Any] = {}
        self._apps: dict[tuple[str, str, bool], Any] = {}
        self._lock = threading.Lock()

    # applications ------------------------------------------------------------------------------
    def application(self, client_id: str, tenant: str, client_secret: ClientCredential = None):
        """client_secret is msal's client_credential (see _sam_credential): a secret, a certificate or a
        federated assertion source; none makes a public client."""
        key = (client_id, tenant.lower(), cache_key(client_secret))
        with self._lock:
            if key in self._apps:
                return self._apps[key]
        options: dict[str, Any] = {
            "authority": self.cloud.authority(tenant), "http_client": self._recorder,
            "http_cache": self._http_cache,
        }
        if not self.cloud.instance_discovery:
            options["instance_discovery"] = False
        try:
            if client_secret:
                app = msal.ConfidentialClientApplication(client_id, client_credential=client_secret, **options)
            else:
                app = msal.PublicClientApplication(client_id, **options)
        except ValueError:
            raise self._discovery_error(tenant, client_id) from None
        except SecureAppError:
            raise
        except Exception as exc:  # msal raises plain exceptions for transport failures
            raise SecureAppError(f"Cannot reach the sign-in service {self.cloud.login} for tenant {tenant}: "
                                 f"{type(exc).__name__}; check the cloud endpoints and the network.") from exc
        self._check_cloud(tenant)
        with self._lock:
            self._apps.setdefault(key, app)
            return self._apps[key]

    def _discovery(self, tenant: str) -> tuple[int, Any] | None:
        return self._recorder.documents.get(self.cloud.authority(tenant) + DISCOVERY_SUFFIX)

    def _discovery_error(self, tenant: str, client_id: str) -> SecureAppError:
        status, body = self._discovery(tenant) or (None, None)
        if isinstance(body, dict) and body.get("error_codes"):
            return explain(body, tenant=tenant, client_id=client_id, cloud=self.cloud)
        return SecureAppError(f"Tenant {tenant} could not be found in {self.cloud.name} (HTTP {status}): check "
                              "tenant_id and cloud.", status=status)

    def _check_cloud(self, tenant: str) -> None:
        status, document = self._discovery(tenant) or (None, None)
        if not isinstance(document, dict):
            return
        instance = document.get("cloud_instance_name")
        if instance and instance != self.cloud.instance_name:
            other = CLOUD_BY_INSTANCE.get(instance, f"the cloud of '{instance}'")
            raise SecureAppError(
                f"Tenant {tenant} lives in {other}, not in {self.cloud.name}: set cloud: {other} (or the matching "
                "cloud_endpoints) for this tenant.", code="cross_cloud",
                details={"tenant_region_scope": document.get("tenant_region_scope")})

    # grants ----------------------------------------------------------------------------------
    def _result(self, result: dict[str, Any] | None, tenant: str, client_id: str, *,
                remember_refresh_token: bool = True) -> TokenResult:
        if result:
            # A customer's refresh token is never sent anywhere by this run, so no service can
            # echo it: remembering a thousand of them would only slow every redaction down.
            remember(result.get("access_token"), result.get("id_token"),
                     result.get("refresh_token") if remember_refresh_token else None)
        if not result or "access_token" not in result:
            raise explain(result or {}, tenant=tenant, client_id=client_id, cloud=self.cloud)
        claims = unverified_claims(result["access_token"])
        return TokenResult(
            access_token=result["access_token"],
            expires_on=int(time.time()) + int(result.get("expires_in", 0)),
            scope=" ".join(s for s in result.get("scope", "").split() if s not in OIDC_SCOPES),
            tenant_id=claims.get("tid") or tenant,
            refresh_token=result.get("refresh_token"),
            claims=claims,
            id_token_claims=result.get("id_token_claims") or {},
        )

    def _call(self, tenant: str, client_id: str, function: Callable[[], Any]) -> TokenResult:
        try:
            result = function()
        except SecureAppError:
            raise
        except msal.exceptions.MsalServiceError as exc:
            # msal raises it for an answer without an OAuth error body (an HTTP 5xx): its error is
            # then empty and its text is "HTTP Error: <status>".
            error = getattr(exc, "error", None)  # not every msal release has the attribute
            said = error or str(exc.args[0] if exc.args else "no answer")
            raise SecureAppError(f"The sign-in service for tenant {tenant} failed ({said}): try again later.",
                                 code=error or "service_error") from None
        except ValueError as exc:
            raise SecureAppError(f"msal refused the request for tenant {tenant}: {exc}") from None
        except Exception as exc:  # transport errors surface as requests exceptions through msal
            raise SecureAppError(f"Cannot reach the sign-in service {self.cloud.login} for tenant {tenant}: "
                                 f"{type(exc).__name__}; check the cloud endpoints and the network.") from exc
        return self._result(result, tenant, client_id)

    def refresh(self, client_id: str, client_secret: ClientCredential, tenant: str, refresh_token: str,
                scopes: list[str]) -> TokenResult:
        app = self.application(client_id, tenant, client_secret)
        return self._call(tenant, client_id, lambda: app.acquire_token_by_refresh_token(refresh_token, scopes))

    def refresh_in_customer(self, client_id: str, client_secret: ClientCredential, partner_tenant: str, customer: str,
                            refresh_token: str, scopes: list[str]) -> TokenResult:
        """The refresh token grant in a customer tenant, as one POST on the run's session.

        msal would build an application object per tenant, and each costs a discovery request for
        that tenant's metadata, doubling the requests of a fan-out over a thousand customers. The
        customer's token endpoint is the partner's (read from the partner tenant's discovery, which
        msal has done and checked for the national cloud) with the tenant segment changed, which
        is how the identity platform names it. The grant is the one msal sends (the same form,
        client_info, the OIDC scopes), and its answer goes through the same checks and the same
        AADSTS sentences."""
        url = self._customer_token_endpoint(client_id, client_secret, partner_tenant, customer)
        form = {"client_id": client_id, "grant_type": "refresh_token", "refresh_token": refresh_token,
                "scope": " ".join(list(scopes) + [s for s in OIDC_SCOPES if s not in scopes]), "client_info": "1"}
        form.update(token_form(client_secret, client_id, url))
        response = self.http.request("POST", url, data=form, headers={"Accept": "application/json"})
        if response.status_code >= 500:
            raise SecureAppError(f"The sign-in service for tenant {customer} failed (HTTP {response.status_code}): "
                                 "try again later.", code="service_error", status=response.status_code)
        body = json_body(response)
        try:
            return self._result(body if isinstance(body, dict) else {}, customer, client_id,
                                remember_refresh_token=False)
        except SecureAppError as error:
            template = CUSTOMER_EXPLANATIONS.get(str(error.code))
            if template:
                error.message = with_support_id(template.format(tenant=customer, client_id=client_id), error.details)
            raise

    def _customer_token_endpoint(self, client_id: str, client_secret: ClientCredential, partner_tenant: str,
                                 customer: str) -> str:
        self.application(client_id, partner_tenant, client_secret)  # the partner's discovery, done once
        _status, document = self._discovery(partner_tenant) or (None, None)
        endpoint = document.get("token_endpoint") if isinstance(document, dict) else None
        prefix = f"{self.cloud.login}/"
        if isinstance(endpoint, str) and endpoint.startswith(prefix) and "/" in endpoint[len(prefix):]:
            return f"{self.cloud.authority(customer)}/{endpoint[len(prefix):].split('/', 1)[1]}"
        return f"{self.cloud.authority(customer)}/oauth2/v2.0/token"

    def client_credentials(self, client_id: str, client_secret: ClientCredential, tenant: str, scope: str) -> TokenResult:
        app = self.application(client_id, tenant, client_secret)
        return self._call(tenant, client_id, lambda: app.acquire_token_for_client([scope]))

    def device_code(self, client_id: str, tenant: str, scopes: list[str], show: Callable[[str], None],
                    timeout: int) -> TokenResult:
        """Device code is a public client flow (msal offers it only there)."""
        app = self.application(client_id, tenant)

        def run():
            flow = app.initiate_device_flow(scopes=scopes)
            if "user_code" not in flow:
                raise explain(flow, tenant=tenant, client_id=client_id, cloud=self.cloud)
            show(flow["message"])
            flow["expires_at"] = min(flow["expires_at"], time.time() + timeout)
            return app.acquire_token_by_device_flow(flow)
        return self._call(tenant, client_id, run)

    def auth_code_flow(self, client_id: str, client_secret: ClientCredential, tenant: str, scopes: list[str],
                       redirect_uri: str, response_mode: str = "form_post", **extra: Any) -> dict[str, Any]:
        app = self.application(client_id, tenant, client_secret)
        with warnings.catch_warnings():
            # msal warns about response_mode=query, which the pasted-URL mode needs on purpose.
            warnings.simplefilter("ignore", UserWarning)
            return app.initiate_auth_code_flow(scopes, redirect_uri=redirect_uri, response_mode=response_mode,
                                               **{k: v for k, v in extra.items() if v})

    def redeem_auth_code(self, client_id: str, client_secret: ClientCredential, tenant: str, flow: dict[str, Any],
                         response: dict[str, str]) -> TokenResult:
        app = self.application(client_id, tenant, client_secret)
        if response.get("error"):
            raise SecureAppError(f"The sign-in was not completed: {response.get('error_description') or response['error']}.",
                                 code=response["error"])
        return self._call(tenant, client_id, lambda: app.acquire_token_by_auth_code_flow(flow, response))

    def redeem_plain_code(self, client_id: str, client_secret: ClientCredential, tenant: str, code: str,
                          scopes: list[str], redirect_uri: str) -> TokenResult:
        """A code from a sign-in this run did not start (no PKCE verifier to match)."""
        app = self.application(client_id, tenant, client_secret)
        return self._call(tenant, client_id, lambda: app.acquire_token_by_authorization_code(
            code, scopes, redirect_uri=redirect_uri))
