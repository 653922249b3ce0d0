"""WSGI entry point: `gunicorn wsgi:app`."""

from facito_admin.app import create_app

app = create_app()
