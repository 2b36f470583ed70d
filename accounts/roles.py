"""Roles are Django groups. The only place that names them and says what each may do."""

from enum import StrEnum
from typing import Any


class Role(StrEnum):
    REQUESTER = "requester"
    AGENT = "agent"
    CHANGE_MANAGER = "change manager"
    CAB_MEMBER = "CAB member"
    SERVICE_LEVEL_MANAGER = "service level manager"
    SERVICE_DESK_MANAGER = "service desk manager"
    ADMINISTRATOR = "administrator"


#: Roles that work in the desk.
DESK_ROLES = frozenset(
    {
        Role.AGENT,
        Role.CHANGE_MANAGER,
        Role.SERVICE_LEVEL_MANAGER,
        Role.SERVICE_DESK_MANAGER,
        Role.ADMINISTRATOR,
    }
)
#: Roles that see the managers' dashboards.
MANAGER_ROLES = frozenset(
    {Role.SERVICE_LEVEL_MANAGER, Role.SERVICE_DESK_MANAGER, Role.ADMINISTRATOR}
)

#: Django permissions ("app_label.codename") granted to each role.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.REQUESTER: (),
    Role.AGENT: (),
    Role.CHANGE_MANAGER: (),
    Role.CAB_MEMBER: (),
    Role.SERVICE_LEVEL_MANAGER: ("tickets.view_all_tickets",),
    Role.SERVICE_DESK_MANAGER: ("tickets.view_all_tickets",),
    Role.ADMINISTRATOR: ("tickets.view_all_tickets",),
}


def sync_roles(**_: Any) -> None:
    """Create the role groups and give them their permissions (idempotent; runs after migrate)."""
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:
                wanted.append(perm)
        group.permissions.add(*wanted)
