# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the keyvault_secret_info module (the Key Vault token from partner_token, picked on the controller) and
hides a successful result that holds secret values."""

from __future__ import annotations

from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._partner_token_action import PartnerTokenAction


class ActionModule(PartnerTokenAction):
    RESOURCE = "keyvault"

    def holds_secret(self, result):
        return bool(result.get("secrets"))
