"""Small helpers for driving the admin's pages."""

from __future__ import annotations


def menu(page, category: str, item: str) -> None:
    """Open a category of the top menu by clicking it, then click one of its items."""
    navbar = page.locator("nav.navbar")
    navbar.get_by_role("link", name=category, exact=True).click()
    navbar.locator(".dropdown-menu.show").get_by_role("link", name=item, exact=True).click()
