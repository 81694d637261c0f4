# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The SAM exchange from Key Vault as one step: read the app id, tenant id, the app's credential and
the refresh token with one vault credential, exchange the refresh token (partner tenant first),
write the rotated refresh token back before anything else can fail, then (optionally) find the
customers and get their tokens, all over the run's one HTTP session. The partner_token action and
the customers inventory plugin both call exchange_from_vault(); neither ever returns the refresh
token or the app's credential."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ._context import COMMON_ARGUMENT_SPEC, Context
from ._errors import SecureAppError
from ._gdap_relationships import Relationships
from ._gdap_verdict import USABLE_STATUSES
from ._keyvault import KEYVAULT_ARGUMENT_SPEC, KeyVault
from ._partnercenter import PartnerCenter
from ._redact import remember
from ._times import parse_time
from ._sam_credential import Certificate, ClientCredential, assertion_callable, certificate_secret_name
from ._tokens import RESOURCES, exchange

DEFAULT_SECRET_NAMES = {"app_id": "sam-app-id", "tenant_id": "sam-tenant-id",
                        "client_secret": "sam-client-secret", "refresh_token": "sam-refresh-token",
                        "client_certificate": "sam-client-certificate"}
# How customers are chosen: the tenants given, every customer Partner Center lists, or every
# customer with an active (or expiring) GDAP relationship.
CUSTOMER_CHOICES = ("listed", "all", "gdap")
# Entra ends a refresh token that is not exchanged for 90 days; each exchange starts anew.
REFRESH_TOKEN_LIFETIME_DAYS = 90
_UTC_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Customers handled at once, as access_token's (the README's fan-out section has the measurements).
DEFAULT_CONCURRENCY = 32


@dataclass
class AppCredential:
    """How the SAM app proves itself to Entra, as read from the vault: its kind (secret, certificate
    or federated) and msal's client_credential for it. tags are those of the vault secret that holds
    it (onboard tags a secret's or certificate's end as 'expires'); none for federated."""
    kind: str
    client_credential: ClientCredential
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class StoredSam:
    app_id: str
    tenant_id: str
    credential: AppCredential
    refresh_token: str
    refresh_token_secret: Any  # the vault's secret object: its tags and expiry are kept on write-back


def check_secret_names(names: dict[str, Any] | None) -> dict[str, str]:
    given = {k: v for k, v in (names or {}).items() if v}
    if "client_certificate" not in given and given.get("client_secret"):
        # beside the client secret's name, as the onboard role stores it
        given["client_certificate"] = certificate_secret_name(str(given["client_secret"]))
    names = dict(DEFAULT_SECRET_NAMES, **given)
    unknown = sorted(set(names) - set(DEFAULT_SECRET_NAMES))
    if unknown:
        raise SecureAppError(f"secret_names has unknown keys ({', '.join(unknown)}): use only "
                             f"{', '.join(DEFAULT_SECRET_NAMES)}.")
    return {key: str(value) for key, value in names.items()}


def _required(vault: KeyVault, name: str) -> Any:
    secret = vault.get(name)
    if secret is None or not str(secret.value or "").strip():
        raise SecureAppError(f"Secret {name!r} was not found in {vault.vault_url} (or it is soft-deleted or empty): "
                             "run the onboarding first, or check the secret names and the vault URL.",
                             code="SecretNotFound")
    return secret


def read_app_credential(vault: KeyVault, names: dict[str, str], context: Context | None = None,
                        federated: dict[str, Any] | None = None) -> AppCredential:
    """The SAM app's credential from the vault, of the kind the vault holds: a certificate (its
    private key and certificate, onboard's certificate kind), else a client secret, else none - then
    the app has a federated credential, and the workload's own token (a managed identity's, or a
    token file) is the client assertion."""
    for name, kind in ((names["client_certificate"], "certificate"), (names["client_secret"], "secret")):
        secret = vault.get(name)
        if secret is not None and str(secret.value or "").strip():
            remember(secret.value)  # a service may echo it: every message leaving the run is redacted
            tags = dict(secret.properties.tags or {})
            if kind == "certificate":
                return AppCredential("certificate", Certificate(secret.value).msal_credential(), tags)
            return AppCredential("secret", secret.value.strip(), tags)
    federated = federated or {}
    source = "file" if federated.get("client_assertion_file") else "managed_identity"
    http = context.http if context is not None else None
    return AppCredential("federated", {"client_assertion": assertion_callable(
        source, http=http, ca_bundle=getattr(http, "ca_bundle", None),
        managed_identity_client_id=federated.get("managed_identity_client_id"),
        assertion_file=federated.get("client_assertion_file"))})


def read_stored(vault: KeyVault, names: dict[str, str], context: Context | None = None,
                federated: dict[str, Any] | None = None) -> StoredSam:
    app_id = _required(vault, names["app_id"]).value.strip()
    tenant_id = _required(vault, names["tenant_id"]).value.strip()
    credential = read_app_credential(vault, names, context, federated)
    refresh = _required(vault, names["refresh_token"])
    remember(refresh.value)
    return StoredSam(app_id=app_id, tenant_id=tenant_id, credential=credential,
                     refresh_token=refresh.value.strip(), refresh_token_secret=refresh)


