"""WSGI entry point: `gunicorn wsgi:app`."""

from facito_admin.app import create_app
from facito_admin.bootstrap import settle_startup_heap

app = create_app()
settle_startup_heap()
