#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: consent
short_description: Interactive sign-in and consent that yields a refresh token
version_added: 0.1.0
description:
  - The one interactive step of the Secure Application Model. The service account (with MFA) signs in to the
    app and consents; the task returns the refresh token, an access token for the requested scope and who signed in.
  - Runs on the controller (an action plugin), so it can show the sign-in URL or device code while it waits.
  - Serves any client, public or confidential, and any scopes, so the onboarding also uses it for the admin's
    sign-in (with a public client such as Azure CLI's).
  - "Modes: C(browser) listens on the localhost redirect URI, opens the system browser where there is one and
    always prints the URL; C(device_code) prints the sign-in message and polls; C(code) takes the code, or the
    whole redirect URL, that the user pasted (first run without O(code) prints the URL to open)."
  - A successful result is always hidden from output (it is all credentials); a failure stays visible, as its
    message never holds a secret.
author:
  - partnercenter.secure_app developers (@partnercenter)
extends_documentation_fragment:
  - partnercenter.secure_app.common
  - partnercenter.secure_app.common.CONNECTION
  - partnercenter.secure_app.attributes.ACTION_GROUP
attributes:
  check_mode:
    support: none
    description: The sign-in is interactive; in check mode the task is skipped.
  diff_mode:
    support: none
    description: Returns no diff.
options:
  mode:
    description: How the user signs in.
    type: str
    default: device_code
    choices: [browser, device_code, code]
  resource:
    description:
      - The resource to consent to and get the access token for, from the cloud's endpoints (Partner Center
        C(user_impersonation), or C(.default) of the others). O(scopes) overrides it.
    type: str
    default: partner_center
    choices: [partner_center, graph, azure, keyvault, aad_graph]
  scopes:
    description: Explicit scopes to consent to and get the access token for, instead of O(resource).
    type: list
    elements: str
  redirect_uri:
    description: Redirect URI registered on the app (browser and code modes).
    type: str
    default: http://localhost:8400
  open_browser:
    description: In browser mode, try to open the system browser (the URL is printed either way).
    type: bool
    default: true
  code:
    description: In code mode, the code or the whole redirect URL the browser was sent to.
    type: str
  require_mfa:
    description: Fail when the account signed in without multi-factor authentication (Partner Center needs it).
    type: bool
    default: true
  sign_in_timeout:
    description:
      - Seconds to wait for the user to sign in.
      - In code mode, a pending sign-in older than this is stale; the second run refuses its code, and the next run
        without O(code) starts afresh.
    type: int
    default: 900
  login_hint:
    description: The account to suggest on the sign-in page.
    type: str
  prompt:
    description: Force a prompt on the sign-in page.
    type: str
    choices: [login, consent, select_account]
  state_dir:
    description:
      - Where code mode keeps the pending sign-in (PKCE verifier) between its two runs.
      - The directory is created mode 0700. An existing one is refused unless it is a directory (not a link) of mode
        0700 owned by the user running the task; each file is written new with mode 0600 and renamed into place, and
        never read through a link.
    type: path
    default: ~/.ansible/partnercenter_secure_app
notes:
  - "Browser mode: the listener is msal's, bound to 127.0.0.1 only, also inside a container (where msal itself
    would bind every interface; a browser outside the container cannot reach it there: use O(mode=device_code) or
    O(mode=code)). It serves one connection at a time, and drops a connection that sends nothing for 5 seconds, so
    an idle connection cannot hold the sign-in. The whole wait is bounded by O(sign_in_timeout)."
  - O(client_id) is required; O(client_secret) makes the app a confidential client (browser and code modes).
    Device code is a public client flow, so the app must allow public client flows
    (M(partnercenter.secure_app.app_registration) O(partnercenter.secure_app.app_registration#module:allow_public_client_flows=true)).
"""

EXAMPLES = r"""
- name: Service account consents to the SAM app (device code)
  partnercenter.secure_app.consent:
    tenant_id: "{{ partner_token.tenant_id }}"
    client_id: "{{ partner_token.app_id }}"
  register: consented
  no_log: true

- name: Consent in a browser on this machine (needs a person at the browser)
  partnercenter.secure_app.consent:
    mode: browser
    tenant_id: "{{ partner_token.tenant_id }}"
    client_id: "{{ partner_token.app_id }}"
  register: consented
  no_log: true
  tags: [interactive]

- name: Admin sign-in with Azure CLI's public client, for Graph
  partnercenter.secure_app.consent:
    tenant_id: "{{ partner_token.tenant_id }}"
    client_id: 04b07795-8ddb-461a-bbee-02f9e1bf7b46
    resource: graph
    require_mfa: false
  register: admin
  no_log: true
"""

RETURN = r"""
refresh_token:
  description: The refresh token. Secret.
  returned: success
  type: str
access_token:
  description: An access token for O(scopes). Secret.
  returned: success
  type: str
expires_on:
  description: When the access token expires, in Unix seconds.
  returned: success
  type: int
scope:
  description: The scopes granted.
  returned: success
  type: str
identity:
  description: Who signed in.
  returned: success
  type: dict
  contains:
    upn:
      description: User principal name.
      type: str
    object_id:
      description: Object id of the user.
      type: str
    tenant_id:
      description: Tenant id.
      type: str
    mfa:
      description: Whether multi-factor authentication was done.
      type: bool
"""
