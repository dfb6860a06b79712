"""custreg-admin registry plugin for Finland: the Finnish Trade Register through PRH's YTJ open
data API v3 (``GET {CUSTREG_YTJ_BASE_URL}/companies``)."""

from __future__ import annotations

from .provider import DEFAULT_BASE_URL, YtjProvider, business_id_in, company_record

__version__ = "0.1.0"
__all__ = ["DEFAULT_BASE_URL", "YtjProvider", "__version__", "business_id_in", "company_record"]
