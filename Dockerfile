# syntax=docker/dockerfile:1
# PPO Case: one image for the web, worker and beat services (see docker-compose.yml).

# --- Stage 1: the design system's CSS, compiled with Dart Sass -------------------------
FROM node:20-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY frontend/ frontend/
RUN npm run build:css

# --- Stage 2: the Django application ---------------------------------------------------
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=ppo_case.settings.production

# WeasyPrint (PDF reports) needs Pango, HarfBuzz and a font; DejaVu is the one the
# report styles are checked with. psycopg's binary wheel brings its own libpq.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# The runtime dependencies at the lock's exact versions, each checked against its hash
# (requirements/lock.txt, compiled from pyproject.toml by `make lock`), in their own layer
# so that a code change does not reinstall them.
COPY requirements/lock.txt requirements/lock.txt
RUN pip install --require-hashes -r requirements/lock.txt

COPY . .
# The project itself, nothing more (--no-deps); it still runs from /app (BASE_DIR finds
# templates/ and the static folders beside it). `pip check`: the lock has what it needs.
RUN pip install --no-deps -e . && pip check
# STATICFILES_DIRS (ppo_case/settings/base.py): the built CSS and only the dist folders of
# GOV.UK Frontend and MoJ Frontend, at the same paths as in a work tree.
COPY --from=frontend /app/frontend/build/ frontend/build/
COPY --from=frontend /app/node_modules/govuk-frontend/dist/govuk/ node_modules/govuk-frontend/dist/govuk/
COPY --from=frontend /app/node_modules/@ministryofjustice/frontend/moj/ node_modules/@ministryofjustice/frontend/moj/

# Collected at build time too, so the worker and beat containers (which may render
# templates, e.g. the PDF report) have the manifest; the web service collects again at
# start. The secret and hosts here exist for this one command only.
RUN DJANGO_SECRET_KEY=collectstatic-at-build-time-only-not-used-for-anything-else \
       DJANGO_ALLOWED_HOSTS=localhost \
       python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin ppo \
    && chown -R ppo:ppo /app/staticfiles
USER ppo

EXPOSE 8000
# Bind, workers and the JSON access log: ops/gunicorn.conf.py.
CMD ["gunicorn", "ppo_case.wsgi", "--config", "ops/gunicorn.conf.py"]
