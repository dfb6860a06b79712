"""The module's version (read by the packaging and the registry lookups' User-Agent)."""

__version__ = "0.1.0"
