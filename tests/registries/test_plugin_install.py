"""Installing a third-party registry plugin as ops does: pip install, restart, pip uninstall.

The plugin is ``examples/registry_example`` (``custreg-registry-example``, provider ``ee_example``).
It goes into a throwaway virtual environment with the real pip, built from a copy of its source
without the network (``--no-index --no-deps --no-build-isolation``). The environment sees this
one's packages (custreg-admin and the rest) through a ``.pth`` file, so only the plugin is new
in it. What ops sees is checked in that environment (``flask custreg plugins``, the plugin's own
tests) and in this process, with the environment's site-packages put on ``sys.path``: what
``load_providers()`` returns, the Registries page and the customer form of a freshly built app.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import Customer
from custreg_admin.registries import load_providers

from ..helpers import csrf_token, log_in, once_per_make_test

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "registry_example"
DISTRIBUTION = "custreg-registry-example"
LABEL = "Estonian business register (example data)"


def _can_build_offline() -> bool:
    """setuptools builds wheels by itself from 70.1 on; before that it needs ``wheel``."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    if importlib.util.find_spec("wheel") is not None:
        return True
    from importlib.metadata import version

    major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1)


pytestmark = [
    pytest.mark.skipif(
        not _can_build_offline(),
        reason="building the example plugin offline needs setuptools>=70.1 or wheel (dev extra)",
    ),
    once_per_make_test,
    pytest.mark.long,
]


class ThrowawayEnv:
    """A virtual environment on top of the running one; pip runs in it with ``--python``."""

    def __init__(self, path: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
        self.python = path / "bin" / "python"
        self.site_packages = Path(
            self._ask("import sysconfig; print(sysconfig.get_paths()['purelib'])")
        )
        parent = sysconfig.get_paths()["purelib"]
        (self.site_packages / "_custreg_parent_env.pth").write_text(
            f"import site; site.addsitedir({parent!r})\n"
        )

    def _ask(self, code: str) -> str:
        return subprocess.run(
            [str(self.python), "-c", code], check=True, capture_output=True, text=True
        ).stdout.strip()

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.python), *args], capture_output=True, text=True, cwd=ROOT, env=env
        )

    def pip(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(self.python), "--quiet", *args],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result


def _app_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTREG_")}
    env.update(
        CUSTREG_DATABASE_URL=f"sqlite:///{tmp_path / 'ops.db'}",
        CUSTREG_SECRET_KEY="ops-test",
    )
    return env


def _ids(**config) -> list[str]:
    report = load_providers({"CUSTREG_REGISTRIES": "", **config})
    return sorted(entry.id or entry.name for entry in report.entries)


def test_pip_install_restart_pip_uninstall(app_factory, app, make_user, tmp_path, monkeypatch):
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    env = ThrowawayEnv(tmp_path / "venv")
    assert "ee_example" not in _ids()
    admin = make_user("admin")

    # pip install, as ops does (a local path here; a wheel or an index works the same)
    env.pip("install", "--no-index", "--no-deps", "--no-build-isolation", str(source))
    listed = env.run("-m", "flask", "--app", "wsgi", "custreg", "plugins", env=_app_env(tmp_path))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    line = next(row for row in listed.stdout.splitlines() if row.startswith("ee_example"))
    assert " EE " in line and LABEL in line and f"{DISTRIBUTION} 1.0.0" in line
    assert line.rstrip().endswith("loaded")
    own_tests = env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests"))
    assert own_tests.returncode == 0, own_tests.stdout + own_tests.stderr

    # the same installation seen from this process; a new app is a restart
    monkeypatch.syspath_prepend(str(env.site_packages))
    monkeypatch.delitem(sys.modules, "custreg_registry_example", raising=False)
    assert "ee_example" in _ids()
    assert _ids(CUSTREG_REGISTRIES="ee_example") == ["ee_example"]  # pinned: only it loads
    assert "ee_example" not in _ids(CUSTREG_REGISTRIES="ytj,bizweb")
    report = load_providers({"CUSTREG_REGISTRIES": "ee_example"})
    [entry] = report.entries
    assert (entry.distribution, entry.version) == (DISTRIBUTION, "1.0.0")

    restarted = app_factory(CUSTREG_REGISTRIES="")
    client = restarted.test_client()
    assert log_in(client, admin).status_code == 302
    assert LABEL in client.get("/admin/settings/registries/").get_data(as_text=True)
    form = client.get("/admin/customers/new/").get_data(as_text=True)
    assert LABEL in form  # the registry box's country list names Estonia's registry
    found = client.get("/admin/customers/registry/search/?country=EE&q=naidis&format=json")
    [hit] = found.get_json()["results"]
    assert (hit["name"], hit["business_id"]) == ("Näidis Tarkvara OÜ", "17294365")
    picked = client.get(hit["use_url"]).get_data(as_text=True)
    assert 'value="Näidis Tarkvara OÜ"' in picked  # the form filled from the record
    created = client.post(
        "/admin/customers/new/",
        data={
            "csrf_token": csrf_token(client, "/admin/customers/new/"),
            "name": "Näidis Tarkvara OÜ",
            "country": "EE",
            "business_id": "17294365",
            "vat_number": "EE104837564",
            "registry_source": "ee_example",
            "registry_status": "active",
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)

    # pip uninstall, restart: the registry is gone, the customer made from it stays as it was
    env.pip("uninstall", "--yes", DISTRIBUTION)
    importlib.invalidate_caches()
    assert "ee_example" not in _ids()
    after = app_factory(CUSTREG_REGISTRIES="")
    client = after.test_client()
    assert log_in(client, admin).status_code == 302
    assert LABEL not in client.get("/admin/settings/registries/").get_data(as_text=True)
    assert LABEL not in client.get("/admin/customers/new/").get_data(as_text=True)
    with after.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.business_id == "17294365"))
        assert (customer.name, customer.registry_source) == ("Näidis Tarkvara OÜ", "ee_example")
        assert customer.vat_number == "EE104837564" and customer.registry_fetched_at is not None
        card = client.get(f"/admin/customers/details/?id={customer.id}")
    assert card.status_code == 200
    assert "Näidis Tarkvara OÜ" in card.get_data(as_text=True)
