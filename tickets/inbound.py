"""Inbound e-mail: an SMTP receiver that turns mail into replies and tickets.

- A reply to one of our e-mails (its In-Reply-To/References name one of our Message-IDs or a
  message we received earlier, or its subject carries `[INC0001234]`) becomes a public comment
  on that ticket, with the quoted text cut, if the sender may see the ticket; else it is
  refused.
- Any other e-mail from a known user raises an incident (channel e-mail) through the service
  named by settings.INBOUND_CREATE_SERVICE (the tickets layer does not import incidents).
- An unknown sender becomes a requester (unusable password) when their domain belongs to an
  organisation; otherwise the message is refused politely at SMTP time (no backscatter).
- Attachments follow the upload rules (size, type); refused files are named in the comment.
- Auto-replies, bulk and list mail, bounces, our own messages and floods from one address
  are accepted and dropped (never answered: no mail loops). A Message-ID is processed once.
Every message is logged as an InboundMessage (admin)."""

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import Organization
from accounts.roles import Role
from core.exceptions import DomainError

from .choices import NUMBER_PREFIX, InboundStatus
from .mail import ticket_number_from_message_id
from .models import InboundMessage, Ticket
from .services import attachment_check, ticket_reply

logger = logging.getLogger(__name__)

SUBJECT_NUMBER = re.compile(
    r"\[(" + "|".join(sorted(set(NUMBER_PREFIX.values()), key=len, reverse=True)) + r")(\d{4,})\]",
    re.IGNORECASE,
)
SUBJECT_PREFIXES = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs|tr)\s*(\[\d+\])?\s*:\s*)+", re.I)
AUTOMATIC_SENDERS = frozenset(
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"}
)

REJECT_UNKNOWN = (
    "550 5.7.1 Sorry, this service desk accepts e-mail only from people it knows. "
    "Please sign in to the portal, or ask your IT department to add your organisation."
)
REJECT_NOT_YOURS = (
    "550 5.7.1 Sorry, your address may not add to {number}. "
    "Reply from the address the ticket was sent to, or raise a new ticket in the portal."
)
TEMPORARY_FAILURE = "451 4.3.0 We could not process your message just now; please try again."


@dataclass
class InboundResult:
    """What became of one message, and the SMTP reply that tells the sender."""

    status: str
    reason: str = ""
    ticket: Ticket | None = None
    smtp_reply: str = "250 2.0.0 OK"


# ------------------------------------------------------------------ text extraction
class _HtmlText(HTMLParser):
    """HTML → text, dropping quoted parts (blockquote, Gmail/Outlook quote containers)."""

    SKIP = frozenset({"style", "script", "head", "title", "blockquote"})
    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "table"})
    QUOTE_MARKERS = ("gmail_quote", "divrplyfwdmsg", "appendonsend", "moz-cite-prefix")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.stopped = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        marks = " ".join(f"{v or ''}".lower() for k, v in attrs if k in ("class", "id"))
        if any(m in marks for m in self.QUOTE_MARKERS):
            self.stopped = True  # everything after the quote header is the quoted thread
            return
        if tag in self.SKIP:
            self.skip_depth += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skip_depth:
            self.skip_depth -= 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.stopped and not self.skip_depth:
            self.parts.append(data)

    def text(self) -> str:
        text = "".join(self.parts).replace("\xa0", " ")
        return re.sub(r"\n\s*\n\s*\n+", "\n\n", text).strip()


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return parser.text()


_QUOTE_HEADER = re.compile(
    r"^(On\b.*\bwrote:|Am\b.*\bschrieb\b.*:|Le\b.*\ba écrit\s*:|El\b.*\bescribió:)$", re.I
)
_QUOTE_HEADER_START = re.compile(r"^(On|Am|Le|El)\s.+", re.I)
_QUOTE_HEADER_END = re.compile(r"(wrote|schrieb|a écrit|escribió)\s*:$", re.I)
_ORIGINAL = re.compile(r"^-{2,}\s*(Original Message|Forwarded message|Ursprüngliche)", re.I)


