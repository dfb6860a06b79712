"""Settings > Data imports > Customer import, as an admin sees it: upload a CSV, change one column's
mapping, read the review (counts, the error in its cell), apply skipping the row with errors, find
the customers in the Summary, undo from the batch page and find them gone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .ui import menu

# "Kotisivu osoite" is no header the importer knows: the admin maps it to Website by hand.
FILE = (
    "Name;Business ID;Kotisivu osoite;Visiting address city\n"
    "Lumikki Import Oy;0112038-9;www.lumikki.example;Helsinki\n"
    "Tapio Import Ab;2617416-4;tapio.example;Turku\n"
    "Broken Import Oy;1234567-8;broken.example;Espoo\n"
)


def test_upload_map_review_apply_and_undo(page, live_server, make_user, log_in, tmp_path):
    admin = make_user("admin")
    path = tmp_path / "customers.csv"
    path.write_text(FILE, encoding="utf-8")

    log_in(page, admin.email)
    menu(page, "Settings", "Data imports: Customer import")
    expect(page.get_by_role("heading", name="Customer import")).to_be_visible()
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("button", name="Upload and review").click()

    expect(page).to_have_url(re.compile(r"/customers/review/\w+/"))
    expect(page.get_by_test_id("detected")).to_contain_text("Detected: CSV")
    mapping = page.get_by_test_id("mapping")
    website = mapping.get_by_role("row", name=re.compile("Kotisivu osoite")).get_by_role("combobox")
    expect(website).to_have_value("")  # not recognised: ignored until mapped
    website.select_option(label="Website")
    page.get_by_test_id("recheck").click()

    expect(website).to_have_value("website")
    counts = page.get_by_test_id("counts")
    expect(counts).to_contain_text("New customers: 2")
    expect(counts).to_contain_text("Rows with errors: 1")
    rows = page.get_by_test_id("rows").locator("tbody tr")
    expect(rows).to_have_count(3)
    broken = rows.filter(has_text="Broken Import Oy")
    expect(broken.locator("li[data-field=business_id]")).to_contain_text("1234567-8")
    expect(rows.filter(has_text="Lumikki Import Oy").locator("li")).to_have_count(0)

    # refused while a row has errors, unless told to skip them
    page.get_by_test_id("apply").click()
    expect(page.locator(".alert")).to_contain_text("1 rows have errors")
    page.get_by_label("Skip the rows with errors").check()
    page.get_by_test_id("apply").click()

    expect(page).to_have_url(re.compile(r"/customers/batch/\d+/"))
    expect(page.get_by_test_id("batch")).to_contain_text("2 customers created, 0 updated")
    changes = page.get_by_test_id("changes")
    expect(changes).to_contain_text("Lumikki Import Oy")
    expect(changes).to_contain_text("Tapio Import Ab")
    batch_url = page.url

    page.goto("/admin/customers/")
    listing = page.locator("table.model-list")
    expect(listing).to_contain_text("Lumikki Import Oy")
    expect(listing).to_contain_text("Tapio Import Ab")
    expect(listing).not_to_contain_text("Broken Import Oy")
    listing.get_by_role("link", name="Lumikki Import Oy").click()
    expect(page.locator("body")).to_contain_text("https://www.lumikki.example")  # mapped column

    page.goto(batch_url)
    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("undone")).to_contain_text("Undone by")
    expect(page.get_by_test_id("undo")).to_have_count(0)

    page.goto("/admin/customers/")
    expect(page.locator("body")).not_to_contain_text("Lumikki Import Oy")
    expect(page.locator("body")).not_to_contain_text("Tapio Import Ab")
