"""Markdown in replies and notes: one safe renderer (core.markdown) for the timeline in the
desk and the portal and for the reply editor's preview. Nothing executable gets through."""

import pytest

from core.markdown import render_markdown
from incidents.services import incident_comment, incident_create

pytestmark = pytest.mark.django_db

ATTACKS = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="#" onclick="alert(1)">hi</a>',
    "<iframe src=//evil.example></iframe>",
    '<svg onload="alert(1)"></svg>',
    "<scr<script>ipt>alert(1)</script>",
]

FORBIDDEN = ("<script", "onerror", "onclick", "onload", "javascript:", "<iframe", "<svg", "<img")


def assert_inert(html: str) -> None:
    lowered = html.lower()
    for needle in FORBIDDEN:
        assert needle not in lowered, (needle, html)


@pytest.mark.parametrize("attack", ATTACKS)
def test_renderer_never_lets_script_or_handlers_through(attack):
    assert_inert(render_markdown(attack, hard_breaks=True))


def test_renderer_keeps_markdown_and_line_breaks():
    html = render_markdown("**Bold** and `code`\nnext line\n\n- one\n- two", hard_breaks=True)
    assert "<strong>Bold</strong>" in html
    assert "<code>code</code>" in html
    assert "<br" in html
    assert "<li>one</li>" in html


def test_catalogue_keeps_importing_the_renderer():
    from catalogue.templatetags.catalogue_ui import render_markdown as catalogue_render

    assert catalogue_render is render_markdown
    assert "<br" not in catalogue_render("a\nb")  # catalogue text stays plain Markdown


@pytest.fixture
def incident(requester, agent, network_team):
    return incident_create(
        requester=requester, by=requester, title="VPN", team=network_team, assignee=agent
    )


def test_timeline_renders_replies_as_safe_markdown_in_desk_and_portal(
    client, agent, requester, incident
):
    # given
    body = "Try **this**:\n\n1. restart\n\n" + "\n".join(ATTACKS)
    incident_comment(incident=incident, by=agent, body=body)
    for viewer, url in (
        (agent, f"/desk/incidents/{incident.pk}/"),
        (requester, incident.ticket.portal_url),
    ):
        client.force_login(viewer)
        # when
        html = client.get(url).content.decode()
        # then
        timeline = html[
            html.index('id="timeline"') : html.index("</ol>", html.index('id="timeline"'))
        ]
        assert "<strong>this</strong>" in timeline
        assert "<li>restart</li>" in timeline
        assert_inert(timeline)


def test_preview_renders_with_the_same_safe_renderer(client, agent, incident):
    client.force_login(agent)
    response = client.post(
        f"/desk/tickets/{incident.pk}/preview/", {"body": "*hi*\n" + "\n".join(ATTACKS)}
    )
    html = response.content.decode()
    assert "<em>hi</em>" in html
    assert_inert(html)
    empty = client.post(f"/desk/tickets/{incident.pk}/preview/", {"body": "  "})
    assert "Nothing to preview yet." in empty.content.decode()
