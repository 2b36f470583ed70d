"""Run the inbound SMTP receiver: mail to the service desk becomes replies and tickets."""

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from tickets.inbound import inbound_controller


class Command(BaseCommand):
    help = (
        "Receive e-mail over SMTP (aiosmtpd) on INBOUND_SMTP_HOST:INBOUND_SMTP_PORT and turn "
        "it into ticket replies and new incidents. Put it behind your MX or forward the "
        "service desk mailbox to it."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=settings.INBOUND_SMTP_HOST)
        parser.add_argument("--port", type=int, default=settings.INBOUND_SMTP_PORT)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        controller = inbound_controller(host=host, port=port)
        controller.start()
        domains = ", ".join(settings.INBOUND_DOMAINS) or "any domain"
        self.stdout.write(f"Receiving e-mail on {host}:{port} for {domains}. Ctrl-C stops.")
        try:
            stop.wait()
        finally:
            controller.stop()
            self.stdout.write("Stopped.")
