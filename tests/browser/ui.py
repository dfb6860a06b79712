"""Small helpers for driving the admin's pages."""

from __future__ import annotations

from playwright.sync_api import expect


def menu(page, category: str, item: str) -> None:
    """Open a category of the top menu by clicking it, then click one of its items."""
    navbar = page.locator("nav.navbar")
    navbar.get_by_role("link", name=category, exact=True).click()
    navbar.locator(".dropdown-menu.show").get_by_role("link", name=item, exact=True).click()


def registry_box_ready(page) -> None:
    """Wait until registry_search.js has taken over the magnifier: before that, Enter in it
    posts the whole customer form (the path without JavaScript), as a user typing that fast
    would see too."""
    expect(page.locator(".custreg-registry-box[data-ready]")).to_be_attached()
