"""Key Vault through azure-keyvault-secrets and azure-identity against the sandbox's vault: the
credential each option picks, the secret operations, and one sentence per failure."""
from __future__ import annotations

import datetime
import uuid

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.partnercenter.secure_app.plugins.module_utils._context import Context
from ansible_collections.partnercenter.secure_app.plugins.module_utils._errors import SecureAppError
from ansible_collections.partnercenter.secure_app.plugins.module_utils._http import HttpClient
from ansible_collections.partnercenter.secure_app.plugins.module_utils._keyvault import KeyVault, secret_view

NO_ENVIRONMENT: dict[str, str] = {}
AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


@pytest.fixture()
def http(world):
    made = HttpClient(world["ep"]["ca_file"], 30, 1)
    yield made
    made.close()


def vault(world, http, principal="automation", **kwargs):
    ep = world["ep"]
    spec = ep["principals"][principal]
    options = {"tenant_id": spec["tenant_id"], "client_id": spec["client_id"], "client_secret": spec["client_secret"],
               "environment": NO_ENVIRONMENT}
    options.update(kwargs)
    return KeyVault(http, resolve_cloud("AzureCloud", ep["cloud"]), ep["vault_url"], **options)


def without_any_credential(monkeypatch):
    """No variable azure-identity reads, and no Azure CLI on the PATH."""
    for variable in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE",
                     "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "IMDS_ENDPOINT", "AZURE_USERNAME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")


def name():
    return "unit-" + uuid.uuid4().hex[:12]


