"""The SAM app's credential kinds in the shared layer: a certificate PEM read once (its refusals), one
credential at a time, and the exchange with each kind against the sandbox - in the partner tenant
through msal, in customer tenants through the one-POST path (an assertion for that customer's token
endpoint, signed by msal's own signer), and a managed identity's token as the federated assertion."""
from __future__ import annotations

import base64
import datetime
import sys
from pathlib import Path

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import Context
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._sam_credential import (
    Certificate, credential_from_options, new_certificate, token_form)
from ansible_collections.partnercenter.secure_app.plugins.module_utils._tokens import exchange


def pem_pair():
    _certificate, pem = new_certificate("unit", 30)
    return pem


def test_a_new_certificate_is_one_key_pair_with_its_thumbprint():
    certificate, pem = new_certificate("Partner Center SAM", 30)
    again = Certificate(pem)
    assert again.sha1_thumbprint == certificate.sha1_thumbprint and len(certificate.sha1_thumbprint) == 40
    ends = datetime.datetime.strptime(certificate.not_after, "%Y-%m-%dT%H:%M:%SZ")
    assert 29 <= (ends - datetime.datetime.utcnow()).days <= 30
    assert certificate.msal_credential() == {"private_key": certificate.key_pem(), "thumbprint": certificate.sha1_thumbprint}


@pytest.mark.parametrize("case,says", [
    ("certificate only", "no readable unencrypted private key"),
    ("key only", "no certificate beside its private key"),
    ("two pairs", "not the private key's"),
    ("garbage", "no readable unencrypted private key"),
])
def test_a_bad_certificate_pem_is_one_sentence_without_the_key(case, says):
    first, second = pem_pair(), pem_pair()
    key = first[:first.index("-----BEGIN CERTIFICATE-----")]
    certificate = first[first.index("-----BEGIN CERTIFICATE-----"):]
    other_certificate = second[second.index("-----BEGIN CERTIFICATE-----"):]
    given = {"certificate only": certificate, "key only": key, "two pairs": key + other_certificate,
             "garbage": "not a pem"}[case]
    with pytest.raises(SecureAppError) as refused:
        Certificate(given)
    assert says in refused.value.message
    assert "PRIVATE KEY" not in refused.value.message and key.splitlines()[1] not in refused.value.message


def test_one_credential_at_a_time():
    options = {"client_secret": "s", "client_certificate": pem_pair()}
    with pytest.raises(SecureAppError, match="Give one SAM app credential"):
        credential_from_options(options.get)
    assert credential_from_options({"client_secret": "s"}.get) == "s"
    assert credential_from_options({}.get) is None


def test_token_form_for_each_kind():
    certificate, _pem = new_certificate("unit", 30)
    assert token_form("s3cret", "app", "https://login/t/oauth2/v2.0/token") == {"client_secret": "s3cret"}
    signed = token_form(certificate.msal_credential(), "app", "https://login/t/oauth2/v2.0/token")
    import jwt
    claims = jwt.decode(signed["client_assertion"], certificate.certificate.public_key(), algorithms=["RS256"],
                        audience="https://login/t/oauth2/v2.0/token")
    assert claims["iss"] == claims["sub"] == "app" and claims["jti"]
    assert jwt.get_unverified_header(signed["client_assertion"])["x5t"]
    assert token_form({"client_assertion": lambda: "a.b.c"}, "app", "u")["client_assertion"] == "a.b.c"


def test_customer_assertion_needs_no_msal_internal_module(monkeypatch):
    """The customer exchange's client assertion is PyJWT's, with the claims msal's signer sets: it
    keeps working when msal moves or drops its semi-internal oauth2cli.assertion module."""
    import jwt
    monkeypatch.setitem(sys.modules, "msal.oauth2cli.assertion", None)  # importing it now fails
    certificate, _pem = new_certificate("unit", 30)
    endpoint = "https://login/customer/oauth2/v2.0/token"
    form = token_form(certificate.msal_credential(), "app", endpoint)
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    claims = jwt.decode(form["client_assertion"], certificate.certificate.public_key(), algorithms=["RS256"],
                        audience=endpoint)
    assert sorted(claims) == ["aud", "exp", "iat", "iss", "jti", "sub"]
    assert claims["iss"] == claims["sub"] == "app" and claims["exp"] - claims["iat"] == 600
    header = jwt.get_unverified_header(form["client_assertion"])
    assert header["x5t"] == base64.urlsafe_b64encode(bytes.fromhex(certificate.sha1_thumbprint)).decode()


@pytest.fixture(scope="module")
def certificate_app(world):
    """The world's app with a certificate besides its secret (the refresh token works with either)."""
    ep = world["ep"]
    patch = pytest.MonkeyPatch()
    patch.setenv("REQUESTS_CA_BUNDLE", ep["ca_bundle"])  # for the sandbox helpers' msal and requests
    try:
        yield _certificate_app(world, ep)
    finally:
        patch.undo()


