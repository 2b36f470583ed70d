"""Demo catalogue for `seed_demo`: 23 items in five categories (hardware, software, access,
onboarding, facilities) with real forms, approval policies and fulfilment tasks; request SLA
policies; a few requests at different stages. Idempotent: a second run adds nothing.

Maria is made Rita's (and Oscar's) manager, so a laptop ordered by Rita waits for Maria."""

from datetime import timedelta
from typing import Any

from django.db import transaction

from accounts.models import Team, User
from catalogue.choices import Approver, Operator, TeamRule, VariableType
from catalogue.models import (
    ApprovalStage,
    CatalogueItem,
    Category,
    FormVariable,
    Service,
    TaskTemplate,
)
from slas.models import BusinessCalendar, SlaPolicy

from .models import FulfilmentTask, ServiceRequest
from .services import approval_decide, service_request_submit, task_transition

T, Op = VariableType, Operator
MANAGER = {"approver": Approver.MANAGER}
OWNER = {"approver": Approver.SERVICE_OWNER}


def q(name: str, label: str, type: str = T.TEXT, **kw: Any) -> dict[str, Any]:
    """A question; `choices` as "value|Label" strings, `show` as (variable, operator, value)."""
    show = kw.pop("show", None)
    choices = kw.pop("choices", ())
    data = {"name": name, "label": label, "type": type, **kw}
    data["choices"] = [{"value": c.split("|")[0], "label": c.split("|")[-1]} for c in choices]
    if show:
        data["show_if_variable"], data["show_if_operator"], data["show_if_value"] = show
    return data


def team_stage(team: str, rule: str = TeamRule.ANY) -> dict[str, Any]:
    return {"approver": Approver.TEAM, "team": team, "team_rule": rule}


def task(title: str, team: str, waits: bool = True, order: int | None = None, **kw: Any) -> dict:
    return {"title": title, "team": team, "waits_for_previous": waits, "order": order, **kw}


JUSTIFICATION = q(
    "justification", "Why do you need it?", T.MULTILINE, required=True,
    help_text="Your manager reads this before approving.",
)  # fmt: skip

CATEGORIES = [
    # slug, name, icon, parent slug, description
    ("hardware", "Hardware", "💻", None, "Laptops, phones, monitors and accessories."),
    ("accessories", "Accessories", "🖱️", "hardware", "Headsets, keyboards, screens."),
    ("software", "Software", "🧩", None, "Licences and tools for your computer."),
    ("access", "Access", "🔑", None, "Access to systems, data and shared folders."),
    ("onboarding", "Onboarding and leavers", "👋", None, "New starters, leavers, contractors."),
    ("facilities", "Facilities", "🏢", None, "Desks, chairs, badges and parking."),
]

LAPTOP_FORM = [
    q(
        "model", "Which laptop?", T.CHOICE, required=True, default="standard",
        choices=["standard|Standard (14\", 16 GB)", "developer|Developer (16\", more memory)"],
    ),
    q(
        "ram", "Memory", T.CHOICE, required=True, default="32",
        choices=["32|32 GB", "64|64 GB"], show=("model", Op.EQUALS, "developer"),
    ),
    q("os", "Operating system", T.CHOICE, required=True, default="windows",
      choices=["windows|Windows 11", "macos|macOS", "linux|Ubuntu Linux"]),
    q("docking", "Do you need a docking station?", T.YES_NO, default="no"),
    q(
        "monitors", "How many monitors will you connect?", T.NUMBER, required=True,
        min_value=1, max_value=3, default="1", show=("docking", Op.EQUALS, "yes"),
    ),
    q("replaces", "Does it replace a laptop you have now?", T.YES_NO, default="no"),
    q(
        "old_asset", "Asset tag of the old laptop", required=True,
        help_text="On the sticker under the laptop, e.g. LT-01234.",
        show=("replaces", Op.EQUALS, "yes"),
    ),
    q("needed_by", "Needed by", T.DATE),
    q("notes", "Anything else we should know?", T.MULTILINE),
]  # fmt: skip

