# Service desk image: one image for the web, worker and beat services (see docker-compose.yml).
# Configured only by environment variables; see .env.example and servicedesk/settings.py.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=servicedesk.settings \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_MEDIA_ROOT=/data/media

RUN groupadd --system --gid 1000 servicedesk \
    && useradd --system --uid 1000 --gid servicedesk --home-dir /app --shell /usr/sbin/nologin servicedesk

WORKDIR /app

# Dependencies first, for layer caching. pyproject.toml declares no packages
# ([tool.setuptools] packages = []), so `pip install .` installs the dependencies only and the
# code runs from /app (on PYTHONPATH).
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected at build time and served by WhiteNoise. The secret key here is
# a placeholder that exists only during this step; the running container needs its own.
RUN DJANGO_SECRET_KEY=build-only DJANGO_DEBUG=0 python manage.py collectstatic --noinput \
    && mkdir -p /data/media \
    && chown -R servicedesk:servicedesk /data

USER servicedesk

EXPOSE 8000

CMD ["gunicorn", "servicedesk.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
