# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Modules that only read.
    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Returns no diff.
"""

    # Every module: one of the action group.
    ACTION_GROUP = r"""
attributes:
  action_group:
    description:
      - Use C(group/partnercenter.secure_app.secure_app) in C(module_defaults) to set options once for every module of
        the collection. Options safe to set there are C(cloud), C(cloud_endpoints), C(ca_bundle), C(timeout), C(retries),
        C(max_retry_wait), C(deadline) and the SAM app's C(tenant_id), C(client_id), C(client_secret) and
        C(refresh_token); the Key Vault modules take the vault's identity as C(vault_*) options apart.
    support: full
    membership:
      - partnercenter.secure_app.secure_app
"""
