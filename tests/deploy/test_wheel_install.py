"""docs/deploy.md, followed as written: the wheels of the module and both plugins are built,
installed with pip into a fresh virtualenv outside the checkout, and the guide's commands run
there: init-db, create-user, plugins, then gunicorn serving the login page.

Slow-ish (a virtualenv and its dependencies from the package index); deselect it explicitly
with ``-m "not wheel_install"``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ..helpers import once_per_make_test

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "deploy.md").read_text("utf-8")

pytestmark = [pytest.mark.wheel_install, pytest.mark.long, once_per_make_test]


def _guide_command(prefix: str) -> str:
    """The guide's command line that starts with ``prefix`` (exactly as written there)."""
    found = [line for line in GUIDE.splitlines() if line.startswith(prefix)]
    assert found, f"docs/deploy.md has no command starting with {prefix!r}"
    return found[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _copy_sources(target: Path) -> Path:
    """The checkout's sources (not its virtualenv, caches or build output), so that building
    leaves the checkout as it was."""
    ignore = shutil.ignore_patterns(
        ".venv",
        ".git",
        "instance",
        "build",
        "dist",
        "*.egg-info",
        "__pycache__",
        "tests",
        ".pytest_cache",
        ".ruff_cache",
        "bench",
        "test-artifacts",
    )
    shutil.copytree(ROOT, target, ignore=ignore)
    return target


def _run(args, *, env, cwd, input=None, timeout=600) -> subprocess.CompletedProcess:
    result = subprocess.run(
        args, env=env, cwd=cwd, input=input, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def test_the_deployment_guide_works_from_the_wheels(tmp_path):
    # -- build the three wheels ------------------------------------------------------------------
    source = _copy_sources(tmp_path / "src")
    wheels = tmp_path / "wheels"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(wheels),
            str(source),
            str(source / "plugins" / "registry_ytj"),
            str(source / "plugins" / "registry_bizweb"),
        ],
        env=os.environ.copy(),
        cwd=tmp_path,
    )
    built = sorted(p.name.split("-")[0] for p in wheels.glob("*.whl"))
    assert built == ["custreg_admin", "custreg_registry_bizweb", "custreg_registry_ytj"]

    # -- section 1: a fresh virtualenv, the guide's pip install ----------------------------------
    home = tmp_path / "srv"  # stands for /srv/custreg: outside the checkout
    home.mkdir()
    venv = home / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], env=os.environ.copy(), cwd=home)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CUSTREG_", "FLASK_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    install = _guide_command("pip install 'custreg-admin[postgres,redis]'")
    # the module is not on the package index: pip finds it among the wheels just built
    _run(["sh", "-c", f"{install} --quiet --find-links {wheels}"], env=env, cwd=home, timeout=900)
    located = _run(
        ["python", "-c", "import custreg_admin, sys; print(custreg_admin.__file__)"],
        env=env,
        cwd=home,
    ).stdout.strip()
    assert located.startswith(str(venv)) and not located.startswith(str(ROOT))

    # -- section 3: without CUSTREG_SECRET_KEY, and the database in the instance folder ----------
    for prefix in (
        "flask --app custreg_admin:create_app custreg init-db",
        "flask --app custreg_admin:create_app custreg create-user",
        "flask --app custreg_admin:create_app custreg plugins",
    ):
        command = _guide_command(prefix)
        secret = "a-password-for-the-test\na-password-for-the-test\n"
        result = _run(["sh", "-c", command], env=env, cwd=home, input=secret)
        if prefix.endswith("plugins"):
            assert re.search(r"^ytj\s+FI .* loaded", result.stdout, re.M), result.stdout
            assert re.search(r"^bizweb\s+NO .* loaded", result.stdout, re.M), result.stdout
        if prefix.endswith("create-user"):
            assert "Created admin admin@example.com." in result.stdout
    # section 4: the instance folder of an installed package
    assert (venv / "var" / "custreg_admin-instance" / "custreg.db").is_file()

    # -- section 5: gunicorn; it refuses to serve without a secret key ---------------------------
    port = _free_port()
    serve = _guide_command("gunicorn 'custreg_admin:create_app()'").replace(
        "127.0.0.1:8000", f"127.0.0.1:{port}"
    )
    refused = subprocess.run(
        ["sh", "-c", serve.replace("--workers 3", "--workers 1")],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "CUSTREG_SECRET_KEY is not set" in refused.stderr

    env["CUSTREG_SECRET_KEY"] = "0123456789abcdef" * 4
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        ["sh", "-c", f"exec {serve}"],
        env=env,
        cwd=home,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        page = None
        started = time.monotonic()
        while time.monotonic() - started < 120 and server.poll() is None:
            try:
                # the first answer waits for a worker to boot (3 of them, on a busy machine)
                page = requests.get(f"http://127.0.0.1:{port}/admin/login", timeout=90)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.3)
        assert page is not None, (tmp_path / "gunicorn.log").read_text()
        assert page.status_code == 200
        assert 'name="email"' in page.text and 'name="password"' in page.text
        session = requests.Session()
        form = session.get(f"http://127.0.0.1:{port}/admin/login", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        answer = session.post(
            f"http://127.0.0.1:{port}/admin/login",
            data={
                "email": "admin@example.com",
                "password": "a-password-for-the-test",
                "csrf_token": token,
            },
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
