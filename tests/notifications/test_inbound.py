"""Inbound: real SMTP to our receiver on loopback; replies land on the right ticket."""

import smtplib
from email.message import EmailMessage

import pytest

from accounts.models import Organization, User
from incidents.choices import Channel
from incidents.models import Incident
from incidents.services import incident_comment
from tests.notifications.conftest import dispatch_all, send_all
from tickets.choices import EventType, InboundStatus
from tickets.models import InboundMessage, Notification, TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)


def send(port: int, message: EmailMessage, *, mail_from: str | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        sender = message["From"] if mail_from is None else mail_from
        client.send_message(message, from_addr=sender, to_addrs=["support@desk.test"])


def email(*, sender: str, subject: str, body: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@desk.test"
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def comments(ticket) -> list[str]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, type=EventType.COMMENT).values_list(
            "body", flat=True
        )
    )


def test_reply_to_a_notification_lands_as_a_comment_on_the_right_ticket(
    inbound, smtp, raise_incident, requester, agent
):
    # given: two tickets; the agent answers the second, and the e-mail goes out over SMTP
    raise_incident("Printer jams")
    incident = raise_incident("VPN is down")
    incident_comment(incident=incident, by=agent, body="Did restarting help?")
    dispatch_all()
    Notification.objects.exclude(event="reply").update(email_status="none")
    send_all()
    (sent,) = smtp.messages
    # when: the requester answers above the marker, with the quoted thread below
    quoted = "\n".join(
        f"> {line}" for line in sent.get_payload()[0].get_payload(decode=True).decode().splitlines()
    )
    reply = email(
        sender=requester.email,
        subject=f"Re: {sent['Subject']}",
        body="Yes, it works now. Thanks!\n\n"
        f"On Tue, 4 Mar 2025 at 10:00, Service Desk wrote:\n{quoted}\n",
        In_Reply_To=sent["Message-ID"],
        References=f"{sent['References']} {sent['Message-ID']}",
        Message_ID="<reply-1@mail.example.com>",
    )
    send(inbound, reply)
    # then: a public comment by the requester, quotes stripped, on that ticket only
    event = TicketEvent.objects.filter(ticket=incident.ticket, type=EventType.COMMENT).last()
    assert event.body == "Yes, it works now. Thanks!"
    assert event.public
    assert event.actor == requester
    log = InboundMessage.objects.get(message_id="<reply-1@mail.example.com>")
    assert (log.status, log.ticket_id) == (InboundStatus.COMMENT, incident.pk)
    assert TicketEvent.objects.filter(type=EventType.COMMENT).count() == 2  # the agent's + this


def test_reply_from_someone_who_may_not_see_the_ticket_is_refused(
    inbound, raise_incident, other_requester
):
    incident = raise_incident()
    number = incident.ticket.number
    reply = email(
        sender=other_requester.email,
        subject=f"Re: [{number}] Hi",
        body="Let me in",
        In_Reply_To=f"<{number}@desk.test>",
    )
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(inbound, reply)
    assert refused.value.smtp_code == 550
    assert number in refused.value.smtp_error.decode()
    assert comments(incident.ticket) == []
    assert InboundMessage.objects.get().status == InboundStatus.REJECTED


def test_subject_number_finds_the_ticket_when_headers_are_lost(inbound, raise_incident, requester):
    incident = raise_incident()
    number = incident.ticket.number
    send(inbound, email(sender=requester.email, subject=f"RE: [{number}] VPN", body="Still broken"))
    assert comments(incident.ticket) == ["Still broken"]


def test_outlook_style_reply_is_stripped(inbound, raise_incident, requester):
    incident = raise_incident()
    number = incident.ticket.number
    body = (
        "It works again.\n\nRegards\nRita\n\n"
        "From: Service Desk <servicedesk@localhost>\nSent: Tuesday, 4 March 2025 10:00\n"
        f"To: Rita\nSubject: [{number}] VPN\n\n"
        "##- Please type your reply above this line -##\nOld text"
    )
    send(inbound, email(sender=requester.email, subject=f"RE: [{number}] VPN", body=body))
    assert comments(incident.ticket) == ["It works again.\n\nRegards\nRita"]


