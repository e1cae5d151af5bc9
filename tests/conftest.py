"""Shared fixtures: a small hand-written knowledge base, the bundled one, and a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

from ketcheck.engine.check import run_check
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.kb.load import compile_knowledge
from ketcheck.model import Report
from ketcheck.options import CheckOptions

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURE_KB = HERE / "fixtures" / "kb"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/*")


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep compiled-data caches out of the user's home; subprocesses import this checkout."""
    # The console script imports whatever checkout was installed (another worktree, perhaps):
    # PYTHONPATH makes `ketcheck` and `python -m ketcheck` run the code under test.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    os.environ["KETCHECK_CACHE_DIR"] = str(tmp_path_factory.mktemp("kb-cache"))
    os.environ.pop("KETCHECK_PROTOCOL", None)
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return compile_knowledge(FIXTURE_KB)


@pytest.fixture(scope="session")
def bundled() -> KnowledgeBase:
    from ketcheck.kb.load import load_bundled

    return load_bundled()


def run(kb: KnowledgeBase, *names: str, **options: object) -> Report:
    """Check names against a knowledge base with a fixed tool version; keywords are CheckOptions."""
    return run_check(list(names), kb, CheckOptions(**options), tool_version="test")  # type: ignore[arg-type]


def load_script(name: str) -> ModuleType:
    """A generator script under scripts/ as a module, so its pure parts can be tested."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

