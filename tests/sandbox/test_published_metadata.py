"""The identity platform's published metadata as Microsoft publishes it (the discovery documents
v2.0 and v1, the signing keys with their certificate chain), read by the unmodified PyJWT and msal;
and the response headers a client may rely on."""
from __future__ import annotations

import base64
import hashlib
import ssl

import jwt
import msal
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from test_service_boundary import assert_ids, sent_ids

V2_FIELDS = {
    "token_endpoint", "token_endpoint_auth_methods_supported", "jwks_uri", "response_modes_supported",
    "subject_types_supported", "id_token_signing_alg_values_supported", "response_types_supported",
    "scopes_supported", "issuer", "request_uri_parameter_supported", "userinfo_endpoint", "authorization_endpoint",
    "device_authorization_endpoint", "http_logout_supported", "frontchannel_logout_supported",
    "end_session_endpoint", "claims_supported", "kerberos_endpoint", "tenant_region_scope", "cloud_instance_name",
    "cloud_graph_host_name", "msgraph_host", "rbac_url",
}
V1_FIELDS = (V2_FIELDS - {"request_uri_parameter_supported"}) | {"microsoft_multi_refresh_token", "check_session_iframe"}


def tenant_forms(ep):
    return {"guid": ep["partner_tenant_id"], "domain": ep["partner_domain"], "common": "common",
            "organizations": "organizations"}


