from custreg_admin import create_app


def test_config_mapping_overrides_defaults(tmp_path):
    app = create_app(
        {
            "CUSTREG_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "CUSTREG_SECRET_KEY": "k",
            "CUSTREG_TIMEZONE": "UTC",
        }
    )
    assert app.config["CUSTREG_TIMEZONE"] == "UTC"
    assert app.config["CUSTREG_DEFAULT_COUNTRY"] == "FI"
    assert app.config["SECRET_KEY"] == "k"
    assert "custreg_admin" in app.extensions


def test_environment_variables_are_read(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTREG_DEFAULT_COUNTRY", "NO")
    monkeypatch.setenv("CUSTREG_REGISTRY_TIMEOUT", "2.5")
    app = create_app(
        {"CUSTREG_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "CUSTREG_SECRET_KEY": "k"}
    )
    assert app.config["CUSTREG_DEFAULT_COUNTRY"] == "NO"
    assert app.config["CUSTREG_REGISTRY_TIMEOUT"] == 2.5


def test_postgres_urls_use_psycopg3(tmp_path):
    app = create_app(
        {"CUSTREG_DATABASE_URL": "postgresql://postgres@127.0.0.1/test", "CUSTREG_SECRET_KEY": "k"}
    )
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://postgres@127.0.0.1/test"


def test_two_apps_in_one_process_get_their_own_views(tmp_path):
    first = create_app(
        {"CUSTREG_DATABASE_URL": f"sqlite:///{tmp_path}/a.db", "CUSTREG_SECRET_KEY": "k"}
    )
    second = create_app(
        {"CUSTREG_DATABASE_URL": f"sqlite:///{tmp_path}/b.db", "CUSTREG_SECRET_KEY": "k"}
    )
    views_a = first.extensions["custreg_admin"].views
    views_b = second.extensions["custreg_admin"].views
    assert views_a and views_b
    assert not set(map(id, views_a)) & set(map(id, views_b))
    assert "custreg_customer.index_view" in first.view_functions
    assert "custreg_customer.index_view" in second.view_functions


def test_secret_key_is_kept_in_instance_folder_in_development(tmp_path, monkeypatch):
    monkeypatch.delenv("CUSTREG_SECRET_KEY", raising=False)
    config = {"CUSTREG_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "CUSTREG_ENV": "development"}
    app = create_app(config)
    again = create_app(config)
    assert app.config["SECRET_KEY"] and app.config["SECRET_KEY"] == again.config["SECRET_KEY"]
