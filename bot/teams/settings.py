"""How Teams reaches the bot, and which Microsoft 365 tenants it serves.

Teams names an activity's tenant twice (``conversation.tenantId`` and
``channelData.tenant.id``); :func:`activity_tenant` reads it once for the HTTP edge
(bot.teams.http) and for stored conversation references (:meth:`TeamsSettings.serves_reference`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TeamsSettings:
    """How Teams reaches the bot. The password is kept out of repr (and so out of logs)."""

    app_id: str | None = None
    app_password: str | None = field(default=None, repr=False)
    tenant_id: str | None = None
    app_type: str | None = None
    allow_unauthenticated: bool = False
    #: Where the Bot Framework publishes its token signing keys (tests, sovereign clouds).
    openid_metadata_url: str | None = None
    #: Microsoft 365 tenants served besides ``tenant_id`` (MENTORBOT_TEAMS_TENANTS).
    tenants: frozenset[str] = frozenset()
    #: Serve every tenant (MENTORBOT_TEAMS_ANY_TENANT=1), an explicit opt-in.
    any_tenant: bool = False

    def serves(self, tenant: str | None) -> bool:
        """Whether activities from this tenant (None: the activity names none) are answered."""
        if self.any_tenant:
            return True
        if tenant is None:
            return False
        served = {t.lower() for t in self.tenants}
        if self.tenant_id:
            served.add(self.tenant_id.lower())
        return tenant.lower() in served

    def serves_reference(self, reference: dict[str, Any]) -> bool:
        """Whether a stored conversation reference is in a tenant served now.

        For proactive messages: a reference saved while its tenant was served must not be
        used once the tenant is taken off the list.
        """
        conversation = reference.get("conversation")
        if not isinstance(conversation, dict):
            return self.serves(None)
        try:
            # References saved before tenants were recorded name none, and are served only
            # in any-tenant mode: one could be a stranger's, saved for a colleague's person.
            tenant = activity_tenant(conversation.get("tenantId"), None)
        except ValueError:
            return False
        return self.serves(tenant)


def activity_tenant(conversation_tenant: Any, channel_data: Any) -> str | None:
    """The Microsoft 365 tenant an activity comes from, in lower case; None if it names none.

    Teams names it twice, as ``conversation.tenantId`` and ``channelData.tenant.id``.

    Args:
        conversation_tenant: ``conversation.tenantId``.
        channel_data: ``channelData``, whatever it holds.

    Raises:
        ValueError: The two name different tenants, or a tenant that is not a string.
    """
    named: set[str] = set()
    for value in (conversation_tenant, channel_data_tenant(channel_data)):
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError("the activity names a tenant that is not a string")
        if value.strip():
            named.add(value.strip().lower())
    if len(named) > 1:
        raise ValueError("the activity names two different tenants")
    return next(iter(named), None)


def channel_data_tenant(channel_data: Any) -> Any:
    tenant = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    return tenant.get("id") if isinstance(tenant, dict) else None
