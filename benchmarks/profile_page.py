"""Where a hot path spends its time: pyinstrument over N requests of one page, in process
(Django's test client, logged in as one of run.py's bench users) against a seeded database.
For the paths that miss a target in run.py's figures (issue #12).

    python benchmarks/profile_page.py --role agent --url "/desk/?assignee=me"
    python benchmarks/profile_page.py --role manager --create-incident    # POST /api/v1/incidents/

Prints pyinstrument's text tree and writes it to benchmarks/results/profiles/. Figures for
comparison only (the profiler slows every call); the latencies are run.py's."""

import argparse
import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["agent", "manager", "requester"], default="agent")
    parser.add_argument("--url", default="/desk/")
    parser.add_argument("--create-incident", action="store_true")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    from run import bench_users, django_setup

    django_setup()
    from django.conf import settings
    from django.test import Client
    from pyinstrument import Profiler

    from accounts.models import User
    from tickets.models import Ticket

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    users = bench_users()
    client = Client()
    client.force_login(User.objects.get(username=users[args.role]))
    counter = iter(range(10**9))

    def one() -> None:
        if args.create_incident:
            body = {"title": f"profile {next(counter)}", "impact": "low", "urgency": "low"}
            response = client.post(
                "/api/v1/incidents/", json.dumps(body), content_type="application/json"
            )
        else:
            response = client.get(args.url)
        assert response.status_code < 400, response.status_code

    for _ in range(3):  # warm-up: connections, templates, caches
        one()
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.requests):
        one()
    profiler.stop()
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    print(text)
    name = "-api-create-incident" if args.create_incident else re.sub(r"\W+", "-", args.url)
    tickets = Ticket.objects.count()
    out = ROOT / "benchmarks" / "results" / "profiles"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{datetime.now(UTC):%Y-%m-%d}-{tickets}-{args.role}{name.rstrip('-')}.txt"
    path.write_text(f"{args.requests} requests, {args.role}\n\n{text}")
    print(f"written {path.relative_to(ROOT)}")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    main()
