"""The Celery app of the development project."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devsite.settings")

app = Celery("devsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