def store_rotated(vault: KeyVault, name: str, stored: StoredSam, rotated: str, now: datetime.datetime) -> bool:
    """Writes the rotated refresh token (tags kept, 'rotated' set); False when Entra did not rotate it."""
    if not rotated or rotated == stored.refresh_token:
        return False
    properties = stored.refresh_token_secret.properties
    tags = dict(properties.tags or {}, rotated=now.strftime(_TIME_FORMAT))
    expires = int(properties.expires_on.timestamp()) if properties.expires_on else None
    try:
        vault.set(name, rotated, content_type="text/plain", tags=tags, expires_on=expires)
    except SecureAppError as error:
        raise SecureAppError(f"The refresh token was exchanged (and so rotated by Entra) but the new one could not be "
                             f"stored: {error.message} Fix the vault access and run again while the stored token "
                             "still works.", code=error.code, status=error.status, details=error.details) from None
    return True


def _utc(value: Any) -> datetime.datetime | None:
    """A tag that is a UTC time (ISO 8601 with its time of day), or None: a tag stored by hand that
    is not one is ignored, never a failure."""
    return parse_time(value) if _UTC_TIME.match(str(value or "")) else None


def lifecycle(stored: StoredSam, now: datetime.datetime) -> dict[str, Any]:
    """When the app's secret ends and when the stored refresh token was last used (from the vault
    tags onboard and this step write): what the lifecycle warnings need, nothing secret."""
    expires = _utc(stored.credential.tags.get("expires"))
    tags = stored.refresh_token_secret.properties.tags or {}
    last_used = _utc(tags.get("rotated") or tags.get("issued"))
    return {
        "credential_kind": stored.credential.kind,
        "secret_expires": expires.strftime(_TIME_FORMAT) if expires else None,
        "secret_days_left": (expires - now).days if expires else None,
        "refresh_last_used": last_used.strftime(_TIME_FORMAT) if last_used else None,
        "refresh_unused_days": (now - last_used).days if last_used else None,
        "refresh_stops": (last_used + datetime.timedelta(days=REFRESH_TOKEN_LIFETIME_DAYS)).strftime("%Y-%m-%d")
        if last_used else None,
    }


def discover_customers(context: Context, tokens: dict[str, Any], how: str) -> list[dict[str, Any]]:
    """The customers to get tokens in: every customer Partner Center lists ('all'), or every one with
    an active or expiring GDAP relationship ('gdap'), as tenant_id, name and (Partner Center's) domain
    and delegated_access."""
    if how == "all":
        found = []
        for customer in PartnerCenter(context.http, context.cloud, tokens["partner_center"]["access_token"]).customers():
            profile = customer.get("companyProfile") or {}
            if profile.get("tenantId"):
                found.append({"tenant_id": profile["tenantId"], "name": profile.get("companyName"),
                              "domain": profile.get("domain"),
                              "delegated_access": customer.get("allowDelegatedAccess")})
        return found
    seen: dict[str, dict[str, Any]] = {}
    for relationship in Relationships(context.http, context.cloud, tokens["graph"]["access_token"]).list():
        customer = relationship.get("customer") or {}
        tenant = str(customer.get("tenantId") or "")
        if relationship.get("status") in USABLE_STATUSES and tenant and tenant.lower() not in seen:
            seen[tenant.lower()] = {"tenant_id": tenant, "name": customer.get("displayName"), "domain": None,
                                    "delegated_access": None}
    return list(seen.values())


# What discovery reads with: its token is got in the partner tenant even when not asked for.
DISCOVERY_RESOURCE = {"all": "partner_center", "gdap": "graph"}


