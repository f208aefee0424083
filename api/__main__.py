"""``python -m api`` runs the ``doorstep`` command line."""

from api.cli import app

app(prog_name="doorstep")
