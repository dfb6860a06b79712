"""Load test: the app under gunicorn on PostgreSQL, browsed by logged-in locust users.

``python -m bench.load`` (or ``make load``) prepares the database and the users, starts
gunicorn, runs locust headless and reports requests/s, p50/p99 latency per request type and
the error count; see :mod:`bench.load.__main__`.
"""

#: The load app's own settings (:mod:`bench.load.wsgi`): every virtual user logs in from
#: 127.0.0.1 within seconds, which is the load test and not an attack, so login throttling is
#: off here and only here.
LOAD_CONFIG = {
    "RATELIMIT_ENABLED": False,  # Flask-Limiter's own switch
    "CUSTREG_LOGIN_THROTTLE": False,  # the module's login throttling
}