def exchange_from_vault(context: Context, vault: KeyVault, *, secret_names: dict[str, Any] | None = None,
                        resources: list[str], customer_resources: list[str] | None = None,
                        customer_tenants: list[str] | None = None, customers: str = "listed",
                        customer_limit: int = 0, concurrency: int = DEFAULT_CONCURRENCY,
                        progress: Callable[[int, int, int], None] | None = None,
                        now: datetime.datetime | None = None,
                        federated: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read the vault, exchange, write back, then the customers. Returns what the partner_token
    fact holds (tokens, never the refresh token or the app's credential), the customers found,
    whether the rotated refresh token was stored, and the lifecycle dates."""
    if customers not in CUSTOMER_CHOICES:
        raise SecureAppError(f"customers must be one of {', '.join(CUSTOMER_CHOICES)}, not {customers!r}.")
    if customer_limit < 0:
        raise SecureAppError(f"customer_limit must be 0 (no limit) or more, not {customer_limit}.")
    names = check_secret_names(secret_names)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    stored = read_stored(vault, names, context, federated)
    # A list given wins over discovery: it is how a run is limited to some customers.
    discover = customers if customers != "listed" and not customer_tenants else None
    partner_resources = list(resources)
    if discover and DISCOVERY_RESOURCE[discover] not in partner_resources:
        partner_resources.append(DISCOVERY_RESOURCE[discover])
    outcome: dict[str, Any] = {"stored": False, "discovered": []}

    def before_customers(partner: dict[str, Any]) -> list[str] | None:
        # Before any customer: nothing after this may lose the rotated refresh token.
        outcome["stored"] = store_rotated(vault, names["refresh_token"], stored, partner["refresh_token"], now)
        if not discover:
            return list(customer_tenants)[:customer_limit] if customer_limit else None
        found = discover_customers(context, partner["tokens"], discover)
        outcome["discovered"] = found[:customer_limit] if customer_limit else found
        return [entry["tenant_id"] for entry in outcome["discovered"]]

    exchanged = exchange(context, client_id=stored.app_id, client_secret=stored.credential.client_credential,
                         tenant=stored.tenant_id, refresh_token=stored.refresh_token, resources=partner_resources,
                         customer_tenants=list(customer_tenants or []), concurrency=concurrency, progress=progress,
                         customer_resources=customer_resources or None, before_customers=before_customers)
    exchanged.pop("refresh_token", None)
    cloud = context.cloud
    return {
        "tenant_id": stored.tenant_id, "app_id": stored.app_id, "identity": exchanged["identity"],
        "endpoints": exchanged["endpoints"], "tokens": exchanged["tokens"],
        "customer_tokens": exchanged["customer_tokens"], "customer_errors": exchanged["customer_errors"],
        "customers_asked": len(exchanged["customers"]), "discovered": outcome["discovered"],
        "retries": context.http.retries_seen, "stored": outcome["stored"], "cloud": cloud.name,
        "lifecycle": lifecycle(stored, now), "obtained_at": now.strftime(_TIME_FORMAT),
    }


# The partner_token action's options (its module documents them).
CONNECTION_OPTIONS = ("cloud", "cloud_endpoints", "ca_bundle", "timeout", "retries", "max_retry_wait", "deadline",
                      "option_names")
PARTNER_TOKEN_STEP_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    **{name: COMMON_ARGUMENT_SPEC[name] for name in CONNECTION_OPTIONS},
    **KEYVAULT_ARGUMENT_SPEC,
    # Names of secrets, not secrets.
    "secret_names": {"type": "dict", "no_log": False, "default": dict(DEFAULT_SECRET_NAMES),
                     "options": {key: {"type": "str", "no_log": False,
                                       # unset, the certificate's is named beside the client secret's
                                       **({} if key == "client_certificate" else {"default": value})}
                                 for key, value in DEFAULT_SECRET_NAMES.items()}},
    "resources": {"type": "list", "elements": "str", "choices": list(RESOURCES),
                  "default": ["partner_center", "graph", "azure"]},
    "customer_resources": {"type": "list", "elements": "str", "choices": list(RESOURCES)},
    "customer_tenants": {"type": "list", "elements": "str", "default": []},
    "customers": {"type": "str", "choices": list(CUSTOMER_CHOICES), "default": "listed"},
    "customer_limit": {"type": "int", "default": 0},
    "concurrency": {"type": "int", "default": DEFAULT_CONCURRENCY},
    # When the vault holds neither a certificate nor a client secret: the federated credential's token.
    "managed_identity_client_id": {"type": "str"},
    "client_assertion_file": {"type": "path"},
}


def run_step(context: Context, params: dict[str, Any],
             progress: Callable[[int, int, int], None] | None = None) -> dict[str, Any]:
    """The partner_token step with its validated options (the action's and the module's work)."""
    if not params.get("resources"):
        raise SecureAppError("resources is empty: name at least one resource.")
    vault = KeyVault(context.http, context.cloud, params["vault_url"], tenant_id=params.get("vault_tenant_id"),
                     client_id=params.get("vault_client_id"),
                     client_secret=context.option("vault_client_secret"))
    result = exchange_from_vault(
        context, vault, secret_names=params.get("secret_names"), resources=params["resources"],
        customer_resources=params.get("customer_resources"), customer_tenants=params.get("customer_tenants"),
        customers=params.get("customers") or "listed", customer_limit=params.get("customer_limit") or 0,
        concurrency=params.get("concurrency") or DEFAULT_CONCURRENCY, progress=progress,
        federated={"managed_identity_client_id": params.get("managed_identity_client_id"),
                   "client_assertion_file": params.get("client_assertion_file")})
    fact = {
        "tenant_id": result["tenant_id"], "app_id": result["app_id"], "upn": result["identity"].get("upn"),
        "mfa": result["identity"].get("mfa"),
        # As given: the modules that take the fact take these options.
        "cloud": params.get("cloud") or "AzureCloud", "cloud_endpoints": params.get("cloud_endpoints") or {},
        "ca_bundle": params.get("ca_bundle") or "", "endpoints": result["endpoints"],
        "resources": result["tokens"], "customers": result["customer_tokens"],
        "customer_errors": result["customer_errors"], "customer_list": result["discovered"],
        "obtained_at": result["obtained_at"], "retries": result["retries"],
    }
    return {"changed": result["stored"], "stored": result["stored"], "fact": fact,
            "customers_asked": result["customers_asked"], "lifecycle": result["lifecycle"]}
