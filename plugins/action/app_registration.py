# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the app_registration module (the Graph token from partner_token, picked on the controller) and hides a
successful result that holds the new client secret or certificate private key, returned once."""

from __future__ import annotations

from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._partner_token_action import PartnerTokenAction


class ActionModule(PartnerTokenAction):
    RESOURCE = "graph"

    def holds_secret(self, result):
        return bool(result.get("secret") or result.get("certificate"))
