"""Optional dependencies: PyTorch (``linsgd[torch]``), scikit-learn (``linsgd[sklearn]``), onnx (``linsgd[onnx]``).

The fused engine, the CLI, the exact solver and file training need neither. The reference engine,
``linsgd.scratch`` and training under torchrun need PyTorch; ``LinearRegressor`` needs scikit-learn;
``linsgd export --onnx`` needs onnx.
:func:`require` imports one of them where it is used, or raises one line naming the extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from linsgd.errors import MissingExtraError

# import name -> (extra, what the package is called when speaking to a user)
EXTRAS = {"torch": ("torch", "PyTorch"), "sklearn": ("sklearn", "scikit-learn"), "onnx": ("onnx", "onnx")}


def require(module: str, needed_by: str) -> ModuleType:
    """``import module`` (``"torch"``, ``"torch.distributed"``, ``"sklearn"``, …), or MissingExtraError.

    Args:
        module: the module to import; its top-level package must be a key of :data:`EXTRAS`.
        needed_by: what needs it, for the message (e.g. ``"the reference engine"``).

    Raises:
        MissingExtraError: the package is not installed (or fails to import), e.g. ``the reference engine
        needs PyTorch, which is not installed: pip install 'linsgd[torch]'``.
    """
    extra, name = EXTRAS[module.split(".")[0]]
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingExtraError(f"{needed_by} needs {name}, which is not installed: "
                                f"pip install 'linsgd[{extra}]'") from e
