"""The baseline: a minimal Flask app, served by gunicorn with the same settings as the journal."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
