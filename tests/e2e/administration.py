"""Steps in the administrator's pages shared by the browser tests."""

from __future__ import annotations

from playwright.sync_api import Locator, Page


def demo_site_card(admin: Page) -> Locator:
    """The demo website's card in Administration → Resources, reached as a person would."""
    admin.get_by_role("link", name="Администрирование").click()
    admin.get_by_role("tab", name="Ресурсы").click()
    return admin.get_by_role("article", name="Demo website")


def edit_resource(admin: Page, card: Locator) -> Locator:
    """The resource's "Изменить ресурс" dialog, opened from its card."""
    card.locator(".card-header").get_by_role("button", name="Изменить", exact=True).click()
    return admin.get_by_role("dialog", name="Изменить ресурс")
