import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppo_case.settings.local")

app = Celery("ppo_case")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
