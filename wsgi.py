"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from console import create_app

app = create_app()