def _certificate_app(world, ep):
    certificate, pem = new_certificate("unit exchange", 30)
    sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "sandbox"))
    from conformance_helpers import device_code_token, graph_session  # pylint: disable=import-outside-toplevel
    from sandbox.testing import TestApi  # pylint: disable=import-outside-toplevel
    admin = device_code_token(TestApi(ep), f"{ep['cloud']['login']}/{ep['partner_tenant_id']}",
                              "04b07795-8ddb-461a-bbee-02f9e1bf7b46", [ep["cloud"]["graph"] + "/.default"],
                              ep["accounts"]["admin"]["upn"])
    graph = graph_session(ep, admin["access_token"])
    patched = graph.patch(f"/applications/{world['app']['object_id']}", json={"keyCredentials": [
        {"type": "AsymmetricX509Cert", "usage": "Verify", "key": certificate.public_der_base64(), "displayName": "u"}]})
    assert patched.status_code == 204, patched.text
    return {"pem": pem, "graph": graph}


def context_with(world, **options):
    base = {"cloud": "AzureCloud", "cloud_endpoints": world["ep"]["cloud"], "ca_bundle": world["ep"]["ca_file"],
            "timeout": 30, "retries": 2}
    return Context(dict(base, **options).get)


def test_exchange_with_a_certificate_in_partner_and_customer_tenants(world, certificate_app):
    ep = world["ep"]
    dap = next(c["tenant_id"] for c in ep["customers"] if c["kind"] == "dap")
    context = context_with(world, client_certificate=certificate_app["pem"])
    try:
        result = exchange(context, client_id=world["app"]["app_id"], client_secret=context.client_credential(),
                          tenant=ep["partner_tenant_id"], refresh_token=world["refresh_token"],
                          resources=["graph"], customer_tenants=[dap])
    finally:
        context.close()
    assert result["tokens"]["graph"]["access_token"]
    assert result["customer_errors"] == [] and result["customer_tokens"][dap]["graph"]["access_token"]


def test_an_unregistered_certificate_is_entras_code_in_one_sentence(world):
    context = context_with(world, client_certificate=pem_pair())
    try:
        with pytest.raises(SecureAppError) as refused:
            exchange(context, client_id=world["app"]["app_id"], client_secret=context.client_credential(),
                     tenant=world["ep"]["partner_tenant_id"], refresh_token=world["refresh_token"], resources=["graph"])
    finally:
        context.close()
    assert refused.value.code == "AADSTS700027"
    assert refused.value.message.startswith(f"The certificate given is not a valid certificate of app {world['app']['app_id']}")


@pytest.mark.parametrize("identity,code", [("user_assigned", None), ("system_assigned", "AADSTS700213")])
def test_exchange_with_a_managed_identity_token(world, certificate_app, monkeypatch, identity, code):
    ep = world["ep"]
    listed = certificate_app["graph"].get(f"/applications/{world['app']['object_id']}/federatedIdentityCredentials")
    if not listed.json()["value"]:
        created = certificate_app["graph"].post(
            f"/applications/{world['app']['object_id']}/federatedIdentityCredentials",
            json={"name": "unit-mi", "issuer": f"{ep['cloud']['login']}/{ep['partner_tenant_id']}/v2.0",
                  "subject": ep["managed_identities"]["user_assigned"]["object_id"],
                  "audiences": ["api://AzureADTokenExchange"]})
        assert created.status_code == 201, created.text
    monkeypatch.setenv("IDENTITY_ENDPOINT", ep["cloud"]["login"] + "/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", ep["managed_identities"]["header"])
    monkeypatch.delenv("MSI_ENDPOINT", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)  # the collection passes its CA bundle itself
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent-bundle")  # and ignores the environment's
    options = {"client_assertion_source": "managed_identity"}
    if identity == "user_assigned":
        options["managed_identity_client_id"] = ep["managed_identities"]["user_assigned"]["client_id"]
    context = context_with(world, **options)
    try:
        if code is None:
            result = exchange(context, client_id=world["app"]["app_id"], client_secret=context.client_credential(),
                              tenant=ep["partner_tenant_id"], refresh_token=world["refresh_token"], resources=["graph"])
            assert result["tokens"]["graph"]["access_token"]
        else:
            with pytest.raises(SecureAppError) as refused:
                exchange(context, client_id=world["app"]["app_id"], client_secret=context.client_credential(),
                         tenant=ep["partner_tenant_id"], refresh_token=world["refresh_token"], resources=["graph"])
            assert refused.value.code == code and "names the subject" in refused.value.message
    finally:
        context.close()


def test_no_managed_identity_here_is_one_sentence(world, monkeypatch):
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "IMDS_ENDPOINT", "AZURE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    context = context_with(world, client_assertion_source="file", client_assertion_file="/nonexistent/token")
    try:
        with pytest.raises(SecureAppError) as refused:
            exchange(context, client_id=world["app"]["app_id"], client_secret=context.client_credential(),
                     tenant=world["ep"]["partner_tenant_id"], refresh_token=world["refresh_token"], resources=["graph"])
    finally:
        context.close()
    assert "Cannot read the federated token file /nonexistent/token" in refused.value.message
