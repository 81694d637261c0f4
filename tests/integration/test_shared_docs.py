"""Options shared by several plugins are documented once, in the collection's doc fragments, so
ansible-doc shows the same for each: the customers inventory's connection and vault options
(common.CONNECTION, keyvault.VAULT) as the modules', every option the inventory reads documented;
the api and api_info modules' request options (api_request), and their argument specs the same."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

ANSIBLE_DOC = str(Path(sys.executable).with_name("ansible-doc"))
PLUGIN = "partnercenter.secure_app.customers"
# keyvault_secret takes both fragments the inventory takes (CONNECTION and VAULT).
MODULE = "partnercenter.secure_app.keyvault_secret"
SHARED = ("cloud", "cloud_endpoints", "ca_bundle", "timeout", "retries", "max_retry_wait", "deadline",
          "option_names", "vault_url", "vault_tenant_id", "vault_client_id", "vault_client_secret")


def _doc(collections_path, kind, name):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1")
    done = subprocess.run([ANSIBLE_DOC, "-t", kind, "--json", name], capture_output=True, text=True, env=env,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[name]["doc"]


@pytest.fixture(scope="module")
def docs(collections_path):
    return _doc(collections_path, "inventory", PLUGIN), _doc(collections_path, "module", MODULE)


@pytest.mark.parametrize("option", SHARED)
def test_a_shared_option_reads_as_for_the_modules(docs, option):
    inventory, module = docs
    assert inventory["options"][option] == module["options"][option]


def test_every_option_the_plugin_reads_is_documented(docs):
    inventory, module = docs
    code = (ROOT / "plugins/inventory/customers.py").read_text()
    read = set(re.findall(r"get_option\(\"(\w+)\"\)", code))
    read |= set(re.search(r"CONTEXT_OPTIONS = \(([^)]*)\)", code).group(1).replace('"', "").replace(" ", "").split(","))
    assert read - {""} <= set(inventory["options"])
    assert set(module["requirements"]) <= set(inventory["requirements"])


@pytest.fixture(scope="module")
def api_docs(collections_path):
    return (_doc(collections_path, "module", "partnercenter.secure_app.api"),
            _doc(collections_path, "module", "partnercenter.secure_app.api_info"))


@pytest.mark.parametrize("option", ("api", "path", "partner_token", "customer_tenant_id"))
def test_api_and_api_info_share_their_request_options(api_docs, option):
    write, read = api_docs
    assert write["options"][option] == read["options"][option]
