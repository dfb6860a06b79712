"""A customer's website: an http or https address, nothing else (no ``javascript:``, ``data:``,
``file:``...). A bare domain (``www.acme.fi``, ``acme.fi/en``) gets ``https://`` in front.
Plain functions: no database, no request."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..i18n import gettext

SCHEMES = ("http", "https")

#: "scheme:" at the start that is not a host's port ("localhost:8080")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):(?!\d)")
_HOST = re.compile(r"^[\w.-]+$")


class InvalidWebsite(ValueError):
    """Not an address the card may link to; ``str()`` tells the user."""


def _refuse(value: str) -> InvalidWebsite:
    return InvalidWebsite(
        gettext(
            "%(value)s is not a website address: use an http or https address, such as "
            "https://www.example.com (or just www.example.com).",
            value=value,
        )
    )


def normalise_website(value: str | None) -> str | None:
    """The website in the form stored (``https://`` added to a bare domain), None when empty;
    :class:`InvalidWebsite` for anything that is not an http(s) address of a host."""
    text = (value or "").strip()
    if not text:
        return None
    if any(c.isspace() or ord(c) < 32 for c in text):
        raise _refuse(text)
    if "://" not in text:
        if _SCHEME.match(text):  # javascript:..., mailto:..., data:...
            raise _refuse(text)
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise _refuse(value.strip()) from None
    if parts.scheme.lower() not in SCHEMES or not _HOST.match(host):
        raise _refuse(value.strip())
    if "." not in host.strip(".") and host != "localhost":
        raise _refuse(value.strip())
    if parts.username is not None or parts.password is not None:
        raise _refuse(value.strip())
    return parts.scheme.lower() + text[len(parts.scheme) :]


def link_of(value: str | None) -> str | None:
    """The address a card may link to for a stored website, None when it may not (a value
    stored before websites were checked)."""
    try:
        return normalise_website(value)
    except InvalidWebsite:
        return None
