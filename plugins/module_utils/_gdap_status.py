# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

What each status of a GDAP relationship and of its access assignments means, as Microsoft Graph's
reference for delegatedAdminRelationship and delegatedAdminAccessAssignment describes them. The one
table that the verdict, the inventory, the fix path and the modules read, so that no two of them can
disagree on whether a status gives access."""

from __future__ import annotations

# A relationship's status (delegatedAdminRelationshipStatus).
# Gives the assigned groups their roles in the customer.
USABLE = frozenset({"active"})
# Made by the partner and not yet sent to the customer: lockForApproval sends it.
DRAFT = "created"
# Locked for approval: only the customer's Global Administrator moves it on, at the invitation link.
AWAITING_APPROVAL = "approvalPending"
# Approved by the customer and on its way to active.
ACTIVATING = frozenset({"approved", "activating"})
# Gives no access and never will again. 'expiring' is a relationship whose end date has passed while
# Microsoft takes its access away, not one that ends soon (a run finds those by their end date).
ENDED = frozenset({"expiring", "expired", "terminationRequested", "terminating", "terminated"})
# Usable, or on its way there with the customer asked.
LIVE = USABLE | {AWAITING_APPROVAL} | ACTIVATING
RELATIONSHIP_STATUSES = LIVE | {DRAFT} | ENDED

# An access assignment's status (delegatedAdminAccessAssignmentStatus).
ASSIGNMENT_ACTIVE = "active"
# Created or changed; Graph applies it over a while.
ASSIGNMENT_PENDING = "pending"
ASSIGNMENT_ENDED = frozenset({"deleting", "deleted", "error"})
ASSIGNMENT_STATUSES = frozenset({ASSIGNMENT_ACTIVE, ASSIGNMENT_PENDING}) | ASSIGNMENT_ENDED
