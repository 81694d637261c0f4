"""Application credentials other than passwords, as Entra ID keeps and checks them: certificate key
credentials (Graph's keyCredentials; addKey and removeKey with a proof of possession), federated
identity credentials, the client assertions the token endpoint verifies against both, and the
managed identity's token for api://AzureADTokenExchange that a federated credential trusts.

A leaf module: the token endpoint and Graph call it; it imports neither."""
from __future__ import annotations

import base64
import contextvars
import datetime
import hashlib
import json
import re
import uuid
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
# The audience of addKey/removeKey proofs: the Azure AD Graph application id, as documented.
PROOF_AUDIENCE = "00000002-0000-0000-c000-000000000000"
PROOF_MAX_SECONDS = 600
CLOCK_SKEW = 300
FEDERATED_KIND = "federatedIdentityCredential"
MAX_FEDERATED_CREDENTIALS = 20
FEDERATED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")
KEY_TYPES = {"AsymmetricX509Cert", "X509CertAndPassword"}
KEY_USAGES = {"Verify", "Sign"}
SIGNING_ALGORITHMS = ["RS256", "PS256"]
# The token request being answered: (tenant segment of its URL, the tenant's id, its domain), so
# that an assertion's audience is checked against the endpoint it was sent to.
TOKEN_REQUEST: contextvars.ContextVar[tuple[str, str, str]] = contextvars.ContextVar(
    "token_request", default=("", "", ""))
NO_MATCH_HINT = ("Please check your federated identity credential Subject, Audience and Issuer against the "
                 "presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation")


