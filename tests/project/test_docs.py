"""The README and docs/ say what is true: their links, paths, settings, commands and code.

What a newcomer copies from the guides must work: every relative link and anchor resolves, every
path in backticks exists, every `CUSTREG_*` setting is documented and every documented one
exists, every `flask custreg` command and option shown is real (and every command is shown), the
`make` targets and benchmark flags exist, and the Python blocks compile and import what they name.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from custreg_admin.cli import custreg_cli
from custreg_admin.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
#: settings read by the code: the defaults, and the few read from the environment only
#: (``CUSTREG_INSTANCE_PATH``, which must be known before the app's config exists)
READ_BY_CODE = set(DEFAULTS) | {
    name
    for source in (ROOT / "custreg_admin").rglob("*.py")
    for name in re.findall(r"[\"'](CUSTREG_[A-Z0-9_]+)[\"']", source.read_text(encoding="utf-8"))
}
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
WRITTEN = ("results.json", "results.md", "load_results.json", "test-artifacts/")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _blocks(page: Path, *languages: str) -> list[str]:
    return [body for lang, body in FENCE.findall(_text(page)) if lang in languages]


def _prose(page: Path) -> str:
    """The page without its code blocks."""
    return FENCE.sub("", _text(page))


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_anchor(h) for h in re.findall(r"^#+ (.+)$", _prose(page), re.M)}


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_the_readme_is_a_short_guide():
    assert len((ROOT / "README.md").read_bytes()) < 8 * 1024


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_links_and_anchors_resolve(page):
    for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # an outside address
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{_page_id(page)} links to {target}, which does not exist"
        if anchor:
            assert anchor in _anchors(linked), f"{_page_id(page)}: no heading for #{anchor}"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_paths_named_in_backticks_exist(page):
    """Paths the commands write (results files, artifacts) are the exception."""
    prefixes = ("custreg_admin/", "tests/", "bench/", "plugins/", "examples/", "docs/")
    for name in re.findall(r"`([\w./-]+)`", _text(page)):
        if name.startswith(prefixes) and "*" not in name and not name.endswith(WRITTEN):
            assert (ROOT / name).exists(), f"{_page_id(page)} names {name}, which does not exist"


def test_every_setting_is_documented_and_every_documented_one_exists():
    page = _text(ROOT / "docs" / "configuration.md")
    documented = set(re.findall(r"^\| `(CUSTREG_[A-Z0-9_]+)`", page, re.M))
    assert set(DEFAULTS) <= documented, sorted(set(DEFAULTS) - documented)


def test_settings_in_any_table_are_real():
    for page in PAGES:
        for key in re.findall(r"^\| `(CUSTREG_[A-Z0-9_]+)`", _text(page), re.M):
            assert key in READ_BY_CODE, f"{_page_id(page)} documents {key}, which nothing reads"


def _custreg_commands_shown() -> list[list[str]]:
    shown = []
    for page in PAGES:
        for block in _blocks(page, "sh", "bash", "console", ""):
            for line in block.splitlines():
                line = line.split("#", 1)[0]
                words = line.split()
                if "custreg" in words and any(w.endswith("flask") for w in words):
                    shown.append(words[words.index("custreg") + 1 :])
    return shown


def test_flask_custreg_commands_and_options_shown_are_real():
    shown = _custreg_commands_shown()
    assert shown
    for words in shown:
        if not words:
            continue
        command = custreg_cli.commands.get(words[0])
        assert command is not None, f"`flask custreg {words[0]}` is not a command"
        options = {o for p in command.params if isinstance(p, click.Option) for o in p.opts}
        for word in words[1:]:
            if word.startswith("--"):
                assert word.split("=")[0] in options, f"`custreg {words[0]}` has no {word}"


def test_every_command_is_documented():
    shown = {words[0] for words in _custreg_commands_shown() if words}
    assert set(custreg_cli.commands) <= shown, set(custreg_cli.commands) - shown


def test_make_targets_shown_exist():
    makefile = _text(ROOT / "Makefile")
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    for page in PAGES:
        for block in _blocks(page, "sh", "bash", ""):
            for target in re.findall(r"^(?:\S+=\S+ )*make ([\w-]+)", block, re.M):
                assert target in targets, f"{_page_id(page)}: `make {target}` is not a target"


def test_benchmark_flags_shown_exist():
    shown = set()
    for page in PAGES:
        for block in _blocks(page, "sh", "bash", ""):
            for line in block.splitlines():
                if "-m bench" in line and "bench." not in line:
                    shown |= set(re.findall(r"(--[a-z][\w-]*)", line.split("#", 1)[0]))
    assert shown
    usage = subprocess.run(
        [sys.executable, "-m", "bench", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in shown:
        assert flag in usage, f"python -m bench has no {flag}"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_python_blocks_compile_and_import_what_they_name(page):
    for block in _blocks(page, "python"):
        compile(block, _page_id(page), "exec")
        for module, names in re.findall(
            r"^from (custreg_admin[\w.]*) import ([\w, ]+)$", block, re.M
        ):
            imported = importlib.import_module(module)
            for name in (n.strip() for n in names.split(",")):
                assert hasattr(imported, name), f"{_page_id(page)}: {module} has no {name}"