def strip_quoted(text: str) -> str:
    """The new part of a reply: cut at our marker, at "On … wrote:", at Outlook's header
    block or separator, at the signature; drop ">"-quoted lines."""
    from .mail import REPLY_MARKER

    marker = REPLY_MARKER.strip("#- ").lower()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        s = line.strip()
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if marker in s.lower() or "reply above this line" in s.lower():
            break
        if _QUOTE_HEADER.match(s) or (
            _QUOTE_HEADER_START.match(s) and _QUOTE_HEADER_END.search(nxt)
        ):
            break
        if _ORIGINAL.match(s) or re.fullmatch(r"_{8,}", s):
            break
        if re.match(r"^From:\s", s) and any(
            re.match(r"^(Sent|Date|To|Subject):\s", x.strip()) for x in lines[i + 1 : i + 4]
        ):
            break
        if line in ("-- ", "--"):
            break
        if s.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def message_text(msg: EmailMessage) -> str:
    """The message's text: the plain part, else the HTML part as text."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        return html_to_text(content)
    return content


# ------------------------------------------------------------------ classification
def _our_addresses() -> set[str]:
    return {
        parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower(),
        parseaddr(settings.NOTIFY_REPLY_ADDRESS)[1].lower(),
    } - {""}


def automatic_reason(msg: EmailMessage, mail_from: str, from_address: str) -> str:
    """Why a message is automatic and must not be answered or turned into a ticket ("" if it
    is from a person): RFC 3834 Auto-Submitted, Precedence bulk/junk/list, auto-responder
    headers, list mail, delivery reports, bounce senders, and our own mail coming back."""
    if mail_from.strip() in ("", "<>"):
        return "bounce (empty envelope sender)"
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autogenerated"):
        if msg.get(header):
            return f"{header} header"
    if msg.get("List-Id") or msg.get("List-Unsubscribe"):
        return "mailing-list message"
    if msg.get_content_type() == "multipart/report":
        return "delivery report"
    return _sender_reason(msg, from_address)


def _sender_reason(msg: EmailMessage, from_address: str) -> str:
    if from_address.partition("@")[0] in AUTOMATIC_SENDERS:
        return f"automatic sender {from_address}"
    if from_address in _our_addresses():
        return "our own message came back (loop)"
    if ticket_number_from_message_id(str(msg.get("Message-ID", ""))):
        return "our own message came back (loop)"
    return ""


def _referenced_ids(msg: EmailMessage) -> list[str]:
    ids: list[str] = []
    for header in ("In-Reply-To", "References"):
        ids += re.findall(r"<[^<>\s]+>", str(msg.get(header, "")))
    return ids


def ticket_for(msg: EmailMessage, subject: str) -> Ticket | None:
    """The ticket a message answers: by our Message-IDs in In-Reply-To/References, by an
    earlier received message it references, else by the [NUMBER] in the subject."""
    ids = _referenced_ids(msg)
    numbers = [n for n in (ticket_number_from_message_id(i) for i in ids) if n]
    for number in numbers:
        ticket = Ticket.objects.filter(number=number).first()
        if ticket is not None:
            return ticket
    if ids:
        earlier = (
            InboundMessage.objects.filter(message_id__in=ids, ticket__isnull=False)
            .select_related("ticket")
            .first()
        )
        if earlier is not None:
            return earlier.ticket
    match = SUBJECT_NUMBER.search(subject)
    if match:
        return Ticket.objects.filter(number=f"{match[1].upper()}{match[2]}").first()
    return None


def _attachments(msg: EmailMessage) -> tuple[list[SimpleUploadedFile], list[str]]:
    """Files in the message that pass the upload rules, and notes on the ones refused."""
    kept: list[SimpleUploadedFile] = []
    refused: list[str] = []
    for part in msg.iter_attachments():
        name = part.get_filename() or ""
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        upload = SimpleUploadedFile(name, payload, content_type=part.get_content_type())
        try:
            attachment_check(upload=upload)
        except DomainError as exc:
            refused.append(exc.message)
            continue
        kept.append(upload)
    return kept, refused


def _create_requester(address: str, name: str, org: Organization) -> Any:
    """An e-mail-only requester: unusable password until they reset it and sign in."""
    user_model = get_user_model()
    base = re.sub(r"[^\w.@+-]", "", address.partition("@")[0])[:140] or "requester"
    username, n = base, 1
    while user_model.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}{n}"
    user = user_model(username=username, email=address, display_name=name[:150], organization=org)
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get_or_create(name=Role.REQUESTER.value)[0])
    return user


# ------------------------------------------------------------------ receive
def inbound_receive(
    *, raw: bytes, mail_from: str = "", rcpt_tos: Sequence[str] = ()
) -> InboundResult:
    """Process one received message (raw RFC 5322 bytes) and log it as an InboundMessage.

    Returns the outcome and the SMTP reply. Unexpected errors keep the raw message on the
    log row and answer 451 so the sending server retries later (a Message-ID is processed
    once, so a retry after a commit adds nothing)."""
    msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[assignment]
    name, from_address = parseaddr(str(msg.get("From", "")))
    from_address = from_address.strip().lower()[:250]
    log = InboundMessage(
        message_id=str(msg.get("Message-ID", "")).strip()[:250],
        mail_from=mail_from[:250],
        from_address=from_address,
        subject=str(msg.get("Subject", "")).strip()[:250],
        size=len(raw),
    )
    done = InboundMessage.objects.filter(message_id=log.message_id).exclude(
        status=InboundStatus.FAILED
    )
    if log.message_id and done.exists():
        return InboundResult(InboundStatus.IGNORED, "duplicate Message-ID (already processed)")
    reason = automatic_reason(msg, mail_from, from_address)
    if not reason:
        reason = _flood_reason(from_address)
    if reason:
        return _log(log, InboundResult(InboundStatus.IGNORED, reason))
    try:
        with transaction.atomic():
            result = _process(msg, log, name)
            return _log(log, result, strict=True)
    except DomainError as exc:
        # The ticket service refused it (a business rule): tell the sender, do not retry.
        return _log(
            log,
            InboundResult(
                InboundStatus.REJECTED,
                exc.message,
                smtp_reply=f"550 5.7.1 Sorry, we could not raise a ticket: {exc.message}",
            ),
        )
    except IntegrityError:
        # The same Message-ID committed by a concurrent delivery.
        if done.exists():
            return InboundResult(InboundStatus.IGNORED, "duplicate Message-ID (already processed)")
        raise
    except Exception as exc:
        logger.exception("Inbound e-mail from %s failed", from_address)
        # A fresh row: the one being built may point at rows the rollback removed.
        failed = InboundMessage(
            message_id=log.message_id,
            mail_from=log.mail_from,
            from_address=log.from_address,
            subject=log.subject,
            size=log.size,
            raw=raw,
        )
        _log(failed, InboundResult(InboundStatus.FAILED, f"{type(exc).__name__}: {exc}"))
        return InboundResult(InboundStatus.FAILED, str(exc), smtp_reply=TEMPORARY_FAILURE)


def _log(log: InboundMessage, result: InboundResult, *, strict: bool = False) -> InboundResult:
    """Save the log row. `strict` (inside the processing transaction) lets a duplicate
    Message-ID roll everything back; otherwise the row is kept without its Message-ID."""
    log.status = result.status
    log.reason = result.reason[:2000]
    log.ticket = result.ticket
    if strict:
        log.save()
        return result
    try:
        with transaction.atomic():
            log.save()
    except IntegrityError:
        log.message_id = ""
        log.save()
    return result


def _flood_reason(address: str) -> str:
    since = timezone.now() - timedelta(hours=1)
    count = InboundMessage.objects.filter(from_address=address, received_at__gte=since).count()
    if count >= settings.INBOUND_MAX_PER_SENDER_PER_HOUR:
        return f"more than {settings.INBOUND_MAX_PER_SENDER_PER_HOUR} messages in an hour (loop)"
    return ""


def _process(msg: EmailMessage, log: InboundMessage, name: str) -> InboundResult:
    user_model = get_user_model()
    sender = user_model.objects.filter(email__iexact=log.from_address, is_active=True).first()
    log.sender = sender
    ticket = ticket_for(msg, log.subject)
    if ticket is not None:
        return _reply(msg, log, sender, ticket)
    if sender is None:
        domain = log.from_address.rpartition("@")[2]
        org = Organization.objects.filter(email_domain__iexact=domain).first() if domain else None
        if org is None or user_model.objects.filter(email__iexact=log.from_address).exists():
            return InboundResult(
                InboundStatus.REJECTED, "unknown sender", smtp_reply=REJECT_UNKNOWN
            )
        sender = _create_requester(log.from_address, name, org)
        log.sender = sender
    return _create(msg, log, sender)


def _reply(msg: EmailMessage, log: InboundMessage, sender: Any, ticket: Ticket) -> InboundResult:
    if sender is None:
        return InboundResult(
            InboundStatus.REJECTED,
            f"unknown sender replied to {ticket.number}",
            smtp_reply=REJECT_UNKNOWN,
        )
    if not Ticket.objects.visible_to(sender).filter(pk=ticket.pk).exists():
        return InboundResult(
            InboundStatus.REJECTED,
            f"{log.from_address} may not see {ticket.number}",
            smtp_reply=REJECT_NOT_YOURS.format(number=ticket.number),
        )
    body = strip_quoted(message_text(msg))
    uploads, refused = _attachments(msg)
    if refused:
        body = (body + "\n\n" + "\n".join(f"[Not attached: {r}]" for r in refused)).strip()
    if not body and not uploads:
        return InboundResult(InboundStatus.IGNORED, "empty reply", ticket=ticket)
    log.event = ticket_reply(ticket=ticket, by=sender, body=body, public=True, uploads=uploads)
    # Keep the kind's SLA clocks in line (an agent's first public reply stops the response
    # clock), through the wired service: this layer cannot import slas.
    ticket.refresh_from_db()
    import_string(settings.INBOUND_AFTER_REPLY)(ticket=ticket, status=str(ticket.detail.status))
    return InboundResult(InboundStatus.COMMENT, f"reply added to {ticket.number}", ticket=ticket)


def _create(msg: EmailMessage, log: InboundMessage, sender: Any) -> InboundResult:
    title = SUBJECT_PREFIXES.sub("", log.subject).strip() or "(no subject)"
    body = message_text(msg).strip()
    uploads, refused = _attachments(msg)
    if refused:
        body = (body + "\n\n" + "\n".join(f"[Not attached: {r}]" for r in refused)).strip()
    create = import_string(settings.INBOUND_CREATE_SERVICE)
    detail = create(
        requester=sender,
        by=sender,
        title=title[:200],
        description=body,
        channel="email",
        uploads=uploads,
    )
    ticket = detail.ticket
    return InboundResult(InboundStatus.CREATED, f"raised {ticket.number}", ticket=ticket)


# ------------------------------------------------------------------ SMTP server
def _receive_in_thread(raw: bytes, mail_from: str, rcpt_tos: list[str]) -> InboundResult:
    try:
        return inbound_receive(raw=raw, mail_from=mail_from, rcpt_tos=rcpt_tos)
    except Exception:
        logger.exception("Inbound e-mail could not be logged")
        return InboundResult(InboundStatus.FAILED, smtp_reply=TEMPORARY_FAILURE)
    finally:
        connection.close()  # executor threads must not keep database connections open


class InboundHandler:
    """aiosmtpd handler: accepts mail for our domains only (no open relay) and processes each
    message in a worker thread (the ORM is synchronous)."""

    def __init__(self, *, domains: Sequence[str] | None = None) -> None:
        self.domains = {d.lower() for d in (domains or settings.INBOUND_DOMAINS)}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.domains and address.rpartition("@")[2].lower() not in self.domains:
            return "550 5.7.1 Relaying denied"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="replace")
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(
            None, _receive_in_thread, raw, envelope.mail_from or "", list(envelope.rcpt_tos)
        )
        return result.smtp_reply


def inbound_controller(*, host: str | None = None, port: int | None = None) -> Any:
    """An aiosmtpd controller (not started) on INBOUND_SMTP_HOST:INBOUND_SMTP_PORT."""
    from aiosmtpd.controller import Controller

    return Controller(
        InboundHandler(),
        hostname=host or settings.INBOUND_SMTP_HOST,
        port=port or settings.INBOUND_SMTP_PORT,
        data_size_limit=settings.INBOUND_MAX_BYTES,
    )