class CredentialError(Exception):
    """A refusal: (HTTP status, OAuth error or Graph code, AADSTS code or None, message)."""

    def __init__(self, status: int, error: str, code: int | None, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.code, self.message = status, error, code, message


def iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> float:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# key credentials -------------------------------------------------------------------------------
def load_certificate(key: Any) -> x509.Certificate:
    """The certificate of a keyCredential's `key` (base64 of the DER or of a PEM, as Graph takes it)."""
    try:
        raw = base64.b64decode(str(key), validate=True)
    except (ValueError, TypeError):
        raise CredentialError(400, "Request_BadRequest", None,
                              "Invalid value specified for property 'key' of resource 'KeyCredential'.") from None
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            if b"PRIVATE KEY" in raw:
                raise CredentialError(400, "Request_BadRequest", None,
                                      "Key credential holds a private key: upload only the public certificate.")
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except ValueError:
        raise CredentialError(400, "Request_BadRequest", None,
                              "Upload of certificate failed: the key credential is not a valid certificate.") from None


def thumbprints(certificate: x509.Certificate) -> tuple[str, str]:
    der = certificate.public_bytes(serialization.Encoding.DER)
    return hashlib.sha1(der).hexdigest().upper(), hashlib.sha256(der).hexdigest().upper()  # noqa: S324


def new_key_credential(spec: dict[str, Any], existing: list[dict[str, Any]]) -> dict[str, Any]:
    """A keyCredential as Graph stores it, from a request's entry; its validation errors are Graph's."""
    if not isinstance(spec, dict):
        raise CredentialError(400, "Request_BadRequest", None, "Invalid keyCredential: an object is expected.")
    if spec.get("type") not in KEY_TYPES:
        raise CredentialError(400, "Request_BadRequest", None,
                              "Invalid value specified for property 'type' of resource 'KeyCredential'.")
    if spec.get("usage") not in KEY_USAGES:
        raise CredentialError(400, "Request_BadRequest", None,
                              "Invalid value specified for property 'usage' of resource 'KeyCredential'.")
    if not spec.get("key"):
        raise CredentialError(400, "Request_BadRequest", None, "Property 'key' of a new keyCredential is required.")
    certificate = load_certificate(spec["key"])
    not_before = certificate.not_valid_before_utc.timestamp()
    not_after = certificate.not_valid_after_utc.timestamp()
    try:
        start = parse_time(spec["startDateTime"]) if spec.get("startDateTime") else not_before
        end = parse_time(spec["endDateTime"]) if spec.get("endDateTime") else not_after
    except (ValueError, AttributeError):
        raise CredentialError(400, "Request_BadRequest", None,
                              "Invalid value specified for property 'endDateTime' of resource 'KeyCredential'.") from None
    if end > not_after + 1 or start < not_before - 1 or end <= start:
        raise CredentialError(400, "Request_BadRequest", None,
                              "Key credential end date is invalid: it must lie within the certificate's validity.")
    sha1, _sha256 = thumbprints(certificate)
    der = certificate.public_bytes(serialization.Encoding.DER)
    if any(k.get("customKeyIdentifier") == sha1 and k.get("usage") == spec["usage"] for k in existing):
        raise CredentialError(400, "Request_BadRequest", None,
                              "Key credential with the same thumbprint and usage already exists on the application.")
    key_id = spec.get("keyId") or str(uuid.uuid4())
    return {"customKeyIdentifier": spec.get("customKeyIdentifier") or sha1, "displayName": spec.get("displayName"),
            "endDateTime": iso(end), "key": base64.b64encode(der).decode(), "keyId": key_id,
            "startDateTime": iso(start), "type": spec["type"], "usage": spec["usage"]}


def replace_key_credentials(app: dict[str, Any], entries: Any) -> list[dict[str, Any]]:
    """PATCH semantics: the list given becomes the app's key credentials. An entry naming the keyId
    of a key the app has, without `key`, keeps that key as it is."""
    if not isinstance(entries, list):
        raise CredentialError(400, "Request_BadRequest", None,
                              "Invalid value specified for property 'keyCredentials' of resource 'Application'.")
    current = {k["keyId"]: k for k in app.get("keyCredentials") or []}
    result: list[dict[str, Any]] = []
    for entry in entries:
        if isinstance(entry, dict) and not entry.get("key") and entry.get("keyId") in current:
            result.append(current[entry["keyId"]])
        else:
            result.append(new_key_credential(entry, result))
    return result


def key_credentials_view(app: dict[str, Any], with_key: bool) -> list[dict[str, Any]]:
    """Graph returns `key` only on a $select of keyCredentials for one application, else null."""
    return [dict(k, key=k["key"] if with_key else None) for k in app.get("keyCredentials") or []]


def valid_keys(app: dict[str, Any], now: float) -> list[dict[str, Any]]:
    return [k for k in app.get("keyCredentials") or [] if parse_time(k["endDateTime"]) > now
            and parse_time(k["startDateTime"]) <= now + CLOCK_SKEW]


def public_key_of(credential: dict[str, Any]):
    return x509.load_der_x509_certificate(base64.b64decode(credential["key"])).public_key()


def check_proof(app: dict[str, Any], proof: Any, now: float) -> None:
    """addKey/removeKey: a JWT signed by one of the app's valid certificates, aud the Azure AD Graph
    app id, iss the application, nbf, and exp at most 10 minutes after nbf."""
    keys = valid_keys(app, now)
    if not keys:
        raise CredentialError(400, "Request_BadRequest", None,
                              "The application has no valid certificate to prove possession of: add the first key "
                              "with an update of the application (PATCH keyCredentials).")
    if not proof or not isinstance(proof, str):
        raise CredentialError(400, "Request_BadRequest", None, "Property 'proof' is required.")
    claims = None
    for credential in keys:
        try:
            claims = jwt.decode(proof, public_key_of(credential), algorithms=SIGNING_ALGORITHMS,
                                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False,
                                         "verify_iat": False})
            break
        except jwt.PyJWTError:
            continue
    if claims is None:
        raise CredentialError(400, "Request_BadRequest", None,
                              "Proof of possession is invalid: it is not signed by a valid key of the application.")
    if claims.get("aud") != PROOF_AUDIENCE:
        raise CredentialError(400, "Request_BadRequest", None,
                              f"Proof of possession is invalid: its audience must be {PROOF_AUDIENCE}.")
    if claims.get("iss") not in (app["id"], app["appId"]):
        raise CredentialError(400, "Request_BadRequest", None,
                              "Proof of possession is invalid: its issuer must be the application.")
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(nbf, (int, float)) or not isinstance(exp, (int, float)) or exp - nbf > PROOF_MAX_SECONDS + 1 \
            or nbf > now + CLOCK_SKEW or exp < now - CLOCK_SKEW:
        raise CredentialError(400, "Request_BadRequest", None,
                              "Proof of possession is invalid: it has expired, is not valid yet, or lives longer "
                              "than 10 minutes (nbf, exp).")


