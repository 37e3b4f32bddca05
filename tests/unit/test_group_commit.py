"""Group commit: threads that arrive while a batch runs share the next one; each gets its own
outcome, or its own exception."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest

from payments.domain.services.group_commit import GroupCommit


def _submit_all(group: GroupCommit[int, str], items: Sequence[int]) -> dict[int, str]:
    """Submit each item from its own thread; every item's result, or its error's repr."""
    answers: dict[int, str] = {}

    def submit(item: int) -> None:
        try:
            answers[item] = group.submit(item)
        except Exception as error:  # told to the assertions
            answers[item] = repr(error)

    threads = [threading.Thread(target=submit, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return answers


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition never held")
        time.sleep(0.001)


def _queued_behind_the_first(
    group: GroupCommit[int, str],
    started: threading.Event,
    release: threading.Event,
    items: Sequence[int],
) -> dict[int, str]:
    """Submit 0, whose batch sets ``started`` and runs until ``release``; meanwhile submit
    ``items``, each from its own thread; once all of them are queued, release the first batch.
    Every item's answer."""
    first = threading.Thread(target=group.submit, args=(0,))
    first.start()
    started.wait(timeout=10)
    answers: dict[int, str] = {}
    others = threading.Thread(target=lambda: answers.update(_submit_all(group, items)))
    others.start()
    _wait_until(lambda: group.waiting == len(items))
    release.set()
    others.join(timeout=10)
    first.join(timeout=10)
    return answers


def test_an_item_alone_is_a_batch_of_its_own_run_at_once() -> None:
    batches: list[list[int]] = []

    def run(items: Sequence[int]) -> list[str]:
        batches.append(list(items))
        return [f"done {item}" for item in items]

    group: GroupCommit[int, str] = GroupCommit(run, most=8)

    assert group.submit(1) == "done 1"
    assert group.submit(2) == "done 2"
    assert batches == [[1], [2]]
    assert group.waiting == 0


def test_items_that_arrive_while_a_batch_runs_share_the_next_batch_up_to_the_most() -> None:
    batches: list[list[int]] = []
    started, release = threading.Event(), threading.Event()

    def run(items: Sequence[int]) -> list[str]:
        batches.append(list(items))
        if items == [0]:
            started.set()
            release.wait(timeout=10)  # the first batch runs until the others are queued
        return [f"done {item}" for item in items]

    group: GroupCommit[int, str] = GroupCommit(run, most=4)

    answers = _queued_behind_the_first(group, started, release, range(1, 10))

    assert answers == {item: f"done {item}" for item in range(1, 10)}
    assert [len(batch) for batch in batches] == [1, 4, 4, 1]
    assert sorted(item for batch in batches for item in batch) == list(range(10))
    assert group.waiting == 0


def test_each_caller_gets_its_own_exception_and_the_others_their_results() -> None:
    started, release = threading.Event(), threading.Event()

    def run(items: Sequence[int]) -> list[str | BaseException]:
        if items == [0]:
            started.set()
            release.wait(timeout=10)
        return [ValueError(f"bad {item}") if item % 2 else f"done {item}" for item in items]

    group: GroupCommit[int, str] = GroupCommit(run, most=8)

    answers = _queued_behind_the_first(group, started, release, range(1, 5))

    assert answers == {
        1: "ValueError('bad 1')",
        2: "done 2",
        3: "ValueError('bad 3')",
        4: "done 4",
    }


def test_a_batch_that_raises_fails_all_of_its_callers_and_the_next_batch_still_runs() -> None:
    def run(items: Sequence[int]) -> list[str]:
        if 13 in items:
            raise RuntimeError("the store went away")
        return [f"done {item}" for item in items]

    group: GroupCommit[int, str] = GroupCommit(run, most=8)

    with pytest.raises(RuntimeError, match="the store went away"):
        group.submit(13)
    assert group.submit(14) == "done 14"


def test_a_batch_that_answers_the_wrong_number_of_outcomes_fails_its_callers() -> None:
    group: GroupCommit[int, str] = GroupCommit(lambda items: ["one"] * (len(items) + 1), most=2)

    with pytest.raises(RuntimeError, match="gave 2 outcomes"):
        group.submit(1)


def test_hundreds_of_threads_each_get_their_own_result() -> None:
    sizes: list[int] = []

    def run(items: Sequence[int]) -> list[str]:
        sizes.append(len(items))
        time.sleep(0.001)  # long enough for others to queue
        return [f"done {item}" for item in items]

    group: GroupCommit[int, str] = GroupCommit(run, most=16)

    answers = _submit_all(group, range(300))

    assert answers == {item: f"done {item}" for item in range(300)}
    assert sum(sizes) == 300
    assert max(sizes) <= 16
    assert group.waiting == 0


def test_a_batch_holds_at_least_one_item() -> None:
    with pytest.raises(ValueError, match="at least one"):
        GroupCommit(list, most=0)
