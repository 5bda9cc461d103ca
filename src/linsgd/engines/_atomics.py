"""Atomic counters for numba kernels that run at once on several threads (LLVM atomics, no locks).

``arrive(counter)`` adds 1 to ``counter[0]`` and ``wait_for(counter, target)`` returns once it reaches
``target``: a barrier between threads that each run a ``nogil`` kernel (:mod:`linsgd.engines._lockstep`).
The add is sequentially consistent and the read an acquire, so what a thread wrote before it arrived is
seen by every thread after its wait. A waiting thread spins a little, then gives its core away
(``sched_yield``) on each try, and after :data:`_YIELDS` such tries, on Linux, sleeps in the kernel (a futex on
``counter[0]``, woken by the next arrival, 1 ms at most: a lost wake-up costs time, never a hang), so that the
core goes to whatever else is runnable — on a shared machine, often the very thread it waits for. ``counter[1]``
counts the sleepers (an arrival wakes them only when there are some). The spin has no ``pause`` instruction:
under KVM a loop of them makes the hypervisor take the core away (pause-loop exiting); measured, the wide
lockstep epoch took 272 ms instead of 47 with 2,000 pauses per wait (load ~2 on the 2-vCPU VM).
"""

from __future__ import annotations

import platform
import sys

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_SPINS = 200  # tries before a waiting thread yields its core on every further try
_YIELDS = 50  # yielding tries before it sleeps (Linux)
_FUTEX = {"x86_64": 202, "amd64": 202, "aarch64": 98}.get(platform.machine().lower()) if sys.platform == "linux" \
    else None  # the futex system call's number, or None: no futex
_FUTEX_WAIT, _FUTEX_WAKE = 128, 129  # FUTEX_WAIT_PRIVATE, FUTEX_WAKE_PRIVATE
_NAP_NS = 1_000_000  # the longest sleep before a sleeper looks again


def _pointer(context, builder, sig, args, k):
    aryty = sig.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, aryty, ary, [context.get_constant(types.intp, k)])


def _i64(value):
    return ir.Constant(ir.IntType(64), value)


@intrinsic
def _add(typingctx, counter, k, value):
    """``counter[k] += value`` atomically (int64 array; k a literal); returns the old value."""
    def codegen(context, builder, sig, args):
        k = sig.args[1].literal_value
        return builder.atomic_rmw("add", _pointer(context, builder, sig, args, k), args[2], "seq_cst")
    if not isinstance(k, types.IntegerLiteral):
        return None
    return types.int64(counter, k, types.int64), codegen


@intrinsic
def _load(typingctx, counter, k):
    """``counter[k]`` read with sequentially consistent ordering (int64 array; k a literal)."""
    def codegen(context, builder, sig, args):
        return builder.load_atomic(_pointer(context, builder, sig, args, sig.args[1].literal_value), "seq_cst", 8)
    if not isinstance(k, types.IntegerLiteral):
        return None
    return types.int64(counter, k), codegen


@intrinsic
def _yield(typingctx):
    """``sched_yield()``: let another runnable thread have this core."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()
    return types.void(), codegen


def _futex(context, builder, sig, args, op, value, timeout):
    """``syscall(SYS_futex, &counter[0] (its low 32 bits), op, value, timeout, 0, 0)``; nothing without a futex."""
    if _FUTEX is None:  # never called there (wait_for yields instead), but compiled all the same
        return context.get_dummy_value()
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(64), [ir.IntType(64)],
                                                                        var_arg=True), "syscall")
    word = builder.ptrtoint(_pointer(context, builder, sig, args, 0), ir.IntType(64))
    builder.call(fn, [_i64(_FUTEX), word, _i64(op), value, timeout, _i64(0), _i64(0)])
    return context.get_dummy_value()


@intrinsic
def _sleep(typingctx, counter, seen):
    """Sleep while the low 32 bits of ``counter[0]`` equal those of ``seen``: until a wake, or 1 ms."""
    def codegen(context, builder, sig, args):
        ts_type = ir.LiteralStructType([ir.IntType(64), ir.IntType(64)])  # struct timespec {0 s, 1 ms}
        ts = cgutils.alloca_once(builder, ts_type)
        builder.store(ir.Constant(ts_type, [0, _NAP_NS]), ts)
        low = builder.and_(args[1], _i64(0xFFFFFFFF))
        return _futex(context, builder, sig, args, _FUTEX_WAIT, low, builder.ptrtoint(ts, ir.IntType(64)))
    return types.void(counter, types.int64), codegen


@intrinsic
def _wake(typingctx, counter):
    """Wake every thread asleep on ``counter[0]``."""
    def codegen(context, builder, sig, args):
        return _futex(context, builder, sig, args, _FUTEX_WAKE, _i64(0x7FFFFFFF), _i64(0))
    return types.void(counter), codegen


@njit(inline="always")
def arrive(counter):
    """One more thread has arrived: ``counter[0] += 1`` (atomic), and the sleepers woken."""
    _add(counter, 0, 1)
    if _FUTEX is not None and _load(counter, 1) > 0:
        _wake(counter)


@njit(inline="always")
def wait_for(counter, target):
    """Return once ``counter[0] >= target``."""
    tries = 0
    while _load(counter, 0) < target:
        tries += 1
        if tries <= _SPINS:
            continue
        if _FUTEX is None or tries <= _SPINS + _YIELDS:
            _yield()
        else:  # a sleeper first, then a last look: an arrival after it sees the sleeper, or changed the word
            _add(counter, 1, 1)
            seen = _load(counter, 0)
            if seen < target:
                _sleep(counter, seen)
            _add(counter, 1, -1)
