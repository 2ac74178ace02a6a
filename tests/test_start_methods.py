"""using_start_method: a start method for one block, the previous one back after."""

from __future__ import annotations

import multiprocessing

import pytest

from rltutor.start_methods import _forkserver_preload, using_start_method


def test_the_previous_method_comes_back_even_when_it_was_unset():
    saved = multiprocessing.get_start_method(allow_none=True)
    try:
        multiprocessing.set_start_method(None, force=True)
        with using_start_method("fork"):
            assert multiprocessing.get_start_method() == "fork"
        assert multiprocessing.get_start_method(allow_none=True) is None
    finally:
        multiprocessing.set_start_method(saved, force=True)


def test_a_failing_block_restores_the_method_and_the_preload():
    before, preload = multiprocessing.get_start_method(allow_none=True), _forkserver_preload()
    with pytest.raises(RuntimeError, match="half-way"):
        with using_start_method("forkserver", preload=["rltutor.addons.worker_preload"]):
            assert _forkserver_preload() == ["rltutor.addons.worker_preload"]
            raise RuntimeError("the block failed half-way")
    assert multiprocessing.get_start_method(allow_none=True) == before
    assert _forkserver_preload() == preload


def test_bad_arguments_say_what_is_accepted():
    with pytest.raises(ValueError, match="this platform offers"):
        with using_start_method("threads"):
            pass
    with pytest.raises(ValueError, match="for 'forkserver' only"):
        with using_start_method("fork", preload=["rltutor.addons.worker_preload"]):
            pass