ITEMS: list[dict[str, Any]] = [
    # ---------------------------------------------------------------- hardware
    {
        "slug": "laptop", "name": "Laptop", "category": "hardware", "service": "Laptops",
        "team": "Service Desk", "delivery": 24, "price": "1200.00", "featured": True,
        "short": "A company laptop, set up with your accounts and software.",
        "description": "Standard laptops suit office work. **Developer** laptops have more "
        "memory and admin rights for local tools.\n\n- Delivered imaged and encrypted\n"
        "- Your old laptop is collected at hand-over",
        "cost_note": "Charged to your department's cost centre.",
        "form": LAPTOP_FORM, "stages": [MANAGER],
        "tasks": [
            task("Prepare and image the laptop", "Service Desk", waits=False),
            task("Hand over and collect the old device", "Service Desk"),
        ],
    },
    {
        "slug": "mobile-phone", "name": "Mobile phone", "category": "hardware",
        "team": "Service Desk", "delivery": 24, "price": "650.00",
        "short": "A company smartphone with e-mail and a data plan.",
        "form": [
            q("model", "Phone", T.CHOICE, required=True,
              choices=["iphone|iPhone", "android|Android (Samsung)"]),
            q("plan", "Data plan", T.CHOICE, required=True, default="eu",
              choices=["uk|UK only", "eu|UK and EU", "world|Worldwide"]),
            q("keep_number", "Keep your current number?", T.YES_NO, default="no"),
            q("number", "Current number", required=True, show=("keep_number", Op.EQUALS, "yes")),
        ],
        "stages": [MANAGER],
        "tasks": [task("Order and set up the phone", "Service Desk", waits=False)],
    },
    {
        "slug": "monitor", "name": "Monitor", "category": "accessories", "team": "Service Desk",
        "delivery": 16, "max_quantity": 2, "featured": True,
        "short": "An extra screen for your desk.",
        "form": [
            q("size", "Size", T.CHOICE, required=True, default="27",
              choices=["24|24\" full HD", "27|27\" QHD", "34|34\" ultrawide"]),
            q("arm", "Monitor arm?", T.YES_NO, default="no"),
            q("desk", "Desk number", required=True, help_text="E.g. 3.14 (floor.desk)."),
        ],
        "tasks": [task("Deliver and connect the monitor", "Service Desk", waits=False)],
    },
    {
        "slug": "headset", "name": "Headset", "category": "accessories", "team": "Service Desk",
        "delivery": 8, "short": "A headset for calls and meetings.",
        "form": [
            q("kind", "Type", T.CHOICE, required=True,
              choices=["wired|Wired USB", "wireless|Wireless (Bluetooth)"]),
            q("noise", "Noise cancelling?", T.YES_NO, default="yes"),
        ],
        "tasks": [task("Hand out the headset", "Service Desk", waits=False)],
    },
    {
        "slug": "keyboard-mouse", "name": "Keyboard and mouse", "category": "accessories",
        "team": "Service Desk", "delivery": 8,
        "short": "Replacement or ergonomic keyboard and mouse.",
        "form": [
            q("layout", "Keyboard layout", T.CHOICE, required=True, default="uk",
              choices=["uk|UK", "us|US", "de|German"]),
            q("ergonomic", "Ergonomic model?", T.YES_NO, default="no"),
            q("oh_reference", "Occupational health reference", required=True,
              show=("ergonomic", Op.EQUALS, "yes")),
        ],
        "tasks": [task("Hand out keyboard and mouse", "Service Desk", waits=False)],
    },
    # ---------------------------------------------------------------- software
    {
        "slug": "visio", "name": "Microsoft Visio", "category": "software",
        "team": "Applications", "delivery": 8, "price": "15.00",
        "short": "Diagramming software (monthly licence).",
        "cost_note": "Per month, charged to your cost centre.",
        "form": [JUSTIFICATION], "stages": [MANAGER],
        "tasks": [task("Assign the Visio licence", "Applications", waits=False)],
    },
    {
        "slug": "acrobat-pro", "name": "Adobe Acrobat Pro", "category": "software",
        "team": "Applications", "delivery": 8, "price": "20.00",
        "short": "Edit, sign and combine PDF files.",
        "form": [JUSTIFICATION, q("os", "Your computer", T.CHOICE, required=True,
                                  choices=["windows|Windows", "macos|Mac"])],
        "stages": [MANAGER],
        "tasks": [task("Assign the Acrobat licence", "Applications", waits=False)],
    },
    {
        "slug": "developer-tools", "name": "Developer tools", "category": "software",
        "team": "Applications", "delivery": 16,
        "short": "Docker, an IDE and other tools for software development.",
        "form": [
            q("tools", "Which tools?", T.MULTI_CHOICE, required=True,
              choices=["docker|Docker Desktop", "ide|JetBrains IDE", "postman|Postman",
                       "git|Git GUI"]),
            q("ide", "Which IDE?", T.CHOICE, required=True, default="pycharm",
              choices=["pycharm|PyCharm", "intellij|IntelliJ IDEA", "webstorm|WebStorm"],
              show=("tools", Op.CONTAINS, "ide")),
            JUSTIFICATION,
        ],
        "stages": [MANAGER, team_stage("Applications")],
        "tasks": [task("Install and license the tools", "Applications", waits=False)],
    },
    {
        "slug": "other-software", "name": "Software not in the catalogue", "category": "software",
        "team": "Applications", "delivery": 40,
        "short": "Ask for software we do not offer yet; it is reviewed for security and cost.",
        "form": [
            q("product", "Product name", required=True),
            q("vendor", "Vendor"),
            q("url", "Web site"),
            q("cost", "Yearly cost (GBP)", T.NUMBER, min_value=0, max_value=100000),
            q("data", "Will it hold customer data?", T.YES_NO, required=True),
            q("data_kinds", "Which data?", T.MULTILINE, required=True,
              show=("data", Op.EQUALS, "yes")),
            JUSTIFICATION,
        ],
        "stages": [MANAGER, team_stage("Applications", TeamRule.ALL)],
        "tasks": [
            task("Security and licence review", "Applications", waits=False),
            task("Package and install", "Applications"),
        ],
    },
    # ---------------------------------------------------------------- access
    {
        "slug": "vpn-access", "name": "VPN access", "category": "access", "service": "VPN",
        "team": "Network", "delivery": 8, "featured": True,
        "short": "Work from home or on the road through the company VPN.",
        "form": [
            q("reason", "Why?", T.CHOICE, required=True,
              choices=["remote|I work from home", "travel|I travel",
                       "contractor|I am a contractor"]),
            q("until", "Until when?", T.DATE, required=True,
              show=("reason", Op.EQUALS, "contractor")),
            q("device", "Device", T.CHOICE, required=True, default="laptop",
              choices=["laptop|Company laptop", "phone|Company phone"]),
        ],
        "stages": [MANAGER],
        "tasks": [task("Create the VPN profile", "Network", waits=False)],
    },
    {
        "slug": "erp-access", "name": "ERP access", "category": "access", "service": "ERP",
        "team": "Applications", "delivery": 16,
        "short": "An account or an extra role in the ERP.",
        "form": [
            q("role", "Role", T.CHOICE, required=True,
              choices=["viewer|Viewer", "clerk|Clerk (enter invoices)",
                       "approver|Approver (approve invoices)"]),
            q("limit", "Approval limit (GBP)", T.NUMBER, required=True, min_value=100,
              max_value=50000, show=("role", Op.EQUALS, "approver")),
            q("cost_centre", "Cost centre", required=True, help_text="E.g. CC-4410."),
            q("same_as", "Same access as (optional)", T.USER),
        ],
        "stages": [MANAGER, OWNER],
        "tasks": [task("Create the ERP account or role", "Applications", waits=False)],
    },
    {
        "slug": "shared-mailbox", "name": "Shared mailbox access", "category": "access",
        "service": "E-mail", "team": "Applications", "delivery": 4,
        "short": "Read or send from a team mailbox.",
        "form": [
            q("mailbox", "Mailbox address", required=True),
            q("permission", "Permission", T.CHOICE, required=True, default="read",
              choices=["read|Read", "send|Read and send as"]),
        ],
        "stages": [MANAGER],
        "tasks": [task("Grant mailbox permission", "Applications", waits=False)],
    },
    {
        "slug": "folder-access", "name": "Network folder access", "category": "access",
        "team": "Service Desk", "delivery": 4,
        "short": "Access to a shared folder on the file server.",
        "form": [
            q("path", "Folder path", required=True, help_text="E.g. \\\\files\\finance\\2026"),
            q("level", "Access", T.CHOICE, required=True, default="read",
              choices=["read|Read only", "modify|Read and change"]),
        ],
        "stages": [MANAGER],
        "tasks": [task("Add to the folder's group", "Service Desk", waits=False)],
    },
    {
        "slug": "customer-db-read", "name": "Customer database read access", "category": "access",
        "service": "Customer database", "team": "Database", "delivery": 16,
        "short": "Read-only queries on the customer database (reporting).",
        "form": [
            q("purpose", "What will you report on?", T.MULTILINE, required=True),
            q("personal", "Do you need personal data (names, e-mails)?", T.YES_NO, required=True),
        ],
        "stages": [MANAGER, team_stage("Database", TeamRule.ALL)],
        "tasks": [task("Create the read-only login", "Database", waits=False)],
    },
    {
        "slug": "admin-rights", "name": "Admin rights on my laptop", "category": "access",
        "team": "Service Desk", "delivery": 4,
        "short": "Temporary local administrator rights.",
        "form": [
            JUSTIFICATION,
            q("duration", "For how long?", T.CHOICE, required=True, default="day",
              choices=["day|One day", "week|One week"]),
        ],
        "stages": [MANAGER, team_stage("Service Desk")],
        "tasks": [task("Grant and schedule removal", "Service Desk", waits=False)],
    },
    # ---------------------------------------------------------------- onboarding
    {
        "slug": "new-starter", "name": "New starter set-up", "category": "onboarding",
        "team": "Service Desk", "delivery": 40, "featured": True,
        "short": "Everything a new colleague needs on day one: accounts, laptop, access.",
        "description": "Order **at least a week** before the start date.\n\n"
        "We create the accounts, prepare the laptop and set up remote access; the welcome "
        "pack waits until everything else is done.",
        "form": [
            q("starter", "New starter's full name", required=True),
            q("start", "Start date", T.DATE, required=True),
            q("department", "Department", T.CHOICE, required=True,
              choices=["finance|Finance", "sales|Sales", "it|IT", "ops|Operations"]),
            q("laptop", "Laptop", T.CHOICE, required=True, default="standard",
              choices=["standard|Standard", "developer|Developer"]),
            q("phone", "Company phone?", T.YES_NO, default="no"),
            q("systems", "Systems", T.MULTI_CHOICE,
              choices=["erp|ERP", "crm|CRM", "vpn|VPN"]),
            q("buddy", "Buddy on the team", T.USER),
            q("needs", "Accessibility needs", T.MULTILINE),
        ],
        "stages": [MANAGER],
        "tasks": [
            task("Create accounts and mailbox", "Applications", waits=False, order=10),
            task("Prepare the laptop", "Service Desk", waits=False, order=10),
            task("Set up VPN and network access", "Network", order=20),
            task("Welcome pack and hand-over", "Service Desk", order=30),
        ],
    },
    {
        "slug": "leaver", "name": "Leaver", "category": "onboarding", "team": "Service Desk",
        "delivery": 16, "short": "Close accounts and collect equipment when someone leaves.",
        "form": [
            q("person", "Who is leaving?", T.USER, required=True),
            q("last_day", "Last working day", T.DATE, required=True),
            q("equipment", "Equipment to collect", T.MULTI_CHOICE,
              choices=["laptop|Laptop", "phone|Phone", "badge|Badge"]),
            q("forward", "Forward their e-mail?", T.YES_NO, default="no"),
            q("forward_to", "Forward to", T.USER, required=True,
              show=("forward", Op.EQUALS, "yes")),
        ],
        "stages": [MANAGER],
        "tasks": [
            task("Disable accounts", "Applications", waits=False),
            task("Collect equipment", "Service Desk"),
        ],
    },
    {
        "slug": "contractor-account", "name": "Contractor account", "category": "onboarding",
        "team": "Service Desk", "delivery": 16,
        "short": "A time-limited account for an external contractor.",
        "form": [
            q("name", "Contractor's name", required=True),
            q("company", "Company", required=True),
            q("end", "Contract end date", T.DATE, required=True),
            q("attachment", "Signed NDA", T.ATTACHMENT, required=True),
        ],
        "stages": [MANAGER, team_stage("Service Desk")],
        "tasks": [task("Create the time-limited account", "Applications", waits=False)],
    },
    # ---------------------------------------------------------------- facilities
    {
        "slug": "desk-move", "name": "Desk move", "category": "facilities",
        "team": "Service Desk", "delivery": 24, "short": "Move your desk and equipment.",
        "form": [
            q("from_desk", "Current desk", required=True),
            q("to_desk", "New desk", required=True),
            q("date", "Move date", T.DATE, required=True),
            q("monitors", "Move monitors too?", T.YES_NO, default="yes"),
        ],
        "tasks": [task("Move and reconnect the equipment", "Service Desk", waits=False)],
    },
    {
        "slug": "ergonomic-chair", "name": "Ergonomic chair", "category": "facilities",
        "team": "Service Desk", "delivery": 40, "price": "450.00",
        "short": "An adjustable chair for back or posture needs.",
        "form": [
            q("reason", "Reason", T.CHOICE, required=True,
              choices=["back|Back pain", "height|Height", "other|Other"]),
            q("details", "Please describe", T.MULTILINE, required=True,
              show=("reason", Op.EQUALS, "other")),
            q("letter", "Occupational health letter", T.ATTACHMENT),
        ],
        "stages": [MANAGER],
        "tasks": [task("Order and deliver the chair", "Service Desk", waits=False)],
    },
    {
        "slug": "visitor-badge", "name": "Visitor badge", "category": "facilities",
        "team": "Service Desk", "delivery": 4, "short": "A day badge (and Wi-Fi) for a visitor.",
        "form": [
            q("visitor", "Visitor's name", required=True),
            q("company", "Company"),
            q("date", "Visit date", T.DATE, required=True),
            q("host", "Host", T.USER, required=True),
            q("wifi", "Guest Wi-Fi?", T.YES_NO, default="yes"),
        ],
        "tasks": [task("Print the badge at reception", "Service Desk", waits=False)],
    },
    {
        "slug": "parking-permit", "name": "Parking permit", "category": "facilities",
        "team": "Service Desk", "delivery": 24, "short": "A permit for the staff car park.",
        "form": [
            q("registration", "Car registration", required=True),
            q("days", "Days", T.MULTI_CHOICE, required=True,
              choices=["mon|Monday", "tue|Tuesday", "wed|Wednesday", "thu|Thursday",
                       "fri|Friday"]),
            q("electric", "Electric vehicle (charging bay)?", T.YES_NO, default="no"),
        ],
        "stages": [MANAGER],
        "tasks": [task("Issue the permit", "Service Desk", waits=False)],
    },
    {
        "slug": "printer-toner", "name": "Printer toner", "category": "facilities",
        "service": "Printing", "team": "Service Desk", "delivery": 8, "max_quantity": 4,
        "short": "Toner cartridges for a floor printer.",
        "form": [
            q("printer", "Printer", T.CHOICE, required=True,
              choices=["p1|1st floor", "p2|2nd floor", "p3|3rd floor"]),
            q("colours", "Colours", T.MULTI_CHOICE, required=True,
              choices=["k|Black", "c|Cyan", "m|Magenta", "y|Yellow"]),
        ],
        "tasks": [task("Deliver the toner", "Service Desk", waits=False)],
    },
]  # fmt: skip


