"""Customers > Mass updates: choose an action and its value, confirm, apply; history and undo.

Thin: the selection, counts, preview, apply and undo are :mod:`custreg_admin.services.mass_update`.

The URL contract (endpoint ``custreg_mass_update``, mounted at ``customers/mass-update``):

* ``GET /?ids=1,2,3`` (ticked rows; ``ids`` may also repeat), ``GET /?spec=<JSON>`` ("all N
  matching": the URL-encoded JSON of :meth:`CustomerSet.to_spec`) or ``GET /?report=<query>``
  (every customer of a Customers report: the report's URL-encoded query string), each with an
  optional ``action=`` (a key of :data:`~custreg_admin.services.mass_update.ACTIONS`) and
  ``return_url=`` (a path in this site; the Summary list when missing). Without a selection the
  page is the history.
* ``POST /from-report/``: the reports page's hook (``customer_ids``, ``all_matching=1``,
  ``report_query``); it redirects to the page above.
* ``POST /preview/`` shows the confirmation with a signed token carrying the frozen ids;
  ``POST /apply/`` applies that token; ``GET /history/``, ``GET /batch/<id>/`` and
  ``GET``/``POST /batch/<id>/undo/``.

Every POST carries the CSRF token (Flask-WTF checks it app-wide). The frozen selection travels
signed with the app's secret key (itsdangerous, with a time limit), bound to the user, with a
key that lets it apply once.
"""

from __future__ import annotations

from .view import MassUpdateView

__all__ = ["MassUpdateView"]
