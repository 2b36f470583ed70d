from celery import shared_task


@shared_task(acks_late=True)
def ping_task(payload: str = "ping") -> str:
    """Round-trip probe: proves a worker consumes from the broker and returns a result."""
    return f"pong:{payload}"
