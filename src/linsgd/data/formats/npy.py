"""NumPy ``.npy`` files: a 2-D numeric array, memory-mapped and read in row slices.

Columns are named by their 0-based index (``"0"``, ``"1"``, …), so ``--target 2`` picks the third.
Rows are numbered from 1 in error messages.
"""

from __future__ import annotations

import numpy as np

from linsgd.data.checks import data_error, io_error
from linsgd.data.formats.base import Source


class NpySource(Source):
    """A 2-D ``.npy`` array; see :class:`~linsgd.data.formats.base.Source` for the arguments."""

    def __init__(self, path, **kw) -> None:
        try:
            self.array = np.load(path, mmap_mode="r", allow_pickle=False)
        except PermissionError as e:  # the OS refuses: an I/O failure (exit 4)
            raise io_error(path, e) from e
        except (ValueError, OSError) as e:
            raise data_error(path, None, f"not a readable .npy file ({e})") from e
        a = self.array
        if a.ndim != 2 or a.dtype.kind not in "iuf":
            raise data_error(path, None, f"needs a 2-D numeric array, found shape {a.shape} of {a.dtype}")
        self.num_rows = a.shape[0]
        self.types = [_float64()] * a.shape[1]
        super().__init__(path, [str(j) for j in range(a.shape[1])], **kw)

    @property
    def index(self) -> list[int]:
        return [int(c) for c in self.selected]

    def batches(self, types=None):
        """Typed reading (see :meth:`Source.batches`): float64 columns, rows numbered from 1."""
        import pyarrow as pa

        rows = max(1024, self.chunk_bytes // (8 * len(self.selected)))
        for start in range(0, self.num_rows, rows):
            values = np.asarray(self.array[start:start + rows][:, self.index], dtype=np.float64)
            lines = np.arange(start + 1, start + 1 + len(values))
            yield pa.RecordBatch.from_arrays(list(values.T), names=self.selected), None, lines, self.path


def _float64():
    import pyarrow as pa

    return pa.float64()
