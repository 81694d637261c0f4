from __future__ import annotations

from ansible_collections.partnercenter.secure_app.plugins.module_utils._option_names import in_callers_terms

NAMES = {"vault_tenant_id": "partner_token_vault_tenant_id", "client_id": "partner_token_app",
         "tenant_id": "onboard_tenant_id", "cloud": "partner_token_cloud"}


def test_whole_option_names_become_the_callers():
    message = "give vault_tenant_id and client_id, or set cloud; tenant_id 'common' is not a tenant."
    assert in_callers_terms(message, NAMES) == ("give partner_token_vault_tenant_id and partner_token_app, or set "
                                                "partner_token_cloud; onboard_tenant_id 'common' is not a tenant.")


def test_parts_of_other_words_paths_and_hosts_stay():
    message = "vault_client_id, AZURE_TENANT_ID, https://cloud.example/tenant_id, roles/cloud, cloud-endpoints, tenant_ids."
    assert in_callers_terms(message, NAMES) == message


def test_without_a_mapping_the_message_is_unchanged():
    assert in_callers_terms("give vault_tenant_id.", None) == "give vault_tenant_id."
    assert in_callers_terms("give vault_tenant_id.", {}) == "give vault_tenant_id."
    assert in_callers_terms("give vault_tenant_id.", {"vault_tenant_id": ""}) == "give vault_tenant_id."
