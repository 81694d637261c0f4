# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the keyvault_secret_info module and hides a successful result that holds secret values."""

from __future__ import annotations

from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._secret_result import SecretResultAction


class ActionModule(SecretResultAction):
    def holds_secret(self, result):
        return bool(result.get("secrets"))
