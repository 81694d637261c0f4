"""The ready variables file beside endpoints.json: what a partner would write in their own
variables file for the collection's roles, filled in for this sandbox, so that

    ansible-playbook -i localhost, partnercenter.secure_app.onboard -e @STATE/variables.yml

works as the README's quick start says. It names the vault principal's client secret: mode 0600,
as endpoints.json."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILE_NAME = "variables.yml"

HEADER = """\
# Written by the sandbox for its current ports and CA: the variables of the onboard, partner_token
# and customer_access roles (playbooks onboard, customers, daily, rotate_secret), as a partner
# would write them for their own tenant and vault. Pass it with -e @THIS_FILE.
"""


def role_variables(endpoints: dict[str, Any]) -> dict[str, Any]:
    """The roles' variables for the sandbox of these endpoints: its cloud endpoints and CA, the
    partner tenant, the vault, and the vault's service principal (what partner_token reads the
    SAM credentials with)."""
    vault_principal = endpoints["principals"]["automation"]
    return {
        "onboard_tenant_id": endpoints["partner_tenant_id"],
        "onboard_vault_url": endpoints["vault_url"],
        "onboard_cloud_endpoints": endpoints["cloud"],
        "onboard_ca_bundle": endpoints["ca_file"],
        "partner_token_vault_url": endpoints["vault_url"],
        "partner_token_vault_tenant_id": vault_principal["tenant_id"],
        "partner_token_vault_client_id": vault_principal["client_id"],
        "partner_token_vault_client_secret": vault_principal["client_secret"],
        "partner_token_cloud_endpoints": endpoints["cloud"],
        "partner_token_ca_bundle": endpoints["ca_file"],
    }


def variables_file(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def write_variables(state_dir: Path, endpoints: dict[str, Any]) -> Path:
    """Write STATE/variables.yml (YAML; each value in JSON form, which YAML reads as is)."""
    path = variables_file(state_dir)
    lines = [HEADER] + [f"{name}: {json.dumps(value)}\n" for name, value in role_variables(endpoints).items()]
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(lines)
    os.replace(temporary, path)
    return path


def remove_variables(state_dir: Path) -> None:
    """Its ports die with the sandbox: a stale file would send the next run nowhere."""
    variables_file(state_dir).unlink(missing_ok=True)
