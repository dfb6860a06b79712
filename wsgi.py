"""WSGI entry point: ``flask --app wsgi run`` or ``gunicorn wsgi:app``."""

from custreg_admin import create_app

app = create_app()
