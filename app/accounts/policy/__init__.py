"""The one permission policy: who may do what, on which object (``from app.accounts.policy
import can, ...``). Its parts, by what they hold:

- ``rules``: the actions, facts about a user (the networks they coordinate or belong to), the
  rule for each kind of target, ``registrant_access`` and ``can`` itself;
- ``queries``: the rows a user may see (``visible_*``), each following a rule of ``can``;
- ``links``: what an activity may be tied to (networks, convening offices) by a user.
"""

from app.accounts.policy.links import linkable_networks, linkable_offices, refused_link
from app.accounts.policy.queries import (
    audit_scope,
    manageable_offices,
    visible_activities,
    visible_audit_events,
    visible_campaigns,
    visible_networks,
    visible_offices,
    visible_outbox_messages,
    visible_registrations,
)
from app.accounts.policy.rules import (
    ACTIONS,
    RegistrantAccess,
    UnknownAction,
    can,
    coordinated_network_ids,
    current_year,
    is_coordinator,
    linkable_network_ids,
    member_network_ids,
    registrant_access,
)

__all__ = [
    "ACTIONS", "RegistrantAccess", "UnknownAction", "audit_scope", "can", "coordinated_network_ids",
    "current_year", "is_coordinator", "linkable_network_ids", "linkable_networks", "linkable_offices",
    "manageable_offices", "member_network_ids", "refused_link", "registrant_access", "visible_activities",
    "visible_audit_events", "visible_campaigns", "visible_networks", "visible_offices", "visible_outbox_messages",
    "visible_registrations",
]
