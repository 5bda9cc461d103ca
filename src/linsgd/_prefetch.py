"""``prefetch(a, i, j)`` and ``prefetch_l2(a, i, j)``: cache hints callable from numba kernels (LLVM's
llvm.prefetch intrinsic).

numba exposes no prefetch; kernels that read memory in an order the hardware cannot predict (a shuffled
row order, a bucket about to be shuffled in place) use it to keep several cache misses in flight.
``prefetch`` brings the line into every level (L1 too); ``prefetch_l2`` stops at L2, which holds far more
lines in flight without evicting what the kernel is computing on from L1.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _hint(locality: int):
    """The intrinsic of a read prefetch with LLVM's ``locality`` (3: every cache level, 2: L2 and below)."""
    def hint(typingctx, arr, i, j):
        return _signature_and_codegen(locality, arr, i, j)
    return intrinsic(hint)


def _signature_and_codegen(locality, arr, i, j):
    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = [context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], sig.args[1:], strict=True)]
        idx = idx[:aryty.ndim]  # a 1-D array ignores j
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(locality), i32(1)])  # read, locality, data
        return context.get_dummy_value()
    return types.void(arr, i, j), codegen


prefetch = _hint(3)
prefetch.__doc__ = "Hint the CPU to bring ``arr[i, j]`` (``arr[i]`` of a 1-D array) into every cache level."
prefetch_l2 = _hint(2)
prefetch_l2.__doc__ = "Hint the CPU to bring ``arr[i, j]`` (``arr[i]`` of a 1-D array) into L2; changes no value."
