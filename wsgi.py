"""WSGI entry point: ``gunicorn wsgi:app``; ``socketio`` is the Socket.IO server."""

from app import create_app
from app.extensions import socketio

app = create_app()

__all__ = ["app", "socketio"]
