"""Test settings: production settings plus a handful of overrides."""

import os
import tempfile
import uuid

os.environ.setdefault("SERVICEDESK_ENV_FILE", "")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from .settings import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = tempfile.mkdtemp(prefix="servicedesk-test-media-")
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False
STATIC_ROOT = tempfile.mkdtemp(prefix="servicedesk-test-static-")  # WhiteNoise wants it to exist
# The cache (API throttle counters) is the real Redis: a prefix per run keeps runs apart.
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}"}}  # noqa: F405