@pytest.mark.parametrize(
    ("headers", "mail_from"),
    [
        ({"Auto_Submitted": "auto-replied"}, None),
        ({"Precedence": "bulk"}, None),
        ({"X_Autoreply": "yes"}, None),
        ({"List_Id": "<news.example.com>"}, None),
        ({}, ""),  # a bounce: empty envelope sender
    ],
)
def test_auto_replies_bulk_and_bounces_are_ignored(
    inbound, raise_incident, requester, headers, mail_from
):
    incident = raise_incident()
    number = incident.ticket.number
    message = email(
        sender=requester.email,
        subject=f"Out of office: [{number}]",
        body="I am away until Monday.",
        **headers,
    )
    send(inbound, message, mail_from=mail_from)  # accepted (never bounced back: no loops)…
    assert comments(incident.ticket) == []  # …and dropped
    assert InboundMessage.objects.get().status == InboundStatus.IGNORED


def test_new_email_from_known_user_raises_an_incident_with_attachments(inbound, requester):
    # given
    message = email(
        sender=f"Rita <{requester.email}>", subject="Fwd: Monitor flickers", body="Since today."
    )
    message.add_attachment(b"log line", maintype="text", subtype="plain", filename="screen.log")
    message.add_attachment(
        b"MZ...", maintype="application", subtype="octet-stream", filename="tool.exe"
    )
    # when
    send(inbound, message)
    # then
    incident = Incident.objects.select_related("ticket").get()
    assert incident.channel == Channel.EMAIL
    assert incident.ticket.title == "Monitor flickers"
    assert incident.ticket.requester == requester
    assert incident.ticket.description.startswith("Since today.")
    assert "tool.exe" in incident.ticket.description  # refused, and said so
    assert [a.name for a in incident.ticket.attachments.all()] == ["screen.log"]
    assert InboundMessage.objects.get().status == InboundStatus.CREATED


def test_reply_to_the_ticket_raised_by_email_threads_by_its_message_id(inbound, requester):
    send(
        inbound,
        email(sender=requester.email, subject="Mouse", body="Broken", Message_ID="<m1@x.test>"),
    )
    send(
        inbound,
        email(
            sender=requester.email,
            subject="Re: Mouse",
            body="Also the cable",
            In_Reply_To="<m1@x.test>",
        ),
    )
    incident = Incident.objects.get()
    assert comments(incident.ticket) == ["Also the cable"]


def test_unknown_sender_from_an_organisation_domain_becomes_a_requester(inbound):
    Organization.objects.create(name="Globex", email_domain="globex.test")
    send(
        inbound, email(sender="Hank Scorpio <hank@globex.test>", subject="Phone dead", body="Help")
    )
    user = User.objects.get(email="hank@globex.test")
    assert not user.has_usable_password()
    assert user.organization.name == "Globex"
    assert user.display_name == "Hank Scorpio"
    assert Incident.objects.get().ticket.requester == user


def test_unknown_sender_elsewhere_is_rejected_politely(inbound):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(inbound, email(sender="spam@nowhere.test", subject="Buy", body="Now"))
    assert refused.value.smtp_code == 550
    assert "Sorry" in refused.value.smtp_error.decode()
    assert not Incident.objects.exists()
    assert not User.objects.filter(email="spam@nowhere.test").exists()


def test_the_same_message_is_processed_once(inbound, requester):
    message = email(
        sender=requester.email, subject="Keyboard", body="Sticky", Message_ID="<dup@x.test>"
    )
    send(inbound, message)
    send(inbound, message)
    assert Incident.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_mail_for_other_domains_is_not_relayed(inbound, requester):
    with (
        smtplib.SMTP("127.0.0.1", inbound, timeout=10) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        client.sendmail(requester.email, ["someone@elsewhere.test"], b"Subject: x\r\n\r\nx")


def test_ticket_raised_by_email_threads_its_acknowledgement_and_the_reply_to_it(
    inbound, smtp, requester
):
    # given: Rita e-mails a new problem and gets the acknowledgement over SMTP
    send(
        inbound,
        email(sender=requester.email, subject="Dock", body="No video", Message_ID="<o@x.test>"),
    )
    incident = Incident.objects.select_related("ticket").get()
    dispatch_all()
    send_all()
    (ack,) = [m for m in smtp.messages if m["To"] == requester.email]
    number = incident.ticket.number
    assert ack["Subject"].startswith(f"[{number}] We received your incident")
    assert ack["References"] == f"<o@x.test> <{number}@desk.test>"
    # when: she answers the acknowledgement
    send(
        inbound,
        email(
            sender=requester.email,
            subject=f"Re: {ack['Subject']}",
            body="Model D6000\n\n> We received your incident",
            In_Reply_To=ack["Message-ID"],
            References=f"{ack['References']} {ack['Message-ID']}",
        ),
    )
    # then
    assert comments(incident.ticket) == ["Model D6000"]
