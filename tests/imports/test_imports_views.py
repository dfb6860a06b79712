"""Settings > Data imports > Customer import: upload, review, apply, undo; access."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from custreg_admin.extensions import db
from custreg_admin.models import Customer, ImportBatch

from .. import builders as b
from ..helpers import IMPORTS_URL, csrf_token, log_in, upload_import

BASE = IMPORTS_URL
DATA = Path(__file__).parents[1] / "data"


def test_upload_review_apply_and_undo(app, admin_client):
    with app.app_context():
        b.segment("Retail")
        db.session.commit()
    response = upload_import(
        admin_client, (DATA / "severa_customers_cp1252.csv").read_bytes(), "s.csv"
    )
    assert response.status_code == 302
    review_url = response.headers["Location"]
    page = admin_client.get(review_url).get_data(as_text=True)
    assert "cp1252" in page and "Ääkkönen Oy" in page
    assert "New customers: 2" in page
    token = csrf_token(admin_client, review_url)
    response = admin_client.post(review_url, data={"csrf_token": token, "mapped": "1", "apply": "1",
        **{f"map_{i}": v for i, v in enumerate(["name", "business_id", "country", "industry",
           "segments", "visiting_street", "visiting_postal_code", "visiting_city",
           "contact_first_name", "contact_last_name", "email", "einvoice_address"])}})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 2
        batch_id = db.session.scalar(select(ImportBatch.id))
    batch_url = f"{BASE}batch/{batch_id}/"
    assert "Undo this import" in admin_client.get(batch_url).get_data(as_text=True)
    admin_client.post(batch_url, data={"csrf_token": csrf_token(admin_client, batch_url)})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_bad_file_is_refused_with_its_message(app, admin_client):
    response = upload_import(admin_client, b"", "empty.csv")
    assert response.status_code == 302
    page = admin_client.get(BASE).get_data(as_text=True)
    assert "The file is empty" in page


def test_errors_download_is_the_same_file_with_an_error_column(app, admin_client):
    response = upload_import(
        admin_client, b"Name;Business ID\r\nGood Oy;\r\nBad Oy;123\r\n", "x.csv"
    )
    review_url = response.headers["Location"]
    key = review_url.rstrip("/").rsplit("/", 1)[1]
    token = csrf_token(admin_client, review_url)
    response = admin_client.post(f"{BASE}review/{key}/errors.csv", data={"csrf_token": token})
    text = response.get_data().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "Name;Business ID;Errors"
    assert lines[1].startswith("Bad Oy;123;Business ID:") and len(lines) == 2


def test_html_in_names_is_shown_escaped(app, admin_client):
    response = upload_import(admin_client, b"Name\r\n<script>alert(1)</script>\r\n", "x.csv")
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_template_download_in_the_users_language(app, client, make_user):
    user = make_user("manager")
    log_in(client, user)
    body = client.get(BASE + "template.csv", headers={"Accept-Language": "fi"}).get_data()
    assert body.decode("utf-8-sig").splitlines()[0].startswith("Nimi;Asiakasnumero;Y-tunnus")


def test_plain_users_never_see_the_import(app, client, login):
    login("user")
    assert client.get(BASE).status_code == 403
    assert client.get(BASE + "template.csv").status_code == 403
