"""azure-identity's ClientSecretCredential feeding azure-keyvault-secrets' SecretClient, unmodified."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient


def client_for(ep, principal_key):
    principal = ep["principals"][principal_key]
    credential = ClientSecretCredential(principal["tenant_id"], principal["client_id"], principal["client_secret"],
                                        authority=ep["cloud"]["login"], disable_instance_discovery=True)
    return SecretClient(ep["vault_url"], credential)


@pytest.fixture(scope="module")
def vault(ep):
    return client_for(ep, "automation")


def test_set_get_latest_and_by_version(vault):
    first = vault.set_secret("conformance-one", "v1", content_type="text/plain", tags={"k": "1"})
    second = vault.set_secret("conformance-one", "v2")
    assert first.properties.version != second.properties.version
    assert vault.get_secret("conformance-one").value == "v2"
    assert vault.get_secret("conformance-one", first.properties.version).value == "v1"
    assert vault.get_secret("conformance-one", first.properties.version).properties.content_type == "text/plain"
    assert vault.get_secret("conformance-one", first.properties.version).properties.tags == {"k": "1"}
    versions = list(vault.list_properties_of_secret_versions("conformance-one"))
    assert {v.version for v in versions} == {first.properties.version, second.properties.version}
    assert "conformance-one" in {p.name for p in vault.list_properties_of_secrets()}


def test_update_properties_and_expiry(vault):
    import datetime
    created = vault.set_secret("conformance-props", "x")
    expires = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    updated = vault.update_secret_properties("conformance-props", created.properties.version, expires_on=expires,
                                             tags={"rotated": "yes"})
    assert updated.expires_on == expires and updated.tags == {"rotated": "yes"}


def test_missing_secret(vault):
    with pytest.raises(ResourceNotFoundError) as caught:
        vault.get_secret("conformance-never-set")
    assert caught.value.error.code == "SecretNotFound"


def test_delete_recover_purge(vault):
    vault.set_secret("conformance-deleted", "x")
    deleted = vault.begin_delete_secret("conformance-deleted").result()
    assert deleted.recovery_id.endswith("/deletedsecrets/conformance-deleted")
    assert vault.get_deleted_secret("conformance-deleted").name == "conformance-deleted"
    with pytest.raises(ResourceNotFoundError):
        vault.get_secret("conformance-deleted")
    with pytest.raises(ResourceExistsError) as caught:
        vault.set_secret("conformance-deleted", "y")
    assert caught.value.error.code == "Conflict"
    vault.begin_recover_deleted_secret("conformance-deleted").result()
    assert vault.get_secret("conformance-deleted").value == "x"
    vault.begin_delete_secret("conformance-deleted").result()
    vault.purge_deleted_secret("conformance-deleted")
    with pytest.raises(ResourceNotFoundError):
        vault.get_deleted_secret("conformance-deleted")
    vault.set_secret("conformance-deleted", "fresh")
    assert vault.get_secret("conformance-deleted").value == "fresh"


def test_principal_without_access_gets_403(ep):
    denied = client_for(ep, "no_vault_access")
    with pytest.raises(HttpResponseError) as caught:
        denied.get_secret("conformance-one")
    assert caught.value.status_code == 403
    assert caught.value.error.code == "Forbidden"
    assert "does not have secrets get permission" in caught.value.error.message


def test_challenge_shape(ep, http):
    response = http.get(f"{ep['vault_url']}/secrets/anything/?api-version=7.5")
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer authorization=")
    assert f'resource="{ep["cloud"]["keyvault_resource"]}"' in challenge
    assert response.json()["error"]["code"] == "Unauthorized"
