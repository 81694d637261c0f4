# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the api_info module with the token the partner_token fact holds, picked on the controller."""

from __future__ import annotations

from ansible_collections.partnercenter.secure_app.plugins.module_utils._api import token_resource
from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._partner_token_action import PartnerTokenAction


class ActionModule(PartnerTokenAction):
    TAKES_CUSTOMER_TENANT = True

    def resource(self, args):
        return token_resource(args)
