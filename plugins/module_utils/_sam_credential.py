# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The SAM app's credential, of one of three kinds, turned into what msal takes as client_credential:

- secret: the client secret, as a string;
- certificate: a PEM holding the private key and its certificate (what Key Vault holds), given to
  msal as {private_key, thumbprint}: msal signs each client assertion (every msal release takes
  this form; the SHA-1 thumbprint goes in the assertion's x5t header);
- federated: {client_assertion: callable}, the callable returning a token of an issuer the app
  trusts (a federated identity credential): a managed identity's token for
  api://AzureADTokenExchange from azure-identity, or a token file a platform keeps fresh
  (Kubernetes workload identity, a CI system).

msal signs the client assertions of the token requests it sends, from the key. The JWTs signed here,
with PyJWT, are the ones no library sends for us: the client assertion of the customer exchange (a
token request of our own, see _identity.refresh_in_customer; msal offers no public way to make one)
and Graph's proof of possession for addKey/removeKey."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any, Callable, Union

from ._errors import MissingLibraryError, SecureAppError
from ._redact import remember

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    HAS_CRYPTOGRAPHY = False
else:
    HAS_CRYPTOGRAPHY = True

KINDS = ("secret", "certificate", "federated")
ASSERTION_SOURCES = ("managed_identity", "file")
TOKEN_EXCHANGE_SCOPE = "api://AzureADTokenExchange/.default"
# Graph's proof of possession for addKey/removeKey: audience the Azure AD Graph app id, at most 10 minutes.
PROOF_AUDIENCE = "00000002-0000-0000-c000-000000000000"
PROOF_SECONDS = 600
ASSERTION_SECONDS = 600  # a client assertion's lifetime, as msal gives its own

ClientCredential = Union[str, dict, None]

# The options that choose the credential (see credential_from_options); the doc fragment
# partnercenter.secure_app.common documents them.
CREDENTIAL_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "client_certificate": {"type": "str", "no_log": True},
    "client_assertion_source": {"type": "str", "choices": list(ASSERTION_SOURCES)},
    "managed_identity_client_id": {"type": "str"},
    "client_assertion_file": {"type": "path"},
}


def certificate_secret_name(client_secret_name: str) -> str:
    """The vault secret of the certificate, named beside the client secret's (sam-client-secret ->
    sam-client-certificate); the onboard role's vars name it by the same rule."""
    base = client_secret_name[:-len("secret")] if client_secret_name.endswith("secret") else client_secret_name + "-"
    return base.rstrip("-") + "-certificate"


def require_cryptography() -> None:
    if not HAS_CRYPTOGRAPHY:
        raise MissingLibraryError("The Python package 'cryptography' is not installed where this task runs: pip "
                                  "install -r requirements.txt from the collection.")


class Certificate:
    """A private key and its certificate, read from one PEM (Key Vault's PEM certificate format)."""

    def __init__(self, pem: str) -> None:
        require_cryptography()
        remember(str(pem))  # never quoted in a message, whatever a service echoes
        data = str(pem).strip().encode()
        try:
            self.private_key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise SecureAppError("client_certificate holds no readable unencrypted private key: give the PEM with the "
                                 "private key and its certificate (as the onboard role stores it).",
                                 code="invalid_certificate") from None
        try:
            self.certificate = x509.load_pem_x509_certificate(data)
        except ValueError:
            raise SecureAppError("client_certificate holds no certificate beside its private key: give the PEM with "
                                 "both.", code="invalid_certificate") from None
        if self.certificate.public_key().public_numbers() != self.private_key.public_key().public_numbers():
            raise SecureAppError("The certificate in client_certificate is not the private key's: give the PEM of one "
                                 "key pair.", code="invalid_certificate")
        self.der = self.certificate.public_bytes(serialization.Encoding.DER)
        remember(self.key_pem())

    @property
    def sha1_thumbprint(self) -> str:
        return hashlib.sha1(self.der).hexdigest().upper()  # noqa: S324  (the x5t Entra and msal use)

    @property
    def not_after(self) -> str:
        return self.certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")

    def key_pem(self) -> str:
        return self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode()

    def public_der_base64(self) -> str:
        return base64.b64encode(self.der).decode()

    def msal_credential(self) -> dict[str, Any]:
        return {"private_key": self.key_pem(), "thumbprint": self.sha1_thumbprint}

    def proof_of_possession(self, application_object_id: str) -> str:
        """The JWT Graph's addKey and removeKey ask for, signed with this (already registered) key."""
        now = int(time.time())
        return signed_jwt(self.private_key, self.sha1_thumbprint,
                          {"aud": PROOF_AUDIENCE, "iss": application_object_id, "nbf": now,
                           "exp": now + PROOF_SECONDS, "jti": str(uuid.uuid4())})


def signed_jwt(private_key: Any, sha1_thumbprint: str, claims: dict[str, Any]) -> str:
    """An RS256 JWT of the app's certificate: its SHA-1 thumbprint in the x5t header, as Entra reads it."""
    import jwt
    return jwt.encode(claims, private_key, algorithm="RS256",
                      headers={"x5t": base64.urlsafe_b64encode(bytes.fromhex(sha1_thumbprint)).decode()})


