# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the gdap_access_assignment module with the Graph token the partner_token fact holds, picked on the controller."""

from __future__ import annotations

from ansible_collections.partnercenter.secure_app.plugins.plugin_utils._partner_token_action import PartnerTokenAction


class ActionModule(PartnerTokenAction):
    RESOURCE = "graph"