@pytest.mark.parametrize("form", ["guid", "domain", "common", "organizations"])
def test_v2_discovery_document_has_every_field(http, ep, form):
    tenant = tenant_forms(ep)[form]
    login = ep["cloud"]["login"]
    answer = http.get(f"{login}/{tenant}/v2.0/.well-known/openid-configuration")
    document = answer.json()
    assert set(document) == V2_FIELDS
    path_tenant = tenant if form in ("common", "organizations") else ep["partner_tenant_id"]
    issuer_tenant = "{tenantid}" if form in ("common", "organizations") else ep["partner_tenant_id"]
    assert document["issuer"] == f"{login}/{issuer_tenant}/v2.0"
    for name, path in (("token_endpoint", "oauth2/v2.0/token"), ("authorization_endpoint", "oauth2/v2.0/authorize"),
                       ("device_authorization_endpoint", "oauth2/v2.0/devicecode"),
                       ("end_session_endpoint", "oauth2/v2.0/logout"), ("jwks_uri", "discovery/v2.0/keys"),
                       ("kerberos_endpoint", "kerberos")):
        assert document[name] == f"{login}/{path_tenant}/{path}"
    methods = ["client_secret_post", "private_key_jwt", "client_secret_basic"]
    assert document["token_endpoint_auth_methods_supported"] == methods
    assert document["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert document["scopes_supported"] == ["openid", "profile", "email", "offline_access"]
    assert {"sub", "iss", "aud", "exp", "iat", "nonce", "tid", "ver", "preferred_username"} <= set(
        document["claims_supported"])
    assert document["cloud_instance_name"] == "microsoftonline.com"
    assert document["rbac_url"] == "https://pas.windows.net"
    assert document["cloud_graph_host_name"] == "graph.windows.net"
    assert document["msgraph_host"] == ep["cloud"]["graph"].split("//", 1)[1]
    assert (document["tenant_region_scope"] is None) == (form in ("common", "organizations"))
    assert answer.headers["Cache-Control"] == "max-age=86400, private"
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"


def test_v1_discovery_document_names_the_v1_issuer_and_keys(http, ep, consented):
    login = ep["cloud"]["login"]
    document = http.get(f"{login}/{ep['partner_tenant_id']}/.well-known/openid-configuration").json()
    assert set(document) == V1_FIELDS
    assert document["issuer"] == f"https://sts.windows.net/{ep['partner_tenant_id']}/"
    assert document["token_endpoint"] == f"{login}/{ep['partner_tenant_id']}/oauth2/token"
    assert document["jwks_uri"] == f"{login}/common/discovery/keys"
    # The APIs' access tokens are v1.0: their issuer is this document's, their keys its jwks_uri's.
    keys = http.get(document["jwks_uri"]).json()["keys"]
    assert {"kty", "use", "kid", "x5t", "n", "e", "x5c"} == set(keys[0])
    token = consented["result"]["access_token"]
    verified = jwt.decode(token, jwt.PyJWK(keys[0]).key, algorithms=["RS256"], issuer=document["issuer"],
                          audience=ep["cloud"]["partner_center"])
    assert verified["tid"] == ep["partner_tenant_id"]


def test_v2_keys_carry_their_certificate_chain_and_issuer(http, ep, authority):
    answer = http.get(f"{authority}/discovery/v2.0/keys")
    keys = answer.json()["keys"]
    assert keys and answer.headers["Cache-Control"] == "max-age=86400, private"
    for key in keys:
        assert set(key) == {"kty", "use", "kid", "x5t", "n", "e", "x5c", "cloud_instance_name", "issuer"}
        assert key["kty"] == "RSA" and key["use"] == "sig" and key["e"] == "AQAB"
        assert key["issuer"] == f"{ep['cloud']['login']}/{{tenantid}}/v2.0"
        der = base64.b64decode(key["x5c"][0])
        certificate = x509.load_der_x509_certificate(der)
        # x5t is the certificate's SHA-1 thumbprint (base64url), and the kid is the same value.
        assert key["x5t"] == base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()
        assert key["kid"] == key["x5t"]
        # The certificate holds the very key the modulus and exponent describe.
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        assert certificate.public_key().public_bytes(serialization.Encoding.DER, spki) == \
            jwt.PyJWK(key).key.public_bytes(serialization.Encoding.DER, spki)


def test_pyjwt_verifies_an_id_token_from_the_published_metadata(ep, authority, consented, sam_app):
    """What an OpenID relying party does: discovery, then PyJWKClient on jwks_uri, then the issuer."""
    context = ssl.create_default_context(cafile=ep["ca_bundle"])
    session = requests.Session()
    session.verify = ep["ca_bundle"]
    discovery = session.get(f"{authority}/v2.0/.well-known/openid-configuration").json()
    id_token = consented["result"]["id_token"]
    signing_key = jwt.PyJWKClient(discovery["jwks_uri"], ssl_context=context).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(id_token, signing_key.key, algorithms=discovery["id_token_signing_alg_values_supported"],
                        audience=sam_app["app_id"], issuer=discovery["issuer"])
    assert claims["tid"] == ep["partner_tenant_id"] and claims["ver"] == "2.0"
    assert jwt.get_unverified_header(id_token)["kid"] == signing_key.key_id


def test_msal_reads_the_discovery_document_of_each_tenant_form(ep):
    for tenant in tenant_forms(ep).values():
        app = msal.PublicClientApplication("04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                                           authority=f"{ep['cloud']['login']}/{tenant}", instance_discovery=False)
        flow = app.initiate_device_flow(scopes=[ep["cloud"]["graph"] + "/.default"])
        assert flow["verification_uri"].startswith(ep["cloud"]["login"]), flow


# response headers --------------------------------------------------------------------------------------
def test_token_answers_are_not_cached(http, ep):
    """A token, and the error in its place: Cache-Control no-store and Pragma no-cache (RFC 6749 5.1)."""
    principal = ep["principals"]["automation"]
    url = f"{ep['cloud']['login']}/{principal['tenant_id']}/oauth2/v2.0/token"
    form = {"grant_type": "client_credentials", "client_id": principal["client_id"],
            "client_secret": principal["client_secret"], "scope": ep["cloud"]["keyvault_resource"] + "/.default"}
    for answer in (http.post(url, data=form), http.post(url, data=dict(form, client_secret="wrong"))):
        assert "no-store" in answer.headers["Cache-Control"] and answer.headers["Pragma"] == "no-cache"
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
        assert "Server" not in answer.headers


def test_successful_answers_carry_each_service_json_type(http, ep, admin_graph, consented):
    """A successful answer: the service's JSON type and, as on every answer, its ids."""
    graph = http.get(ep["cloud"]["graph"] + "/v1.0/organization",
                     headers=dict(sent_ids(), Authorization="Bearer " + admin_graph["access_token"]))
    assert graph.status_code == 200
    assert graph.headers["Content-Type"] == ("application/json;odata.metadata=minimal;odata.streaming=true;"
                                             "IEEE754Compatible=false;charset=utf-8")
    token = consented["client"].acquire_token_by_refresh_token(
        consented["result"]["refresh_token"], [ep["cloud"]["partner_center"] + "/user_impersonation"])
    partner = http.get(ep["cloud"]["partner_center"] + "/v1/customers",
                       headers=dict(sent_ids(), Authorization="Bearer " + token["access_token"]))
    assert partner.status_code == 200 and partner.headers["Content-Type"] == "application/json; charset=utf-8"
    assert_ids("graph", graph)
    assert_ids("partner_center", partner)
    discovery = http.get(f"{ep['cloud']['login']}/common/v2.0/.well-known/openid-configuration", headers=sent_ids())
    assert_ids("login", discovery)