# federated identity credentials ------------------------------------------------------------------
def new_federated_credential(app: dict[str, Any], body: dict[str, Any], existing: list[dict[str, Any]]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not FEDERATED_NAME.match(name):
        raise CredentialError(400, "Request_BadRequest", None,
                              "Invalid value specified for property 'name' of resource 'FederatedIdentityCredential': "
                              "3 to 120 letters, digits, '-' and '_', starting with a letter or digit.")
    if any(f["name"].lower() == name.lower() for f in existing):
        raise CredentialError(409, "Request_MultipleObjectsWithSameKeyValue", None,
                              f"FederatedIdentityCredential with name {name} already exists.")
    if len(existing) >= MAX_FEDERATED_CREDENTIALS:
        raise CredentialError(400, "Request_BadRequest", None,
                              f"An application can have at most {MAX_FEDERATED_CREDENTIALS} federated identity "
                              "credentials.")
    fields = validated_federated_fields(body, require=True)
    if any(f["issuer"] == fields["issuer"] and f["subject"] == fields["subject"] for f in existing):
        raise CredentialError(409, "Request_MultipleObjectsWithSameKeyValue", None,
                              "A federated identity credential with the same issuer and subject already exists on "
                              "the application.")
    return {"id": str(uuid.uuid4()), "name": name, "description": body.get("description"),
            "x_application_id": app["id"], **fields}


def validated_federated_fields(body: dict[str, Any], require: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for field in ("issuer", "subject"):
        if field in body or require:
            value = body.get(field)
            if not isinstance(value, str) or not value.strip():
                raise CredentialError(400, "Request_BadRequest", None, f"Property '{field}' is required.")
            fields[field] = value
    if "issuer" in fields and not fields["issuer"].startswith("https://"):
        raise CredentialError(400, "Request_BadRequest", None, "The issuer must be an https URL.")
    if "audiences" in body or require:
        audiences = body.get("audiences")
        if not isinstance(audiences, list) or len(audiences) != 1 or not isinstance(audiences[0], str):
            raise CredentialError(400, "Request_BadRequest", None,
                                  "Property 'audiences' must hold exactly one value "
                                  f"(for Microsoft Entra ID, {TOKEN_EXCHANGE_AUDIENCE}).")
        fields["audiences"] = audiences
    return fields


def federated_view(credential: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in credential.items() if not k.startswith("x_")}


def federated_credentials(store, app: dict[str, Any]) -> list[dict[str, Any]]:
    rows = store.all("SELECT data FROM directory WHERE kind=? ORDER BY rowid", (FEDERATED_KIND,))
    return [c for c in (json.loads(r[0]) for r in rows) if c.get("x_application_id") == app["id"]]


# the managed identity's federation token ------------------------------------------------------------
def exchange_token(issuer, tenant_id: str, identity: dict[str, Any], lifetime: int) -> str:
    """What a managed identity gets for api://AzureADTokenExchange: a v2.0 token of its tenant's
    issuer whose subject is the identity's object (principal) id."""
    now = int(issuer.clock())
    claims = {"aud": TOKEN_EXCHANGE_AUDIENCE, "iss": issuer.issuer(tenant_id), "sub": identity["object_id"],
              "oid": identity["object_id"], "tid": tenant_id, "azp": identity["client_id"], "iat": now,
              "nbf": now, "exp": now + lifetime, "ver": "2.0", "uti": uuid.uuid4().hex}
    return jwt.encode(claims, issuer.key, algorithm="RS256", headers={"kid": issuer.key_id, "typ": "JWT"})


# client assertions at the token endpoint ---------------------------------------------------------------
def verify_client_assertion(store, issuer, login_base: str, app: dict[str, Any], form: dict[str, str],
                            now: float) -> None:
    """Authenticate a client by its assertion, or raise CredentialError with Entra's code."""
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise CredentialError(400, "invalid_request", 50027,
                              f"Invalid client_assertion_type: it must be '{ASSERTION_TYPE}'.")
    assertion = form["client_assertion"]
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise CredentialError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None
    if claims.get("iss") == app["appId"]:
        _verify_certificate_assertion(app, assertion, header, claims, login_base, now)
    else:
        _verify_federated_assertion(store, issuer, app, assertion, header, claims, now)


def _check_lifetime(claims: dict[str, Any], now: float) -> None:
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
    not_yet_valid = isinstance(nbf, (int, float)) and nbf > now + CLOCK_SKEW
    if not isinstance(exp, (int, float)) or exp < now - CLOCK_SKEW or not_yet_valid:
        valid_from = iso(nbf) if isinstance(nbf, (int, float)) else "(none)"
        expiry = iso(exp) if isinstance(exp, (int, float)) else "(none)"
        raise CredentialError(400, "invalid_client", 700024,
                              f"Client assertion is not within its valid time range. Current time: {iso(now)}, "
                              f"assertion valid from {valid_from}, expiry time of assertion {expiry}. Review the "
                              "documentation at https://learn.microsoft.com/entra/identity-platform/"
                              "certificate-credentials .")


def _audience_matches(audience: Any, login_base: str) -> bool:
    segment, tenant_id, domain = TOKEN_REQUEST.get()
    names = {n.lower() for n in (segment, tenant_id, domain) if n}
    for value in audience if isinstance(audience, list) else [audience]:
        if not isinstance(value, str) or not value.startswith(login_base + "/"):
            continue
        tenant, _slash, rest = value[len(login_base) + 1:].partition("/")
        if tenant.lower() in names and rest.rstrip("/") in ("oauth2/v2.0/token", "oauth2/token", "v2.0"):
            return True
    return False


def _verify_certificate_assertion(app: dict[str, Any], assertion: str, header: dict[str, Any],
                                  claims: dict[str, Any], login_base: str, now: float) -> None:
    if claims.get("sub") != app["appId"]:
        raise CredentialError(401, "invalid_client", 700021,
                              "Client assertion application identifier doesn't match 'client_id' parameter. Review "
                              "the documentation at https://learn.microsoft.com/entra/identity-platform/"
                              "certificate-credentials .")
    # base64url with or without its padding (msal keeps it)
    by_sha256 = str(header.get("x5t#S256") or "").rstrip("=")
    by_sha1 = str(header.get("x5t") or "").rstrip("=")
    used = by_sha256 or by_sha1 or ""
    credential = None
    for candidate in app.get("keyCredentials") or []:
        sha1, sha256 = thumbprints(x509.load_der_x509_certificate(base64.b64decode(candidate["key"])))
        if (by_sha256 and b64url(bytes.fromhex(sha256)) == by_sha256) or (
                not by_sha256 and by_sha1 and b64url(bytes.fromhex(sha1)) == by_sha1):
            credential = candidate
            break
    reason = None
    if credential is None:
        reason = "The key was not found."
    elif parse_time(credential["endDateTime"]) <= now:
        reason = "The key used is expired."
    elif parse_time(credential["startDateTime"]) > now + CLOCK_SKEW:
        reason = "The key used is not yet valid."
    if reason:
        raise CredentialError(401, "invalid_client", 700027,
                              f"Client assertion contains an invalid signature. [Reason - {reason}, Thumbprint of key "
                              f"used by client: '{used}', Please visit the Azure Portal, Graph Explorer or directly use "
                              f"MS Graph to see configured keys for app Id '{app['appId']}'.]")
    try:
        jwt.decode(assertion, public_key_of(credential), algorithms=[header.get("alg")]
                   if header.get("alg") in SIGNING_ALGORITHMS else SIGNING_ALGORITHMS,
                   options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False})
    except jwt.PyJWTError:
        raise CredentialError(401, "invalid_client", 7000274,
                              "Client assertion contains an invalid signature: the key was found, but the signature "
                              "does not verify with it.") from None
    if not _audience_matches(claims.get("aud"), login_base):
        raise CredentialError(401, "invalid_client", 700023,
                              "Client assertion audience claim does not match Realm issuer. Review the documentation "
                              "at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .")
    _check_lifetime(claims, now)
    # A reused assertion is accepted while it is valid: msal reuses one for up to 9 minutes.


def _verify_federated_assertion(store, issuer, app: dict[str, Any], assertion: str, header: dict[str, Any],
                                claims: dict[str, Any], now: float) -> None:
    trusted = federated_credentials(store, app)
    if not trusted:
        if header.get("x5t") or header.get("x5t#S256"):
            raise CredentialError(401, "invalid_client", 700021,
                                  "Client assertion application identifier doesn't match 'client_id' parameter.")
        raise CredentialError(400, "invalid_client", 70025,
                              "Client application has no configured federated identity credentials.")
    presented_issuer, subject, audience = claims.get("iss"), claims.get("sub"), claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    same_issuer = [f for f in trusted if f["issuer"] == presented_issuer]
    if not same_issuer:
        raise CredentialError(400, "invalid_request", 700211,
                              "No matching federated identity record found for presented assertion issuer "
                              f"'{presented_issuer}'. {NO_MATCH_HINT}")
    same_subject = [f for f in same_issuer if f["subject"] == subject]
    if not same_subject:
        raise CredentialError(400, "invalid_request", 700213,
                              "No matching federated identity record found for presented assertion subject "
                              f"'{subject}'. {NO_MATCH_HINT}")
    if not any(set(f["audiences"]) & set(audiences) for f in same_subject):
        raise CredentialError(400, "invalid_request", 700212,
                              "No matching federated identity record found for presented assertion audience "
                              f"'{audience}'. {NO_MATCH_HINT}")
    # Entra reads the issuer's signing keys from its discovery document; the sandbox knows only its own
    # issuer's keys, so the tokens of its managed identities are the ones it can verify.
    try:
        jwt.decode(assertion, issuer.public_key, algorithms=["RS256"],
                   options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False})
    except jwt.PyJWTError:
        raise CredentialError(401, "invalid_client", 7000274,
                              "Client assertion contains an invalid signature: it does not verify with the signing "
                              f"keys of issuer '{presented_issuer}'.") from None
    _check_lifetime(claims, now)
