"""Demo data for the desk: a few canned replies (personal, team-shared and shared with
everyone) so the reply editor's picker has something to offer. Idempotent by (owner, title)."""

from typing import Any

from .models import CannedReply, SavedView

#: owner username, team name (or "*" for every agent, None for personal), title, body
REPLIES = [
    (
        "maria",
        "*",
        "Acknowledge",
        "Hello {{ requester.first_name }},\n\nThanks for reporting this. {{ ticket.number }} "
        "is with the {{ team.name }} team and we will update you here as soon as we know "
        "more.\n\nKind regards,\n{{ agent.name }}",
    ),
    (
        "maria",
        "*",
        "Resolved: please confirm",
        "Hello {{ requester.first_name }},\n\nWe believe **{{ ticket.title }}** is fixed. "
        "Could you check on your side and reply if anything is still wrong?\n\n"
        "Thanks,\n{{ agent.first_name }}",
    ),
    (
        "nina",
        "Network",
        "VPN: reinstall the client",
        "Hi {{ requester.first_name }},\n\nPlease try this:\n\n1. Quit the VPN client.\n"
        "2. Install the latest version from the Software Centre.\n3. Sign in again.\n\n"
        "If it still drops, reply with the time it happened.\n\n{{ agent.first_name }}",
    ),
    (
        "alice",
        None,
        "Need more details",
        "Hi {{ requester.first_name }}, could you send a screenshot of the error and tell "
        "us when it started? — {{ agent.first_name }}",
    ),
]


def seed(*, people: dict[str, Any], services: dict[str, Any], teams: dict[str, Any]) -> None:
    """Create the demo canned replies and saved queue views that are missing."""
    _saved_views(people, teams)
    for username, team_name, title, body in REPLIES:
        owner = people.get(username)
        if owner is None or CannedReply.objects.filter(owner=owner, title=title).exists():
            continue
        CannedReply.objects.create(
            owner=owner,
            title=title,
            body=body,
            team=teams.get(team_name) if team_name not in (None, "*") else None,
            shared_all=team_name == "*",
        )


def _saved_views(people: dict[str, Any], teams: dict[str, Any]) -> None:
    """A personal view and a team-shared one, so the queue's Views menu is not empty."""
    network = teams.get("Network")
    views = [
        ("alice", None, "My urgent work", "queue=mine&priority=1&priority=2"),
        (
            "alice",
            network,
            "Network: unassigned",
            f"queue=unassigned&team={getattr(network, 'pk', '')}",
        ),
        ("maria", None, "Breaching, P1–P2", "queue=breaching&priority=1&priority=2"),
    ]
    for username, team, name, query in views:
        owner = people.get(username)
        if owner is None:
            continue
        SavedView.objects.get_or_create(
            owner=owner, name=name, defaults={"team": team, "query": query}
        )
