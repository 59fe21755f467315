"""WSGI entry point for gunicorn (``Procfile``): ``dashboard.wsgi:server``."""

from dashboard.app import create_app

server = create_app().server
