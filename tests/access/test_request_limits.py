"""Request limits: a request over MAX_CONTENT_LENGTH gets a page saying the limit; a mass
update names at most MAX_SELECTED_IDS customers by their ids."""

from __future__ import annotations

from custreg_admin.extensions import db

from ..helpers import csrf_token, log_in

# --- request size --------------------------------------------------------------------------------


def test_a_request_over_the_limit_gets_a_page_saying_the_limit(app_factory, make_user):
    small = app_factory(CUSTREG_MAX_CONTENT_LENGTH=16 * 1024)
    with small.app_context():
        db.create_all()
    client = small.test_client()
    log_in(client, make_user("admin"))
    token = csrf_token(client, "/admin/customers/new/")
    response = client.post(
        "/admin/customers/new/",
        data={"csrf_token": token, "name": "Big", "notes": "x" * 20_000},
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "What was sent is larger than the customer registry accepts (at most 16 kB)" in page
    assert "Nothing was saved" in page


def test_the_default_limit_is_one_megabyte(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_a_mass_update_naming_more_ids_than_the_cap_gets_a_clear_message(admin_client):
    from custreg_admin.services.mass_update import MAX_SELECTED_IDS

    ids = ",".join(str(n) for n in range(1, MAX_SELECTED_IDS + 2))
    response = admin_client.get(f"/admin/customers/mass-update/?ids={ids}", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"{MAX_SELECTED_IDS + 1} customers were sent one by one; at most" in page
    assert "choose all rows matching the search and filters" in page


def test_notes_longer_than_the_limit_are_refused_with_a_message(admin_client):
    from custreg_admin.models.customer import NOTES_MAX_LENGTH

    token = csrf_token(admin_client, "/admin/customers/new/")
    response = admin_client.post(
        "/admin/customers/new/",
        data={
            "csrf_token": token,
            "name": "Long Notes Oy",
            "country": "FI",
            "notes": "x" * (NOTES_MAX_LENGTH + 1),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # the form again, nothing saved
    assert f"Notes can be at most {NOTES_MAX_LENGTH} characters long" in page