def test_set_get_versions_and_view(world, http):
    kv = vault(world, http)
    secret_name = name()
    expires = int(datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
    first = kv.set(secret_name, "one", content_type="text/plain", tags={"a": "1"}, expires_on=expires)
    second = kv.set(secret_name, "two", content_type=None, tags=None, expires_on=None)
    assert first.properties.version != second.properties.version
    assert kv.get(secret_name).value == "two"
    assert kv.get(secret_name, first.properties.version).value == "one"
    view = secret_view(kv.get(secret_name, first.properties.version), with_value=False)
    assert view["name"] == secret_name and view["version"] == first.properties.version
    assert view["content_type"] == "text/plain" and view["tags"] == {"a": "1"} and view["enabled"] is True
    assert view["expires_on"] == expires and view["created_on"] and view["updated_on"]
    assert "value" not in view and secret_view(second, with_value=True)["value"] == "two"
    assert kv.get("unit-never-set") is None
    assert kv.credential_kind == f"the service principal {world['ep']['principals']['automation']['client_id']} " \
                                 "(vault_client_id)"


def test_update_properties(world, http):
    kv = vault(world, http)
    secret_name = name()
    made = kv.set(secret_name, "v", content_type=None, tags=None, expires_on=None)
    kv.update_properties(secret_name, made.properties.version, content_type="text/plain", tags={"k": "v"},
                         expires_on=1893456000)
    view = secret_view(kv.get(secret_name), with_value=False)
    assert (view["content_type"], view["tags"], view["expires_on"]) == ("text/plain", {"k": "v"}, 1893456000)


def test_delete_recover_purge(world, http):
    kv = vault(world, http)
    secret_name = name()
    kv.set(secret_name, "v", content_type=None, tags=None, expires_on=None)
    kv.delete(secret_name)
    assert kv.get(secret_name) is None and kv.deleted(secret_name) is not None
    with pytest.raises(SecureAppError) as raised:
        kv.set(secret_name, "w", content_type=None, tags=None, expires_on=None)
    assert raised.value.code == "ObjectIsDeletedButRecoverable" and raised.value.status == 409
    assert raised.value.message == (f"Secret {secret_name!r} is soft-deleted in {world['ep']['vault_url']}: recover "
                                    "it (recover_deleted: true) or purge it before setting it again.")
    kv.recover(secret_name)
    assert kv.get(secret_name).value == "v" and kv.deleted(secret_name) is None
    kv.delete(secret_name)
    kv.purge(secret_name)
    assert kv.deleted(secret_name) is None
    kv.set(secret_name, "again", content_type=None, tags=None, expires_on=None)


def test_access_denied_names_the_principal(world, http):
    kv = vault(world, http, principal="no_vault_access")
    with pytest.raises(SecureAppError) as raised:
        kv.get("anything")
    client_id = world["ep"]["principals"]["no_vault_access"]["client_id"]
    assert raised.value.status == 403 and raised.value.code == "Forbidden"
    assert raised.value.message.startswith(f"Failed to read secret 'anything': access denied by "
                                           f"{world['ep']['vault_url']} for the service principal {client_id} "
                                           "(vault_client_id): grant it secret permissions")
    assert "request id" in raised.value.message and raised.value.details["x-ms-request-id"]


def test_deleted_secret_without_permission_reads_as_unknown(world, http):
    assert vault(world, http, principal="no_vault_access").deleted("anything") is None


def test_a_token_for_another_resource_is_refused(world, http):
    kv = vault(world, http, access_token="not-a-vault-token", tenant_id=None, client_id=None, client_secret=None)
    with pytest.raises(SecureAppError) as raised:
        kv.get("anything")
    assert raised.value.status == 401
    assert "refused the token: use a token for the vault's resource in the vault's tenant" in raised.value.message


def test_wrong_service_principal_secret(world, http):
    kv = vault(world, http, client_secret="wrong-secret")
    with pytest.raises(SecureAppError) as raised:
        kv.get("anything")
    assert raised.value.code == "AADSTS7000215"
    assert "could not get a token (Entra said AADSTS7000215)" in raised.value.message


def test_secret_without_tenant_and_client(world, http):
    with pytest.raises(SecureAppError) as raised:
        vault(world, http, tenant_id=None)
    assert raised.value.message == ("A Key Vault client secret (vault_client_secret) needs vault_tenant_id and "
                                    "vault_client_id as well.")


VAULT_FIX = ("give it as https://NAME.vault.azure.net (or your cloud's vault suffix), without a path, query, "
             "fragment or user name.")


@pytest.mark.parametrize("url", ["http://vault", "https://vault.azure.net/secrets", "", "vault.azure.net",
                                 "https://v.vault.azure.net?x=1", "https://v.vault.azure.net/?", "https://v.vault.azure.net#f"])
def test_not_a_vault_url(world, http, url):
    with pytest.raises(SecureAppError) as raised:
        KeyVault(http, resolve_cloud("AzureCloud"), url)
    assert raised.value.message == f"vault_url ({url!r}) is not an https origin: {VAULT_FIX}"


@pytest.mark.parametrize("url", ["https://v.vault.azure.net\n", "https://v.vault.azure.net\r\n", " https://v.vault.azure.net",
                                 "https://v.vault.azure.net/\t"])
def test_a_vault_url_with_white_space_is_refused(world, http, url):
    with pytest.raises(SecureAppError) as raised:
        KeyVault(http, resolve_cloud("AzureCloud"), url)
    assert raised.value.message == (f"vault_url ({url!r}) holds white space or a character no URL has: {VAULT_FIX}")


@pytest.mark.parametrize("url", ["https://user:pa55word@v.vault.azure.net", "https://pa55word@v.vault.azure.net/"])
def test_a_vault_url_with_a_password_is_refused_without_it(world, http, url):
    with pytest.raises(SecureAppError) as raised:
        KeyVault(http, resolve_cloud("AzureCloud"), url)
    assert "pa55word" not in raised.value.message and "holds a user name or password" in raised.value.message


def test_unreachable_vault(world, http):
    kv = KeyVault(http, resolve_cloud("AzureCloud", world["ep"]["cloud"]), "https://127.0.0.1:9",
                  access_token="t", environment=NO_ENVIRONMENT)
    with pytest.raises(SecureAppError) as raised:
        kv.get("anything")
    assert raised.value.code == "vault_unreachable"
    assert raised.value.message == ("Failed to read secret 'anything': cannot reach https://127.0.0.1:9: check "
                                    "vault_url (the vault name) and the network.")


def test_tls_failure_says_give_ca_bundle(world, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)  # requests would use it instead of the system CAs
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    plain = HttpClient(None, 10, 0)
    try:
        kv = KeyVault(plain, resolve_cloud("AzureCloud", world["ep"]["cloud"]), world["ep"]["vault_url"],
                      access_token="t", environment=NO_ENVIRONMENT)
        with pytest.raises(SecureAppError) as raised:
            kv.get("anything")
    finally:
        plain.close()
    assert "ca_bundle" in raised.value.message


def test_automation_platform_azure_credential(world, http):
    spec = world["ep"]["principals"]["automation"]
    environment = {"AZURE_CLIENT_ID": spec["client_id"], "AZURE_TENANT": spec["tenant_id"],
                   "AZURE_SECRET": spec["client_secret"]}
    kv = vault(world, http, tenant_id=None, client_id=None, client_secret=None, environment=environment)
    assert kv.credential_kind.startswith(f"the service principal {spec['client_id']} of Automation Platform's")
    secret_name = name()
    kv.set(secret_name, "from awx", content_type=None, tags=None, expires_on=None)
    assert kv.get(secret_name).value == "from awx"
    # azure-identity's own variables win over the platform's when both are there.
    both = dict(environment, AZURE_CLIENT_SECRET="x")
    assert vault(world, http, tenant_id=None, client_id=None, client_secret=None,
                 environment=both).credential_kind.startswith("azure-identity's")


def test_no_credential_at_all(world, http, monkeypatch):
    without_any_credential(monkeypatch)
    kv = vault(world, http, tenant_id=None, client_id=None, client_secret=None, sam_secret_given=True)
    with pytest.raises(SecureAppError) as raised:
        kv.get("anything")
    assert raised.value.code == "no_credential"
    assert raised.value.message.startswith("Failed to read secret 'anything': no Key Vault credential is available "
                                           "(client_id and client_secret are the SAM app's")


def test_empty_azure_variables_give_one_sentence(world, http, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_ID", "")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "something")
    monkeypatch.setenv("AZURE_TENANT_ID", "something")
    with pytest.raises(SecureAppError) as raised:
        vault(world, http, tenant_id=None, client_id=None, client_secret=None)
    assert raised.value.code == "invalid_environment" and "correct or unset them" in raised.value.message


def test_a_retry_after_longer_than_allowed_ends_at_once(world):
    api = world["api"]
    quick = HttpClient(world["ep"]["ca_file"], 30, 3, max_retry_wait=5)
    api.call("PUT", "/faults", [{"service": "vault", "status": 429, "retry_after": 600, "count": 5}])
    try:
        kv = vault(world, quick)
        with pytest.raises(SecureAppError) as raised:
            kv.get("anything")
    finally:
        api.call("DELETE", "/faults")
        quick.close()
    assert raised.value.code == "retry_wait_exceeded" and "max_retry_wait" in raised.value.message


def test_from_options_with_a_refresh_token(world):
    """client_id with refresh_token: exchanged for a vault token (Azure CLI's public client and the
    admin's refresh token here, as onboarding does); client_secret without refresh_token is the SAM
    app's and never becomes the vault's identity."""
    ep, api = world["ep"], world["api"]
    options = {"cloud": "AzureCloud", "cloud_endpoints": ep["cloud"], "ca_bundle": ep["ca_file"], "timeout": 30,
               "retries": 1, "vault_url": ep["vault_url"], "tenant_id": ep["partner_tenant_id"],
               "client_id": AZURE_CLI}
    context = Context(options.get)
    api.call("PUT", "/auto-approve", [{"upn": ep["accounts"]["admin"]["upn"], "client_id": AZURE_CLI}])
    try:
        admin = context.identity.device_code(AZURE_CLI, ep["partner_tenant_id"], [ep["cloud"]["graph"] + "/.default"],
                                             lambda message: None, 60)
    finally:
        api.call("PUT", "/auto-approve", [])
    signed_in = Context(dict(options, refresh_token=admin.refresh_token).get)
    sam_only = Context(dict(options, client_id=world["app"]["app_id"], client_secret=world["app"]["secret"]).get)
    try:
        kv = KeyVault.from_options(signed_in)
        assert kv.credential_kind.startswith("the access token given")
        secret_name = name()
        kv.set(secret_name, "by the admin", content_type=None, tags=None, expires_on=None)
        assert kv.get(secret_name).value == "by the admin"
        not_the_vaults = KeyVault.from_options(sam_only)
        assert not_the_vaults.credential_kind.startswith("azure-identity's") and not_the_vaults.sam_secret_given
    finally:
        for made in (context, signed_in, sam_only):
            made.close()


def test_every_operation_names_itself_when_refused(world, http):
    kv = vault(world, http, principal="no_vault_access")
    client_id = world["ep"]["principals"]["no_vault_access"]["client_id"]
    vault_url = world["ep"]["vault_url"]
    for action, call in (("delete", lambda: kv.delete("x")), ("recover", lambda: kv.recover("x")),
                         ("purge", lambda: kv.purge("x")), ("set", lambda: kv.set("x", "v", content_type=None,
                                                                                  tags=None, expires_on=None)),
                         ("update", lambda: kv.update_properties("x", "1", content_type=None, tags=None,
                                                                 expires_on=None))):
        with pytest.raises(SecureAppError) as raised:
            call()
        message = raised.value.message
        assert message.startswith(f"Failed to {action} secret 'x': access denied by {vault_url} for the service "
                                  f"principal {client_id} (vault_client_id): grant it secret permissions (an access "
                                  "policy or the 'Key Vault Secrets Officer' role) (request id "), message


def test_unauthorized_and_other_http_errors_exactly(world, http):
    kv = vault(world, http, access_token="not-a-vault-token", tenant_id=None, client_id=None, client_secret=None)
    with pytest.raises(SecureAppError) as raised:
        kv.get("anything")
    request_id = raised.value.details["x-ms-request-id"]
    assert raised.value.message == (f"Failed to read secret 'anything': {world['ep']['vault_url']} refused the token: "
                                    "use a token for the vault's resource in the vault's tenant (request id "
                                    f"{request_id}).")
    assert raised.value.status == 401
    good = vault(world, http)
    with pytest.raises(SecureAppError) as bad_name:
        good.set("not a valid name!", "v", content_type=None, tags=None, expires_on=None)
    assert bad_name.value.status == 400
    assert bad_name.value.message == (f"Failed to set secret 'not a valid name!' in {world['ep']['vault_url']}: HTTP "
                                      "400 BadParameter The request URI contains an invalid name: not a valid name! "
                                      f"(request id {bad_name.value.details['x-ms-request-id']}).")
    assert bad_name.value.code == "BadParameter"


def test_azure_core_does_not_retry_on_top_of_the_session(world):
    """One 503 with no retries allowed: azure-core's own retries would hide it."""
    api = world["api"]
    strict = HttpClient(world["ep"]["ca_file"], 30, 0)
    kv = vault(world, strict)
    secret_name = name()
    kv.set(secret_name, "v", content_type=None, tags=None, expires_on=None)
    api.call("PUT", "/faults", [{"service": "vault", "method": "GET", "status": 503, "count": 1}])
    try:
        with pytest.raises(SecureAppError) as raised:
            kv.get(secret_name)
    finally:
        api.call("DELETE", "/faults")
        strict.close()
    assert raised.value.status == 503


def test_exact_sentences_of_credential_and_tls_failures(world, http, monkeypatch):
    kv = vault(world, http, client_secret="wrong-secret")
    with pytest.raises(SecureAppError) as raised:
        kv.get("anything")
    client_id = world["ep"]["principals"]["automation"]["client_id"]
    assert raised.value.message == (f"Failed to read secret 'anything': the Key Vault credential (the service principal "
                                    f"{client_id} (vault_client_id)) could not get a token (Entra said AADSTS7000215): "
                                    "check its tenant, client id and secret (or the managed identity), and that it "
                                    "exists in this cloud.")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    plain = HttpClient(None, 10, 0)
    try:
        kv = KeyVault(plain, resolve_cloud("AzureCloud", world["ep"]["cloud"]), world["ep"]["vault_url"],
                      access_token="t", environment=NO_ENVIRONMENT)
        with pytest.raises(SecureAppError) as tls:
            kv.get("anything")
    finally:
        plain.close()
    assert tls.value.code == "tls"
    assert tls.value.message == (f"Failed to read secret 'anything': TLS verification failed for "
                                 f"{world['ep']['vault_url']}: give ca_bundle with the CA that signed its certificate.")


def test_no_credential_sentence_exactly(world, http, monkeypatch):
    without_any_credential(monkeypatch)
    kv = vault(world, http, tenant_id=None, client_id=None, client_secret=None)
    assert kv.credential_kind == ("azure-identity's DefaultAzureCredential (environment, workload or managed identity, "
                                  "Azure CLI)")
    with pytest.raises(SecureAppError) as raised:
        kv.get("anything")
    assert raised.value.message == (
        "Failed to read secret 'anything': no Key Vault credential is available: give access_token, a service "
        "principal (vault_tenant_id, vault_client_id, vault_client_secret), set AZURE_TENANT_ID/AZURE_CLIENT_ID/"
        "AZURE_CLIENT_SECRET, use a managed identity, or run 'az login'.")


def test_update_without_expiry_and_a_given_token_without_expiry(world, http):
    kv = vault(world, http)
    secret_name = name()
    made = kv.set(secret_name, "v", content_type=None, tags={"a": "b"}, expires_on=1893456000)
    kv.update_properties(secret_name, made.properties.version, content_type="x", tags=None, expires_on=None)
    view = secret_view(kv.get(secret_name), with_value=False)
    assert view["content_type"] == "x" and view["expires_on"] == 1893456000 and view["tags"] == {"a": "b"}
    from ansible_collections.partnercenter.secure_app.plugins.module_utils._vault_credentials import GivenToken as _GivenToken
    import time as clock
    token = _GivenToken("t", None).get_token("scope")
    assert token.token == "t" and clock.time() + 2900 < token.expires_on < clock.time() + 3100
    assert _GivenToken("t", 123).get_token().expires_on == 123


def test_require_azure(monkeypatch):
    from ansible_collections.partnercenter.secure_app.plugins.module_utils import _keyvault

    monkeypatch.setattr(_keyvault, "HAS_AZURE", False)
    with pytest.raises(SecureAppError) as raised:
        _keyvault.require_azure()
    assert type(raised.value).__name__ == "MissingLibraryError"
    assert raised.value.message == ("The Python packages 'azure-identity' and 'azure-keyvault-secrets' are not "
                                    "installed where this task runs: pip install -r requirements.txt from the "
                                    "collection.")


def test_from_options_picks_the_vaults_own_identity_and_a_given_token(world):
    ep = world["ep"]
    principal = ep["principals"]["automation"]
    base = {"cloud": "AzureCloud", "cloud_endpoints": ep["cloud"], "ca_bundle": ep["ca_file"], "timeout": 30,
            "retries": 1, "vault_url": ep["vault_url"]}
    own = Context(dict(base, vault_tenant_id=principal["tenant_id"], vault_client_id=principal["client_id"],
                       vault_client_secret=principal["client_secret"], client_id="sam", client_secret="sam-secret",
                       tenant_id=ep["partner_tenant_id"]).get)
    given = Context(dict(base, access_token="a-vault-token", client_secret="sam-secret", client_id="sam").get)
    refreshed = Context(dict(base, client_id="sam", client_secret="s", refresh_token="r",
                             access_token="wins-over-the-refresh").get)
    try:
        assert KeyVault.from_options(own).credential_kind == (f"the service principal {principal['client_id']} "
                                                              "(vault_client_id)")
        assert KeyVault.from_options(own).sam_secret_given is True
        with_token = KeyVault.from_options(given)
        assert with_token.credential_kind.startswith("the access token given") and with_token.sam_secret_given
        assert KeyVault.from_options(refreshed).sam_secret_given is False
    finally:
        for made in (own, given, refreshed):
            made.close()
