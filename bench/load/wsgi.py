"""The app gunicorn serves in the load test: ``gunicorn bench.load.wsgi:app``.

Configured from the environment like ``wsgi.py`` (``CUSTREG_DATABASE_URL``,
``CUSTREG_SECRET_KEY``...), plus :data:`bench.load.LOAD_CONFIG` (login throttling off).
"""

from __future__ import annotations

from custreg_admin import create_app

from . import LOAD_CONFIG

app = create_app(LOAD_CONFIG)
