"""The compiled cache: used when the data is unchanged, rebuilt when it changes, never trusted blindly."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ketcheck.kb import load
from ketcheck.kb.load import STALE_AFTER_DAYS, data_root, load_bundled


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    root, cache = tmp_path / "data", tmp_path / "cache"
    shutil.copytree(Path(str(data_root())), root)
    monkeypatch.setenv("KETCHECK_DATA_DIR", str(root))
    monkeypatch.setenv("KETCHECK_CACHE_DIR", str(cache))
    load_bundled.cache_clear()
    yield root, cache
    load_bundled.cache_clear()


def _caches(cache: Path) -> list[Path]:
    return sorted(cache.glob("kb-*"))


def test_first_load_writes_one_cache_and_the_next_reads_it(data_copy: tuple[Path, Path]) -> None:
    _, cache = data_copy
    first = load_bundled()
    files = _caches(cache)
    assert len(files) == 1
    load_bundled.cache_clear()
    second = load_bundled()
    assert second.version == first.version
    assert second.ingredients["clonazepam"].classes == first.ingredients["clonazepam"].classes
    assert _caches(cache) == files


def test_editing_the_data_changes_the_cache_key(data_copy: tuple[Path, Path]) -> None:
    root, cache = data_copy
    before = load_bundled().version
    meta = root / "meta.toml"
    meta.write_text(meta.read_text() + "\n# edited\n")
    load_bundled.cache_clear()
    assert load_bundled().version != before
    assert len(_caches(cache)) == 2  # the older one is recent, so it is kept


def test_a_corrupt_cache_is_rebuilt_not_trusted(data_copy: tuple[Path, Path]) -> None:
    _, cache = data_copy
    expected = load_bundled().version
    (target,) = _caches(cache)
    target.write_bytes(b"not marshal data")
    load_bundled.cache_clear()
    assert load_bundled().version == expected
    assert target.read_bytes() != b"not marshal data"


def test_caches_untouched_for_a_month_are_pruned_on_rebuild(data_copy: tuple[Path, Path]) -> None:
    root, cache = data_copy
    load_bundled()
    cache.joinpath("kb-0000000000000000000a.cpython-311.marshal").write_bytes(b"x")
    cache.joinpath("unrelated.txt").write_bytes(b"x")
    cache.joinpath("kb-article-draft.md").write_bytes(b"notes")
    month_ago = time.time() - (STALE_AFTER_DAYS + 1) * 86400
    for f in cache.iterdir():
        os.utime(f, (month_ago, month_ago))
    (root / "meta.toml").write_text((root / "meta.toml").read_text() + "\n# edited\n")
    load_bundled.cache_clear()
    load_bundled()
    names = {f.name for f in cache.iterdir()}
    assert "kb-0000000000000000000a.cpython-311.marshal" not in names
    assert {"unrelated.txt", "kb-article-draft.md"} <= names  # only ketcheck's own caches go
    assert len([n for n in names if n.startswith("kb-") and n.endswith(".marshal")]) == 1


def test_an_unwritable_cache_folder_only_costs_speed(
    data_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KETCHECK_CACHE_DIR", str(blocker / "cache"))
    load_bundled.cache_clear()
    assert "clonazepam" in load_bundled().ingredients
    assert load.cache_dir() == blocker / "cache"
