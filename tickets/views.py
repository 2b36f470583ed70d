"""Attachment download: the only way to read an uploaded file, always through visible_to."""

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404

from .models import Attachment, Ticket


def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    attachment = get_object_or_404(
        Attachment.objects.filter(ticket__in=Ticket.objects.visible_to(request.user)), pk=pk
    )
    if not attachment.public and not getattr(request.user, "is_agent", False):
        raise Http404  # an internal note's file is as hidden as the note
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name
    )
    response["Content-Type"] = "application/octet-stream"  # never rendered inline
    response["X-Content-Type-Options"] = "nosniff"
    return response
