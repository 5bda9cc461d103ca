"""numba's cache of a linsgd kernel is stamped with every linsgd source of jitted code, not only the kernel's
own file: a kernel compiles in functions of other files, and editing one of them must not load stale code."""

from __future__ import annotations

import shutil
from pathlib import Path

import linsgd
from linsgd import _jit_cache
from linsgd._jit_cache import kernel_digest


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "linsgd"
    shutil.copytree(Path(linsgd.__file__).parent, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_digest_follows_every_file_with_jitted_code_and_no_other(tmp_path):
    root = _copy(tmp_path)
    first = kernel_digest(root)
    _jit_cache._digest.clear()
    assert kernel_digest(root) == first  # the same bytes, the same digest
    (root / "errors.py").write_text((root / "errors.py").read_text() + "\n# no jitted code here\n")
    _jit_cache._digest.clear()
    assert kernel_digest(root) == first
    rows = root / "engines" / "_row_groups.py"  # inlined into the fused kernels, cached in another file
    rows.write_text(rows.read_text() + "\n# edited\n")
    _jit_cache._digest.clear()
    assert kernel_digest(root) != first


def test_a_fused_kernel_is_cached_under_the_joined_stamp():
    from linsgd.engines import _fused_kernels

    _jit_cache._digest.clear()
    locator = _fused_kernels.sgd_epoch._cache._impl.locator
    assert type(locator).__name__.startswith("Linsgd")
    own, digest = locator.get_source_stamp()
    assert digest == kernel_digest() and own  # numba's own stamp of the file, then the digest


def test_functions_outside_the_package_keep_numbas_locators(tmp_path):
    from numba.core import caching

    from linsgd.engines import _fused_kernels  # noqa: F401 (registers the locators)

    ours = [c for c in caching.CacheImpl._locator_classes if c.__name__.startswith("Linsgd")]
    assert len(ours) == 3
    outside = tmp_path / "mine.py"
    outside.write_text("def f():\n    return 1\n")
    assert all(c.from_function(lambda: 1, str(outside)) is None for c in ours)
