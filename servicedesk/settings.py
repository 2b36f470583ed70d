"""Single env-driven settings module. Environments differ only in environment variables.

Every variable is listed in `.env.example`. Production is the default: DEBUG is off and
SECRET_KEY is required unless DJANGO_DEBUG=1.
"""

import os
from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env fills in variables the environment does not set. SERVICEDESK_ENV_FILE="" skips it
# (the tests do, so a developer's .env cannot change what they check).
_env_file = os.environ.get("SERVICEDESK_ENV_FILE", str(BASE_DIR / ".env"))
if _env_file:
    environ.Env.read_env(_env_file, overwrite=False)


def env_secret(name: str, default: str | None = None) -> str | None:
    """Read NAME, or the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


# ------------------------------------------------------------------ core
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", default=None)
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError(
            "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is required unless DJANGO_DEBUG=1"
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DJANGO_DEBUG"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "servicedesk",  # management commands that span apps (seed_demo)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "core",
    "accounts",
    "catalogue",
    "tickets",
    "slas",
    "incidents",
    "servicerequests",
    "changes",
    "portal",
    "desk",
    "dashboards",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "integrations.middleware.ApiInputGuardMiddleware",  # NUL in API input → 400, not 500
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.LoginRequiredPolicyMiddleware",
]

ROOT_URLCONF = "servicedesk.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tickets.context_processors.notifications",
            ],
        },
    },
]
# Form widgets render through Jinja2 where Django ships Jinja2 templates (core.renderers).
FORM_RENDERER = "core.renderers.FormRenderer"

# ------------------------------------------------------------------ database
# DATABASE_URL is required: `make run` and `make test` start an embedded PostgreSQL and set it
# (servicedesk/runtime.py). Never SQLite: one SQL dialect everywhere.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/servicedesk")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Short queries, answered at once: no JIT (compiling one whose estimated cost was high took
# 80 ms of the 360 ms of the queue counts at 1M tickets) and no parallel workers (starting
# one took 7 of the 10 ms of the Breaching soon page's query; on a small machine the other
# request in flight needs the core more). PostgreSQL's own advice for OLTP.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    "-c jit=off -c max_parallel_workers_per_gather=0"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ------------------------------------------------------------------ auth
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# ------------------------------------------------------------------ i18n / time
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# ------------------------------------------------------------------ static and uploads
STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / ".data" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads live outside static and are served only through a permission-checked view.
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "DJANGO_STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_ALLOWED_TYPES = env.list(
    "ATTACHMENT_ALLOWED_TYPES",
    default=[
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".pdf",
        ".txt",
        ".log",
        ".csv",
        ".docx",
        ".xlsx",
        ".zip",
    ],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_MAX_BYTES + 1024 * 1024

# ------------------------------------------------------------------ e-mail
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", default="") or ""
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Service Desk <servicedesk@localhost>")
# Replies to notifications go here; the inbound receiver (`manage.py receive_mail`) must get
# the mail for this address (MX or a forward from the mailbox).
NOTIFY_REPLY_ADDRESS = env.str("NOTIFY_REPLY_ADDRESS", default="servicedesk@localhost")
# Right-hand side of our Message-IDs; replies are threaded back by it.
NOTIFY_MESSAGE_ID_DOMAIN = env.str(
    "NOTIFY_MESSAGE_ID_DOMAIN", default=NOTIFY_REPLY_ADDRESS.rpartition("@")[2] or "localhost"
)
# Retries of a failed send: exponential backoff from BASE seconds, capped at MAX seconds.
NOTIFY_EMAIL_MAX_ATTEMPTS = env.int("NOTIFY_EMAIL_MAX_ATTEMPTS", default=8)
NOTIFY_EMAIL_BACKOFF_BASE = env.int("NOTIFY_EMAIL_BACKOFF_BASE", default=30)
NOTIFY_EMAIL_BACKOFF_MAX = env.int("NOTIFY_EMAIL_BACKOFF_MAX", default=3600)
# Longer waits than this are left to the sweep (Redis redelivers long countdowns).
NOTIFY_EMAIL_RETRY_MAX_COUNTDOWN = 300
NOTIFY_SWEEP_GRACE_SECONDS = 60
NOTIFY_DISPATCH_MAX_ATTEMPTS = 5
# Daily digests go out at this hour in each recipient's time zone.
NOTIFY_DIGEST_HOUR = env.int("NOTIFY_DIGEST_HOUR", default=7)
NOTIFY_DIGEST_MAX_ITEMS = 200
# Inbound SMTP receiver (`manage.py receive_mail`).
INBOUND_SMTP_HOST = env.str("INBOUND_SMTP_HOST", default="127.0.0.1")
INBOUND_SMTP_PORT = env.int("INBOUND_SMTP_PORT", default=2525)
INBOUND_MAX_BYTES = env.int("INBOUND_MAX_BYTES", default=25 * 1024 * 1024)
# Recipient domains accepted (no open relay); default: the reply address's domain.
INBOUND_DOMAINS = env.list("INBOUND_DOMAINS", default=[NOTIFY_MESSAGE_ID_DOMAIN])
# More mail than this from one address in an hour is taken for a loop and ignored.
INBOUND_MAX_PER_SENDER_PER_HOUR = env.int("INBOUND_MAX_PER_SENDER_PER_HOUR", default=30)
# Wiring (dotted paths, so the tickets layer does not import the kinds above it): the service
# that raises a ticket from a new e-mail, and the one that keeps SLA clocks in line after an
# e-mailed reply.
INBOUND_CREATE_SERVICE = "incidents.services.incident_create"
INBOUND_AFTER_REPLY = "slas.services.sla_clocks_sync"
# Satisfaction survey sent on resolution: link lifetime, and the kinds that get one.
CSAT_LINK_MAX_AGE_DAYS = env.int("CSAT_LINK_MAX_AGE_DAYS", default=14)
CSAT_KINDS = ["incident", "request"]

# ------------------------------------------------------------------ security
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# ------------------------------------------------------------------ REST API
REST_FRAMEWORK = {
    # Token first: it answers an anonymous call with 401 and a WWW-Authenticate challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["core.api.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # Counted in Redis (CACHES): per token, per user (a token's calls count for both), and
    # per address for anonymous calls. 429 with Retry-After beyond the rate.
    "DEFAULT_THROTTLE_CLASSES": [
        "integrations.throttling.TokenThrottle",
        "integrations.throttling.UserThrottle",
        "integrations.throttling.AnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_THROTTLE_TOKEN", default="600/min"),
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
    },
}
# Idempotency-Key on creates (core.api.idempotency): where first answers are kept, and how long.
API_IDEMPOTENCY_STORE = "integrations.idempotency.DatabaseIdempotencyStore"
API_IDEMPOTENCY_HOURS = 24
SPECTACULAR_SETTINGS = {
    "TITLE": "Service Desk API",
    "DESCRIPTION": "Incidents, service requests, changes and SLAs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Vendored Swagger UI: no CDN, deployments may be offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Error responses, ?fields=/?expand= and the integration guide, written once for all.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_error_responses",
        "integrations.schema.describe_integrations",
    ],
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "incidents.choices.Level",
        "IncidentStatusEnum": "incidents.choices.IncidentStatus",
        "ChangeStatusEnum": "changes.choices.ChangeStatus",
        "ChangeTypeEnum": "changes.choices.ChangeType",
        "CalendarEntryKindEnum": "changes.choices.CalendarEntryKind",
        "TicketKindEnum": "tickets.choices.TicketKind",
        "LinkKindEnum": "tickets.choices.LinkKind",
        "RequestStatusEnum": "servicerequests.choices.RequestStatus",
        "TaskStatusEnum": "servicerequests.choices.TaskStatus",
        "RequestDecisionEnum": "servicerequests.choices.Decision",
        "ApprovalDecisionEnum": "tickets.choices.ApprovalDecision",
        "AlertStatusEnum": "integrations.choices.AlertStatus",
        "AlertActionEnum": "integrations.choices.AlertAction",
    },
}

# ------------------------------------------------------------------ Celery
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# The cache (API throttle counters) shares the Redis server; the prefix keeps environments
# (and test runs) apart.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="servicedesk"),
    }
}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT, CELERY_TASK_SOFT_TIME_LIMIT = 300, 60
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A redelivered unacked task comes back after this long; SLA timers are rows, not ETA tasks.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
CELERY_TIMEZONE = "UTC"
# Workers consume every queue listed here unless started with -Q. Escalations get their own
# queue so a slow notification never delays the every-second sweep.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue("celery"), Queue("escalations")]
CELERY_TASK_ROUTES = {"slas.tasks.run_escalation_task": {"queue": "escalations"}}
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # SLA timers are rows swept every second (STYLE §11), never per-ticket ETA tasks.
    "slas-sweep": {"task": "slas.tasks.sweep_task", "schedule": 1.0, "options": {"expires": 5}},
    "incidents-auto-close": {
        "task": "incidents.tasks.auto_close_resolved_task",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # Dashboards' read models follow the tickets changed since the last run (today is live).
    "dashboards-sync-rollups": {
        "task": "dashboards.tasks.sync_rollups_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Weekly dashboard e-mails go out at 07:00 in each subscriber's time zone.
    "dashboards-send-reports": {
        "task": "dashboards.tasks.send_due_reports_task",
        "schedule": 900.0,
        "options": {"expires": 840},
    },
    # Implementers hear about their change an hour before its window (once per window).
    "changes-remind-upcoming": {
        "task": "changes.tasks.remind_upcoming_changes_task",
        "schedule": 300.0,
        "options": {"expires": 240},
    },
    # Reminders are exactly-once per (approval, round) through the notification dedupe key.
    "servicerequests-approval-reminders": {
        "task": "servicerequests.tasks.send_approval_reminders_task",
        "schedule": 900.0,
        "options": {"expires": 800},
    },
    "servicerequests-auto-close": {
        "task": "servicerequests.tasks.auto_close_fulfilled_task",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "catalogue-popular": {
        "task": "servicerequests.tasks.refresh_popular_task",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    # Notification outbox: re-queue dispatches and e-mails whose task was lost.
    "tickets-notifications-sweep": {
        "task": "tickets.tasks.notifications_sweep_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Daily digests, checked hourly: each goes out at NOTIFY_DIGEST_HOUR in its recipient's zone.
    "tickets-send-digests": {
        "task": "tickets.tasks.send_digests_task",
        "schedule": crontab(minute=2),
        "options": {"expires": 3000},
    },
    # Webhooks read the journal as an outbox (integrations.webhooks), and re-queue lost
    # deliveries; Idempotency-Key records are forgotten after their 24 hours.
    "integrations-webhooks-outbox": {
        "task": "integrations.tasks.webhooks_outbox_task",
        "schedule": 2.0,
        "options": {"expires": 10},
    },
    "integrations-purge-idempotency": {
        "task": "integrations.tasks.purge_idempotency_records_task",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
}

# ------------------------------------------------------------------ logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}

# ------------------------------------------------------------------ front-door policy
# core.middleware.LoginRequiredPolicyMiddleware: every URL needs a login except these names,
# and each URL namespace may require a role predicate on the user.
PUBLIC_URL_NAMES = frozenset(
    {
        "login",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "healthz",
        "schema",
        "api-docs",
        "change-calendar-feed",  # iCalendar feed: authenticated by its secret token
        "csat",  # satisfaction survey: authenticated by its signed, single-use link
    }
)
SELF_AUTHENTICATING_NAMESPACES = frozenset({"api", "admin"})
FRONT_DOOR_POLICY = {"desk": "is_agent", "dashboards": "can_see_dashboards"}

# ------------------------------------------------------------------ product settings
INCIDENT_REOPEN_WINDOW_DAYS = env.int("INCIDENT_REOPEN_WINDOW_DAYS", default=7)
INCIDENT_AUTO_CLOSE_DAYS = env.int("INCIDENT_AUTO_CLOSE_DAYS", default=3)
# An escalation whose task has not finished this long after it was enqueued is enqueued again.
SLA_ESCALATION_RETRY_SECONDS = env.int("SLA_ESCALATION_RETRY_SECONDS", default=60)

# ------------------------------------------------------------------ outbound webhooks
# Targets on loopback/private/reserved addresses are refused (SSRF) unless this is set:
# tests, or a desk whose receivers live on its own network.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Failed attempts are retried after BASE × 2^(n−1) seconds (capped at MAX), MAX_ATTEMPTS in
# all; DISABLE_AFTER consecutive failed attempts disable the subscription.
WEBHOOK_BACKOFF_BASE = env.float("WEBHOOK_BACKOFF_BASE", default=10.0)
WEBHOOK_BACKOFF_MAX = env.float("WEBHOOK_BACKOFF_MAX", default=3600.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=15)
# Longer waits than this are left to the sweep (Redis redelivers long countdowns).
WEBHOOK_RETRY_MAX_COUNTDOWN = 300
WEBHOOK_SWEEP_GRACE_SECONDS = 30
# A journal id seen missing is re-read this long (a transaction still running).
WEBHOOK_OUTBOX_GAP_SECONDS = 300

# ---------------------------------------------------------------- desk collaboration
# Who else is on a ticket: each agent's presence lives in Redis and expires this many seconds
# after their page last touched it; pages touch every POLL seconds (and when typing).
DESK_PRESENCE_TTL_SECONDS = env.int("DESK_PRESENCE_TTL_SECONDS", default=30)
DESK_PRESENCE_POLL_SECONDS = env.int("DESK_PRESENCE_POLL_SECONDS", default=10)
DESK_PRESENCE_REDIS_URL = env.str("DESK_PRESENCE_REDIS_URL", default=REDIS_URL)
