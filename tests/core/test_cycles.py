"""CycleCollector: finished calls' reference cycles are freed every N calls, not at Python's whim."""

import gc
import weakref

from salvesti.core.cycles import CycleCollector


class Node:
    """Stands for a finished call: it references itself, as a call and its legs do."""

    def __init__(self) -> None:
        self.me = self


def test_collects_once_every_n_calls():
    runs = []
    cycles = CycleCollector(every=3, collect=lambda: runs.append(1) or 7)
    for _ in range(8):
        cycles.call_ended()
    assert len(runs) == 2
    assert cycles.last is not None and cycles.last[0] == 7


def test_zero_never_collects():
    runs = []
    cycles = CycleCollector(every=0, collect=lambda: runs.append(1) or 0)
    for _ in range(5):
        cycles.call_ended()
    assert runs == [] and cycles.last is None


def test_a_finished_calls_cycle_is_freed_by_the_nth_call():
    was = gc.isenabled()
    gc.disable()  # only the collector may free it
    try:
        node = Node()
        gone = weakref.ref(node)
        del node
        cycles = CycleCollector(every=2)
        cycles.call_ended()
        assert gone() is not None  # reference counting alone never frees a cycle
        cycles.call_ended()
        assert gone() is None
        assert cycles.last is not None and cycles.last[0] >= 1
    finally:
        if was:
            gc.enable()