def _categories() -> dict[str, Category]:
    result: dict[str, Category] = {}
    for order, (slug, name, icon, parent, description) in enumerate(CATEGORIES):
        category, _created = Category.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "icon": icon,
                "parent": result.get(parent) if parent else None,
                "description": description,
                "order": order * 10,
            },
        )
        result[slug] = category
    return result


def _item(
    spec: dict[str, Any],
    order: int,
    categories: dict[str, Category],
    services: dict[str, Service],
    teams: dict[str, Team],
) -> CatalogueItem:
    item, created = CatalogueItem.objects.get_or_create(
        slug=spec["slug"],
        defaults={
            "name": spec["name"],
            "category": categories[spec["category"]],
            "short_description": spec["short"],
            "description": spec.get("description", ""),
            "service": services.get(spec.get("service", "")),
            "fulfilment_team": teams.get(spec.get("team", "")),
            "expected_delivery": timedelta(hours=spec["delivery"]),
            "price": spec.get("price"),
            "cost_note": spec.get("cost_note", ""),
            "max_quantity": spec.get("max_quantity", 1),
            "featured": spec.get("featured", False),
            "order": order * 10,
        },
    )
    if not created:
        return item
    for index, variable in enumerate(spec.get("form", [])):
        FormVariable.objects.create(item=item, order=(index + 1) * 10, **variable)
    for index, stage in enumerate(spec.get("stages", [])):
        stage = dict(stage)
        if "team" in stage:
            stage["team"] = teams[stage["team"]]
        ApprovalStage.objects.create(item=item, order=(index + 1) * 10, **stage)
    for index, template in enumerate(spec.get("tasks", [])):
        template = dict(template)
        template["team"] = teams.get(template["team"])
        template["order"] = template["order"] or (index + 1) * 10
        TaskTemplate.objects.create(item=item, **template)
    return item


