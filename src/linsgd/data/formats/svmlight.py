"""svmlight / libsvm files (``.svm``, ``.libsvm``): rows ``y idx:value idx:value …``, read as CSR.

scikit-learn's ``load_svmlight_file`` parses (the ``linsgd[sklearn]`` extra; without it, one line naming the
install); linsgd hands it the file in blocks of whole lines
(``chunk_bytes`` at a time, cut after the last newline), so that memory stays at one block plus the rows
read, and a bad row is named by its line: the block that scikit-learn refuses is bisected down to the
first line it refuses alone, and that line's first token it refuses alone is the column
(``FILE:LINE: column C: …``, C the 1-based character where the token starts). Indices are 1-based, as
libsvm writes them (index j is column j − 1; an index 0 is refused, naming the line). A value that parses
but is not finite (``nan``, ``inf``) is refused the same way. Lines that are blank or start with ``#`` hold
no row.
"""

from __future__ import annotations

import io
import math

import numpy as np

from linsgd.data.checks import data_error
from linsgd.errors import DataError
from linsgd.extras import require

SUFFIXES = (".svm", ".libsvm", ".svmlight")
DEFAULT_CHUNK_BYTES = 4 << 20


def is_svmlight(path, fmt: str | None = None) -> bool:
    """Whether ``path`` is read as svmlight: ``fmt == "svmlight"``, or (no format given) its suffix."""
    if fmt is not None:
        return fmt == "svmlight"
    return str(path).lower().endswith(SUFFIXES)


def blocks(path, chunk_bytes: int = DEFAULT_CHUNK_BYTES):
    """``(first_line, bytes)``: the file in blocks of whole lines of about ``chunk_bytes`` (a line longer than
    that is one block); first_line is the 1-based line number of the block's first line."""
    line = 1
    carry = b""
    with open(path, "rb") as f:
        while True:
            part = f.read(chunk_bytes)
            if not part:
                if carry:
                    yield line, carry
                return
            part = carry + part
            cut = part.rfind(b"\n")
            if cut < 0:
                carry = part
                continue
            block, carry = part[:cut + 1], part[cut + 1:]
            yield line, block
            line += block.count(b"\n")


def read_block(path, first_line: int, block: bytes, dtype: str):
    """``(X CSR of its own width, y)`` of one block; DataError ``FILE:LINE: column C: …`` for a bad row."""
    try:
        X, y = _parse(block, dtype)
    except ValueError:
        raise _bad_line(path, first_line, block, dtype) from None
    bad = ~np.isfinite(X.data)
    if bad.any() or not np.all(np.isfinite(y)):
        raise _bad_line(path, first_line, block, dtype)
    return X, y


def read_svmlight(path, *, dtype: str = "float64", chunk_bytes: int = DEFAULT_CHUNK_BYTES, n_features=None):
    """The whole file as ``(X CSR (n, d), y (n,))`` of ``dtype``; d = the largest index (or ``n_features``).

    Raises:
        DataError: a bad row (file, line, column), an index above ``n_features``, or a file with no rows.
    """
    import scipy.sparse as sp

    parts = [read_block(path, first, block, dtype) for first, block in blocks(path, chunk_bytes)]
    parts = [p for p in parts if p[0].shape[0]]
    if not parts:
        raise data_error(path, None, "no rows: every line is blank or a # comment")
    d = max(p[0].shape[1] for p in parts)
    if n_features is not None:
        if d > n_features:
            raise data_error(path, None, f"a feature index {d} above the model's {n_features} features: the "
                                         "file does not match the model")
        d = n_features
    X = sp.vstack([sp.csr_matrix((p[0].data, p[0].indices, p[0].indptr), shape=(p[0].shape[0], d))
                   for p in parts], format="csr")
    return X, np.concatenate([p[1] for p in parts])


def _parse(text: bytes, dtype: str):
    load_svmlight_file = require("sklearn.datasets", "reading svmlight files").load_svmlight_file
    X, y = load_svmlight_file(io.BytesIO(text), dtype=np.dtype(dtype), zero_based=False)
    return X, y.astype(dtype, copy=False)


def _fails(text: bytes, dtype: str) -> bool:
    try:
        X, y = _parse(text, dtype)
    except ValueError:
        return True
    return not (np.all(np.isfinite(X.data)) and np.all(np.isfinite(y)))


def _bad_line(path, first_line: int, block: bytes, dtype: str) -> DataError:
    """The DataError of the first line of ``block`` that fails alone (bisection over the lines)."""
    lines = block.splitlines(keepends=True)
    lo, hi = 0, len(lines)  # the first bad line is in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _fails(b"".join(lines[lo:mid]), dtype):
            hi = mid
        else:
            lo = mid
    text = lines[lo].decode("utf-8", "replace").rstrip("\r\n")
    column, token, why = _bad_token(text, dtype)
    return DataError(f"{path}:{first_line + lo}: column {column}: {why} (value='{token}')")


def _bad_token(text: str, dtype: str) -> tuple[int, str, str]:
    """(1-based character, token, problem) of the first token of a bad line that fails alone."""
    at = 0
    for k, token in enumerate(text.split()):
        at = text.index(token, at)
        if k == 0:
            try:
                if math.isfinite(float(token)):
                    at += len(token)
                    continue
            except ValueError:
                pass
            return at + 1, token, "the target is not a finite number"
        if token.startswith("#"):
            break
        if _fails(f"0 {token}\n".encode(), dtype):
            return at + 1, token, "not index:value with an integer index >= 1 and a finite value"
        at += len(token)
    return 1, text[:40], "scikit-learn's svmlight reader refuses this line (indices must increase along a line)"
