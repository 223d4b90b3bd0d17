"""ogmem's own processes keep numpy's BLAS to one thread unless the operator chose."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info, threadpool_limits  # type: ignore[import-untyped]

from ogmem import threads


def _blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.fixture
def restored() -> object:
    with threadpool_limits(limits=None) as limiter:  # restores what the test changed
        yield limiter


@pytest.mark.usefixtures("restored")
def test_one_blas_thread_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in threads.OPERATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    threadpool_limits(limits=2, user_api="blas")
    assert threads.limit_blas_threads() is True
    assert _blas_threads() == {1}


@pytest.mark.usefixtures("restored")
def test_an_operator_choice_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    threadpool_limits(limits=2, user_api="blas")
    assert threads.limit_blas_threads() is False
    assert _blas_threads() == {2}
