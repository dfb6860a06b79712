"""custreg-admin registry plugin for Norway: Bizweb, whose company data comes from the
Brønnøysund Register Centre's open Enhetsregisteret API (``{CUSTREG_BIZWEB_BASE_URL}``)."""

from __future__ import annotations

from .provider import BizwebProvider, orgnr_in
from .sources import DEFAULT_BASE_URL, CompanySource, EnhetsregisteretSource, unit_record

__version__ = "0.1.0"
__all__ = [
    "DEFAULT_BASE_URL",
    "BizwebProvider",
    "CompanySource",
    "EnhetsregisteretSource",
    "__version__",
    "orgnr_in",
    "unit_record",
]