def client_assertion(credential: dict[str, Any], client_id: str, token_endpoint: str) -> str:
    """The client assertion of a token request (RFC 7523): the claims msal's own signer sets, for ten minutes."""
    now = int(time.time())
    return signed_jwt(credential["private_key"], credential["thumbprint"],
                      {"aud": token_endpoint, "iss": client_id, "sub": client_id, "iat": now,
                       "exp": now + ASSERTION_SECONDS, "jti": str(uuid.uuid4())})


def new_certificate(common_name: str, valid_days: int) -> tuple[Certificate, str]:
    """A new RSA key pair and a self-signed certificate, made where the task runs: (its Certificate,
    the PEM of key and certificate to store)."""
    require_cryptography()
    import datetime
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "partnercenter.secure_app")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=valid_days))
                   .sign(key, hashes.SHA256()))
    pem = (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()
           + certificate.public_bytes(serialization.Encoding.PEM).decode())
    return Certificate(pem), pem


def assertion_callable(source: str, *, http: Any = None, ca_bundle: str | None = None,
                       managed_identity_client_id: str | None = None,
                       assertion_file: str | None = None) -> Callable[[], str]:
    """What msal calls for a federated client assertion: the workload's own token, fresh each time
    it is asked (azure-identity caches the managed identity's token until it nears its end)."""
    if source == "file":
        if not assertion_file:
            raise SecureAppError("client_assertion_source is file: give client_assertion_file, the path of the token "
                                 "file your platform keeps fresh (AZURE_FEDERATED_TOKEN_FILE on Kubernetes).")

        def from_file() -> str:
            try:
                with open(assertion_file, encoding="utf-8") as handle:
                    token = handle.read().strip()
                remember(token)
                return token
            except OSError as exc:
                raise SecureAppError(f"Cannot read the federated token file {assertion_file} ({exc.strerror}): check "
                                     "client_assertion_file.", code="federated_token_unreadable") from None
        return from_file
    try:
        from azure.core.exceptions import ClientAuthenticationError
        from azure.core.pipeline.transport import RequestsTransport
        from azure.identity import CredentialUnavailableError, ManagedIdentityCredential
    except ImportError:
        raise MissingLibraryError("The Python package 'azure-identity' is not installed where this task runs: pip "
                                  "install -r requirements.txt from the collection.") from None
    options: dict[str, Any] = {}
    if http is not None:
        transport: dict[str, Any] = {"session": http.session, "session_owner": False}
        if ca_bundle:
            transport["connection_verify"] = ca_bundle
        options["transport"] = RequestsTransport(**transport)
    credential = ManagedIdentityCredential(client_id=managed_identity_client_id or None, **options)
    which = f"the user-assigned managed identity {managed_identity_client_id}" if managed_identity_client_id \
        else "the system-assigned managed identity"

    def from_managed_identity() -> str:
        try:
            token = credential.get_token(TOKEN_EXCHANGE_SCOPE).token
            remember(token)
            return token
        except (ClientAuthenticationError, CredentialUnavailableError):
            raise SecureAppError(f"No token for the federated credential from {which}: run where that identity is "
                                 "assigned (IDENTITY_ENDPOINT or the instance metadata service), or give "
                                 "managed_identity_client_id of an identity assigned here.",
                                 code="managed_identity_unavailable") from None
    return from_managed_identity


def credential_from_options(option: Callable[[str], Any], http: Any = None) -> ClientCredential:
    """The msal client_credential the options give: a certificate, a federated assertion source, or
    a client secret (in that order of preference); None for a public client."""
    certificate = option("client_certificate")
    source = option("client_assertion_source")
    secret = option("client_secret")
    if sum(bool(v) for v in (certificate, source, secret)) > 1:
        raise SecureAppError("Give one SAM app credential: client_secret, client_certificate or "
                             "client_assertion_source, not several.", code="several_credentials")
    if certificate:
        return Certificate(certificate).msal_credential()
    if source:
        return {"client_assertion": assertion_callable(
            source, http=http, ca_bundle=getattr(http, "ca_bundle", None),
            managed_identity_client_id=option("managed_identity_client_id"),
            assertion_file=option("client_assertion_file"))}
    return secret or None


def cache_key(credential: ClientCredential) -> tuple[str, str]:
    """What tells two msal applications of one client apart, holding no secret."""
    if isinstance(credential, dict):
        if credential.get("thumbprint"):
            return ("certificate", credential["thumbprint"])
        return ("federated", str(id(credential.get("client_assertion"))))
    if credential:
        return ("secret", hashlib.sha256(credential.encode()).hexdigest()[:16])
    return ("public", "")


def token_form(credential: ClientCredential, client_id: str, token_endpoint: str) -> dict[str, str]:
    """The client authentication fields of a token request msal does not send itself (the customer
    exchange of _identity): the secret, or an assertion signed with the certificate's key or given
    by the federated source."""
    if not credential:
        return {}
    if not isinstance(credential, dict):
        return {"client_secret": credential}
    if credential.get("client_assertion"):
        value = credential["client_assertion"]
        assertion = value() if callable(value) else value
    else:
        assertion = client_assertion(credential, client_id, token_endpoint)
    if isinstance(assertion, bytes):
        assertion = assertion.decode()
    remember(assertion)
    return {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}
