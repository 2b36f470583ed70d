"""The one safe Markdown renderer: Markdown → HTML → cleaned by nh3 (an allow-list sanitiser),
so no script tag, event handler or javascript: link ever gets through. Catalogue descriptions
and ticket replies and notes both use it."""

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

#: Tags the output may keep after cleaning (nh3's defaults minus images and tables' extras).
ALLOWED_TAGS = {
    "a", "p", "br", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h3", "h4", "h5", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def render_markdown(text: str, *, hard_breaks: bool = False) -> SafeString:
    """Markdown → HTML → sanitised HTML. Links get rel="noopener noreferrer".

    `hard_breaks` keeps single newlines as line breaks: replies and notes (often pasted from
    e-mail) read as typed, where catalogue descriptions follow plain Markdown."""
    extensions = ["extra", "sane_lists"]
    if hard_breaks:
        extensions.append("nl2br")
    html = markdown_lib.markdown(text or "", extensions=extensions)
    clean = nh3.clean(html, tags=ALLOWED_TAGS, link_rel="noopener noreferrer")
    return mark_safe(clean)  # sanitised by nh3 just above