def _slas() -> None:
    """Request SLAs in office hours; clocks pause while a request awaits approval."""
    office = BusinessCalendar.objects.filter(name="London office").first()
    if office is None:
        office, _created = BusinessCalendar.objects.get_or_create(
            name="London office",
            defaults={
                "timezone": "Europe/London",
                "hours": {str(d): [["08:00", "18:00"]] for d in range(5)},
            },
        )
    for kind, metric, name, target in (
        ("request", "response", "Request response", timedelta(hours=8)),
        ("request", "resolution", "Request delivery", timedelta(hours=40)),
        ("task", "resolution", "Task completion", timedelta(hours=16)),
    ):
        SlaPolicy.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "metric": metric,
                "target": target,
                "calendar": office,
                "order": 100,
                "pause_statuses": ["awaiting_approval", "waiting"],
            },
        )


def _requests(people: dict[str, User], items: dict[str, CatalogueItem]) -> None:
    """A few requests at different stages, so every page has something to show."""
    rita, oscar, maria = people["rita"], people["oscar"], people["maria"]
    agent = people["ben"]
    # Awaiting Maria's approval.
    service_request_submit(
        item=items["laptop"],
        by=rita,
        answers={"model": "developer", "ram": "64", "docking": "yes", "monitors": 2},
    )
    # Approved and half fulfilled.
    phone = service_request_submit(
        item=items["mobile-phone"], by=oscar, answers={"model": "iphone", "plan": "eu"}
    )
    approval = phone.ticket.approvals.get()
    approval_decide(approval=approval, by=maria, approve=True, comment="OK for the sales trip")
    # No approval needed, delivered.
    badge = service_request_submit(
        item=items["visitor-badge"],
        by=rita,
        answers={"visitor": "Sam Supplier", "date": "2026-12-01", "host": rita.pk},
    )
    for task in FulfilmentTask.objects.filter(request=badge):
        task_transition(task=task, by=agent, target="done", note="Badge printed.")
    # Waiting for the monitor to be delivered.
    service_request_submit(
        item=items["monitor"], by=oscar, answers={"size": "27", "desk": "2.17"}, quantity=2
    )


def seed(*, people: dict[str, User], services: dict[str, Service], teams: dict[str, Team]) -> None:
    """Load the demo catalogue (idempotent)."""
    with transaction.atomic():
        for username in ("rita", "oscar"):
            User.objects.filter(username=username, manager__isnull=True).update(
                manager=people["maria"]
            )
            people[username].refresh_from_db()
        categories = _categories()
        items = {
            spec["slug"]: _item(spec, order, categories, services, teams)
            for order, spec in enumerate(ITEMS)
        }
        _slas()
    if not ServiceRequest.objects.exists():
        _requests(people, items)
