"""Certificate and federated credentials of applications, through the unmodified msal and
azure-identity: Graph's keyCredentials (PATCH for the first key, addKey/removeKey with a proof of
possession), federatedIdentityCredentials, client assertions at the token endpoint with each of
Entra's refusals, and a managed identity's token for api://AzureADTokenExchange as the assertion."""
from __future__ import annotations

import base64
import datetime
import hashlib
import time
import uuid

import jwt
import msal
import pytest
from azure.identity import CertificateCredential, ClientAssertionCredential, ManagedIdentityCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from conformance_helpers import create_app
from test_entra_errors import assert_entra_error, token_request

EXCHANGE = "api://AzureADTokenExchange"
PROOF_AUDIENCE = "00000002-0000-0000-c000-000000000000"


def make_certificate(days_from=-1, days_to=365):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sandbox conformance")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now + datetime.timedelta(days=days_from))
            .not_valid_after(now + datetime.timedelta(days=days_to)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    der = cert.public_bytes(serialization.Encoding.DER)
    return {"key": key, "key_pem": key_pem, "cert_pem": cert_pem, "der_b64": base64.b64encode(der).decode(),
            "sha1": hashlib.sha1(der).hexdigest(), "sha256": hashlib.sha256(der).hexdigest()}  # noqa: S324


def key_entry(cert, name="conformance"):
    return {"type": "AsymmetricX509Cert", "usage": "Verify", "key": cert["der_b64"], "displayName": name}


def proof(app, cert, nbf=None, lifetime=600, aud=PROOF_AUDIENCE, iss=None):
    nbf = int(time.time()) if nbf is None else nbf
    return jwt.encode({"aud": aud, "iss": iss or app["object_id"], "nbf": nbf, "exp": nbf + lifetime},
                      cert["key"], algorithm="RS256")


def b64url_hex(value):
    return base64.urlsafe_b64encode(bytes.fromhex(value)).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def cert_app(graph):
    app = create_app(graph, "certificate conformance app")
    app["cert"] = make_certificate()
    patched = graph.patch(f"/applications/{app['object_id']}", json={"keyCredentials": [key_entry(app["cert"])]})
    assert patched.status_code == 204, patched.text
    return app


def confidential(ep, app, credential):
    return msal.ConfidentialClientApplication(app["app_id"], client_credential=credential, instance_discovery=False,
                                              authority=f"{ep['cloud']['login']}/{ep['partner_tenant_id']}")


def graph_scope(ep):
    return [ep["cloud"]["graph"] + "/.default"]


# keyCredentials in Graph -----------------------------------------------------------------------------
def test_key_credentials_are_listed_without_the_key_unless_selected(graph, cert_app):
    listed = graph.get(f"/applications/{cert_app['object_id']}").json()["keyCredentials"]
    assert len(listed) == 1 and listed[0]["key"] is None
    assert listed[0]["type"] == "AsymmetricX509Cert" and listed[0]["usage"] == "Verify" and listed[0]["keyId"]
    assert listed[0]["customKeyIdentifier"] == cert_app["cert"]["sha1"].upper()
    selected = graph.get(f"/applications/{cert_app['object_id']}", params={"$select": "keyCredentials"}).json()
    assert selected["keyCredentials"][0]["key"] == cert_app["cert"]["der_b64"]


@pytest.mark.parametrize("entry,says", [
    ({"type": "Password", "usage": "Verify"}, "'type'"),
    ({"type": "AsymmetricX509Cert", "usage": "Encrypt"}, "'usage'"),
    ({"type": "AsymmetricX509Cert", "usage": "Verify", "key": "not base64!"}, "'key'"),
    ({"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.b64encode(b"junk").decode()}, "not a valid certificate"),
    ({"type": "AsymmetricX509Cert", "usage": "Verify", "endDateTime": "2999-01-01T00:00:00Z"}, "end date"),
])
def test_invalid_key_credentials_are_refused(graph, entry, says):
    app = create_app(graph, "invalid key app")
    cert = make_certificate()
    body = dict({"key": cert["der_b64"]}, **entry)
    refused = graph.patch(f"/applications/{app['object_id']}", json={"keyCredentials": [body]})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "Request_BadRequest"
    assert says in refused.json()["error"]["message"]
    assert graph.get(f"/applications/{app['object_id']}").json()["keyCredentials"] == []


def test_add_key_and_remove_key_need_a_proof_of_possession(graph):
    app = create_app(graph, "rolling keys app")
    first, second = make_certificate(), make_certificate()
    no_key_yet = graph.post(f"/applications/{app['object_id']}/addKey",
                            json={"keyCredential": key_entry(first), "proof": proof(app, first)})
    assert no_key_yet.status_code == 400 and "PATCH" in no_key_yet.json()["error"]["message"]
    assert graph.patch(f"/applications/{app['object_id']}", json={"keyCredentials": [key_entry(first)]}).status_code == 204
    stranger = make_certificate()
    for bad, says in ((proof(app, stranger), "not signed"), (proof(app, first, aud="https://graph.microsoft.com"), "audience"),
                      (proof(app, first, iss=str(uuid.uuid4())), "issuer"), (proof(app, first, lifetime=3600), "10 minutes"),
                      (proof(app, first, nbf=int(time.time()) - 7200), "expired"), (None, "'proof'")):
        refused = graph.post(f"/applications/{app['object_id']}/addKey",
                             json={"keyCredential": key_entry(second), "proof": bad})
        assert refused.status_code == 400, refused.text
        assert says in refused.json()["error"]["message"]
    added = graph.post(f"/applications/{app['object_id']}/addKey",
                       json={"keyCredential": key_entry(second, "second"), "proof": proof(app, first)})
    assert added.status_code == 200, added.text
    assert added.json()["key"] is None and added.json()["displayName"] == "second"
    old_key_id = next(k["keyId"] for k in graph.get(f"/applications/{app['object_id']}").json()["keyCredentials"]
                      if k["displayName"] == "conformance")
    by_app_id = proof(app, second, iss=app["app_id"])  # the documentation's "id of the application": either id
    removed = graph.post(f"/applications/{app['object_id']}/removeKey", json={"keyId": old_key_id, "proof": by_app_id})
    assert removed.status_code == 204, removed.text
    keys = graph.get(f"/applications/{app['object_id']}").json()["keyCredentials"]
    assert [k["displayName"] for k in keys] == ["second"]
    unknown = graph.post(f"/applications/{app['object_id']}/removeKey",
                         json={"keyId": str(uuid.uuid4()), "proof": proof(app, second)})
    assert unknown.status_code == 404


# client assertions: msal's and azure-identity's, and each refusal ------------------------------------
def msal_computes_sha256_thumbprints():
    """msal 1.35 and later sign with PS256 and x5t#S256 when given the certificate instead of a thumbprint."""
    return tuple(int(part) for part in msal.__version__.split(".")[:2]) >= (1, 35)


def test_msal_certificate_forms_are_accepted(ep, cert_app):
    cert = cert_app["cert"]
    forms = [{"private_key": cert["key_pem"], "thumbprint": cert["sha1"]}]  # RS256, x5t (SHA-1): every msal
    if msal_computes_sha256_thumbprints():
        forms.append({"private_key": cert["key_pem"], "public_certificate": cert["cert_pem"]})  # PS256, x5t#S256
    for credential in forms:
        result = confidential(ep, cert_app, credential).acquire_token_for_client(graph_scope(ep))
        assert "access_token" in result, result


def test_azure_identity_certificate_credential(ep, cert_app):
    pem = (cert_app["cert"]["key_pem"] + cert_app["cert"]["cert_pem"]).encode()
    credential = CertificateCredential(ep["partner_tenant_id"], cert_app["app_id"], certificate_data=pem,
                                       authority=ep["cloud"]["login"], disable_instance_discovery=True)
    assert credential.get_token(graph_scope(ep)[0]).token


def test_refresh_token_grant_with_a_certificate(ep, graph, authority):
    from conformance_helpers import consent
    app = create_app(graph, "certificate refresh app")
    cert = make_certificate()
    assert graph.patch(f"/applications/{app['object_id']}", json={"keyCredentials": [key_entry(cert)]}).status_code == 204
    consented, _client = consent(ep, authority, app)
    client = confidential(ep, app, {"private_key": cert["key_pem"], "thumbprint": cert["sha1"]})
    result = client.acquire_token_by_refresh_token(consented["refresh_token"], [ep["cloud"]["partner_center"] + "/.default"])
    assert "access_token" in result and result.get("refresh_token"), result


def assertion(ep, app, cert, signer=None, header=None, **claims):
    now = int(time.time())
    payload = {"aud": f"{ep['cloud']['login']}/{ep['partner_tenant_id']}/oauth2/v2.0/token", "iss": app["app_id"],
               "sub": app["app_id"], "jti": str(uuid.uuid4()), "nbf": now, "exp": now + 600, "iat": now}
    payload.update(claims)
    headers = {"x5t#S256": b64url_hex(cert["sha256"])} if header is None else header
    return jwt.encode(payload, (signer or cert)["key"], algorithm="PS256", headers=headers)


def assertion_form(ep, app, value):
    return {"grant_type": "client_credentials", "client_id": app["app_id"], "scope": graph_scope(ep)[0],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": value}


REFUSED = {
    "unknown key": (lambda ep, app, cert: assertion(ep, app, make_certificate()), 401, "invalid_client", 700027,
                    "The key was not found."),
    "sha1 header of an unknown key": (lambda ep, app, cert: assertion(ep, app, cert, header={"x5t": b64url_hex("00" * 20)}),
                                      401, "invalid_client", 700027, "The key was not found."),
    "no thumbprint header": (lambda ep, app, cert: assertion(ep, app, cert, header={}), 401, "invalid_client", 700027,
                             "The key was not found."),
    "signed by another key": (lambda ep, app, cert: assertion(ep, app, cert, signer=make_certificate()), 401,
                              "invalid_client", 7000274, "signature"),
    "audience of another tenant": (lambda ep, app, cert: assertion(
        ep, app, cert, aud=f"{ep['cloud']['login']}/{uuid.uuid4()}/oauth2/v2.0/token"), 401, "invalid_client", 700023,
        "audience claim does not match"),
    "subject not the client": (lambda ep, app, cert: assertion(ep, app, cert, sub=str(uuid.uuid4())), 401,
                               "invalid_client", 700021, "doesn't match 'client_id'"),
    "expired": (lambda ep, app, cert: assertion(ep, app, cert, nbf=int(time.time()) - 7200, exp=int(time.time()) - 3600),
                400, "invalid_client", 700024, "not within its valid time range"),
    "not yet valid": (lambda ep, app, cert: assertion(ep, app, cert, nbf=int(time.time()) + 3600,
                                                      exp=int(time.time()) + 4000),
                      400, "invalid_client", 700024, "not within its valid time range"),
    "not a JWT": (lambda ep, app, cert: "not-a-jwt", 400, "invalid_request", 50027, "invalid or malformed"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_each_refused_assertion_has_entras_code_and_sentence(http, ep, cert_app, case):
    build, status, error, code, says = REFUSED[case]
    response = token_request(http, ep, ep["partner_tenant_id"], **assertion_form(ep, cert_app, build(ep, cert_app, cert_app["cert"])))
    assert_entra_error(response, status, error, code)
    assert says in response.json()["error_description"]


def test_an_expired_key_is_refused(http, ep, graph):
    app = create_app(graph, "expired key app")
    cert = make_certificate(days_from=-10, days_to=-1)
    assert graph.patch(f"/applications/{app['object_id']}", json={"keyCredentials": [key_entry(cert)]}).status_code == 204
    response = token_request(http, ep, ep["partner_tenant_id"], **assertion_form(ep, app, assertion(ep, app, cert)))
    assert_entra_error(response, 401, "invalid_client", 700027)
    assert "The key used is expired." in response.json()["error_description"]


def test_a_reused_assertion_is_accepted_while_valid(http, ep, cert_app):
    """msal reuses one assertion (same jti) for up to 9 minutes, so Entra accepts it again."""
    value = assertion(ep, cert_app, cert_app["cert"])
    for _attempt in range(2):
        response = token_request(http, ep, ep["partner_tenant_id"], **assertion_form(ep, cert_app, value))
        assert response.status_code == 200, response.text


def test_the_tenant_domain_and_the_v2_issuer_are_accepted_audiences(http, ep, cert_app):
    for audience in (f"{ep['cloud']['login']}/{ep['partner_tenant_id']}/v2.0",
                     f"{ep['cloud']['login']}/{ep['partner_domain']}/oauth2/v2.0/token"):
        response = token_request(http, ep, ep["partner_tenant_id"],
                                 **assertion_form(ep, cert_app, assertion(ep, cert_app, cert_app["cert"], aud=audience)))
        assert response.status_code == 200, response.text


# federated identity credentials ------------------------------------------------------------------------
@pytest.fixture()
def app_service(ep, monkeypatch):
    monkeypatch.setenv("IDENTITY_ENDPOINT", ep["cloud"]["login"] + "/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", ep["managed_identities"]["header"])
    monkeypatch.delenv("MSI_ENDPOINT", raising=False)
    monkeypatch.delenv("AZURE_CLIENT_ID", raising=False)


def issuer_of(ep):
    return f"{ep['cloud']['login']}/{ep['partner_tenant_id']}/v2.0"


def federate(graph, ep, app, identity="user_assigned", **overrides):
    body = {"name": f"mi-{uuid.uuid4().hex[:8]}", "issuer": issuer_of(ep),
            "subject": ep["managed_identities"][identity]["object_id"], "audiences": [EXCHANGE]}
    body.update(overrides)
    created = graph.post(f"/applications/{app['object_id']}/federatedIdentityCredentials", json=body)
    assert created.status_code == 201, created.text
    return created.json()


def identity_token(ep, identity="user_assigned"):
    client_id = ep["managed_identities"][identity]["client_id"] if identity == "user_assigned" else None
    return ManagedIdentityCredential(client_id=client_id).get_token(EXCHANGE + "/.default").token


def test_managed_identity_token_for_the_exchange(ep, app_service):
    claims = jwt.decode(identity_token(ep), options={"verify_signature": False})
    assert claims["aud"] == EXCHANGE and claims["iss"] == issuer_of(ep)
    assert claims["sub"] == ep["managed_identities"]["user_assigned"]["object_id"]


def test_msal_and_azure_identity_exchange_the_managed_identity_token(ep, graph, app_service):
    app = create_app(graph, "federated app")
    federate(graph, ep, app)
    client = confidential(ep, app, {"client_assertion": lambda: identity_token(ep)})
    result = client.acquire_token_for_client(graph_scope(ep))
    assert "access_token" in result, result
    # azure-identity's own token client (no msal, no instance discovery) in its older releases
    credential = ClientAssertionCredential(ep["partner_tenant_id"], app["app_id"], lambda: identity_token(ep),
                                           authority=ep["cloud"]["login"])
    assert credential.get_token(graph_scope(ep)[0]).token


@pytest.mark.parametrize("mismatch,code,says", [
    ("none configured", 70025, "no configured federated identity credentials"),
    ("issuer", 700211, "assertion issuer"),
    ("subject", 700213, "assertion subject"),
    ("audience", 700212, "assertion audience"),
])
def test_no_matching_federated_credential(http, ep, graph, app_service, mismatch, code, says):
    app = create_app(graph, f"federated mismatch {mismatch}")
    if mismatch == "issuer":
        federate(graph, ep, app, issuer="https://token.actions.githubusercontent.com")
    elif mismatch == "subject":
        federate(graph, ep, app, identity="system_assigned")
    elif mismatch == "audience":
        federate(graph, ep, app, audiences=["api://SomethingElse"])
    response = token_request(http, ep, ep["partner_tenant_id"], **assertion_form(ep, app, identity_token(ep)))
    body = response.json()
    assert body["error_codes"] == [code], body
    assert response.status_code == 400 and says in body["error_description"]


def test_a_forged_identity_token_is_refused(http, ep, graph):
    app = create_app(graph, "federated forgery app")
    federate(graph, ep, app)
    forged = jwt.encode({"aud": EXCHANGE, "iss": issuer_of(ep), "sub": ep["managed_identities"]["user_assigned"]["object_id"],
                         "exp": int(time.time()) + 600, "nbf": int(time.time())}, make_certificate()["key"], algorithm="RS256")
    response = token_request(http, ep, ep["partner_tenant_id"], **assertion_form(ep, app, forged))
    assert_entra_error(response, 401, "invalid_client", 7000274)


def test_federated_identity_credentials_crud_and_validation(graph, ep):
    app = create_app(graph, "federated crud app")
    base = f"/applications/{app['object_id']}/federatedIdentityCredentials"
    created = federate(graph, ep, app, name="ci-main")
    assert set(created) >= {"id", "name", "issuer", "subject", "audiences", "description"}
    assert graph.get(base).json()["value"] == [{k: v for k, v in created.items() if not k.startswith("@odata")}]
    for body, status, says in (
            ({"name": "ci-main", "issuer": "https://x.example", "subject": "s", "audiences": [EXCHANGE]}, 409, "already exists"),
            ({"name": "a", "issuer": "https://x.example", "subject": "s", "audiences": [EXCHANGE]}, 400, "'name'"),
            ({"name": "other", "issuer": "http://x.example", "subject": "s", "audiences": [EXCHANGE]}, 400, "https"),
            ({"name": "other", "issuer": "https://x.example", "subject": "s", "audiences": [EXCHANGE, "b"]}, 400, "exactly one"),
            ({"name": "other", "issuer": "https://x.example", "audiences": [EXCHANGE]}, 400, "'subject'"),
            ({"name": "other", "issuer": created["issuer"], "subject": created["subject"], "audiences": [EXCHANGE]}, 409,
             "same issuer and subject")):
        refused = graph.post(base, json=body)
        assert refused.status_code == status, refused.text
        assert says in refused.json()["error"]["message"]
    assert graph.patch(f"{base}/{created['id']}", json={"subject": "new-subject"}).status_code == 204
    assert graph.get(f"{base}/{created['id']}").json()["subject"] == "new-subject"
    assert graph.patch(f"{base}/{created['id']}", json={"name": "renamed"}).status_code == 400
    assert graph.delete(f"{base}/{created['id']}").status_code == 204
    assert graph.get(f"{base}/{created['id']}").status_code == 404
    assert graph.get(base).json()["value"] == []
