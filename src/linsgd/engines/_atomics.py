"""Atomic counters for numba kernels that run at once on several threads (LLVM atomics, no locks).

``arrive(counter)`` adds 1 to ``counter[0]`` and ``wait_for(counter, target)`` returns once it reaches
``target``: a barrier between threads that each run a ``nogil`` kernel (:mod:`linsgd.engines._lockstep`).
The add is sequentially consistent and the read an acquire, so what a thread wrote before it arrived is
seen by every thread after its wait. A waiting thread spins a little, then gives its core away
(``sched_yield``) on each try: the machines linsgd targets have few cores, often shared.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_SPINS = 200  # tries before a waiting thread yields its core on every further try


def _pointer(context, builder, sig, args):
    aryty = sig.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, aryty, ary, [context.get_constant(types.intp, 0)])


@intrinsic
def _add(typingctx, counter):
    """``counter[0] += 1`` atomically (int64 array); returns the old value."""
    def codegen(context, builder, sig, args):
        return builder.atomic_rmw("add", _pointer(context, builder, sig, args), ir.Constant(ir.IntType(64), 1),
                                  "seq_cst")
    return types.int64(counter), codegen


@intrinsic
def _load(typingctx, counter):
    """``counter[0]`` read with acquire ordering (int64 array)."""
    def codegen(context, builder, sig, args):
        return builder.load_atomic(_pointer(context, builder, sig, args), "acquire", 8)
    return types.int64(counter), codegen


@intrinsic
def _yield(typingctx):
    """``sched_yield()``: let another runnable thread have this core."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()
    return types.void(), codegen


@njit(inline="always")
def arrive(counter):
    """One more thread has arrived: ``counter[0] += 1`` (atomic)."""
    _add(counter)


@njit(inline="always")
def wait_for(counter, target):
    """Return once ``counter[0] >= target``."""
    tries = 0
    while _load(counter) < target:
        tries += 1
        if tries > _SPINS:
            _yield()
