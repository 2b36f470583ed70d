"""Quoted-text stripping and HTML-to-text for e-mailed replies (pure functions)."""

from tickets.inbound import html_to_text, strip_quoted
from tickets.mail import REPLY_MARKER


def test_gmail_reply_keeps_only_the_new_text():
    text = "Works now.\n\nOn Tue, Mar 4, 2025 at 10:00 AM Service Desk <s@x> wrote:\n> old\n> older"
    assert strip_quoted(text) == "Works now."


def test_quote_header_split_over_two_lines():
    text = "Fine.\n\nOn Tue, Mar 4, 2025 at 10:00 AM Service Desk\n<s@x> wrote:\n> old"
    assert strip_quoted(text) == "Fine."


def test_text_below_the_reply_marker_is_cut():
    assert strip_quoted(f"Thanks!\n\n{REPLY_MARKER}\nYour ticket was updated") == "Thanks!"


def test_interleaved_quotes_and_signature_are_dropped():
    text = "> Did it help?\nYes.\n> Anything else?\nNo.\n-- \nRita\nAcme Corp"
    assert strip_quoted(text) == "Yes.\nNo."


def test_original_message_separator_cuts():
    assert strip_quoted("Ok\n-----Original Message-----\nFrom: x") == "Ok"


def test_german_quote_header_cuts():
    assert strip_quoted("Danke\n\nAm 04.03.2025 um 10:00 schrieb Service Desk:\n> alt") == "Danke"


def test_html_reply_drops_blockquotes_and_gmail_quote():
    html = (
        "<html><head><style>p{}</style></head><body><div>New <b>text</b></div>"
        "<div>second&nbsp;line</div><div class='gmail_quote'>On … wrote:"
        "<blockquote>old</blockquote></div></body></html>"
    )
    assert html_to_text(html) == "New text\n\nsecond line"
