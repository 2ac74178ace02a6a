"""Lesson 15's check: the solution passes, typical mistakes fail with a useful message."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from torchrl.objectives import DQNLoss, SoftUpdate

from rltutor.exercises import lesson15 as ex


@pytest.fixture(scope="module")
def sol():
    return load_solution("15_silent_bugs")


def test_fixed_parts_unanswered_is_not_done():
    assert ex.check_fixed_parts(None).status == "not done yet"


def test_fixed_parts_solution_passes_and_leaves_the_rng_alone(sol):
    state = torch.random.get_rng_state()
    feedback = ex.check_fixed_parts(sol.solve_fixed_parts)
    assert feedback.passed, feedback
    assert torch.equal(state, torch.random.get_rng_state())


def test_the_mystery_learns_nothing_on_the_seeds_the_check_uses():
    # the bug is real: the same loop and budget as the check, no learning at all
    for seed in ex.SEEDS:
        assert max(ex.train(**ex.mystery_parts(seed))) < 30


def test_fixed_parts_mistake_keeping_the_stale_updater_fails():
    def tuned_lr(seed):  # changes a setting, keeps the bug
        parts = ex.mystery_parts(seed)
        parts["optimizer"] = torch.optim.Adam(parts["loss"].parameters(), lr=1e-3)
        return parts

    feedback = ex.check_fixed_parts(tuned_lr)
    assert feedback.status == "wrong"
    assert "target updater steps another" in feedback.message
    assert "SoftUpdate" not in feedback.hint  # says where to look, not the answer


def test_fixed_parts_mistake_swapping_in_another_loss_fails():
    def plain_dqn(seed):  # passes every check, but is not the mystery's loop fixed
        parts = ex.mystery_parts(seed)
        loss = DQNLoss(parts["policy"], action_space=parts["env"].action_spec,
                       delay_value=True)
        return {**parts, "loss": loss, "target_updater": SoftUpdate(loss, tau=0.01),
                "optimizer": torch.optim.Adam(loss.parameters(), lr=ex.LR)}

    feedback = ex.check_fixed_parts(plain_dqn)
    assert feedback.status == "wrong"
    assert "double-DQN" in feedback.message


def test_fixed_parts_mistake_bad_return_values_are_explained():
    assert "returned NoneType" in ex.check_fixed_parts(lambda seed: None).message
    feedback = ex.check_fixed_parts(lambda seed: {"policy": None})
    assert "has no 'env'" in feedback.message
    assert ex.check_fixed_parts(42).status == "wrong"


def test_fixed_parts_nearest_cell_fails():
    # the cell above the check, adapted: the mystery's own parts, another seed
    feedback = ex.check_fixed_parts(lambda seed: ex.mystery_parts(seed=seed + 3))
    assert feedback.status == "wrong"
    assert "check_training still finds" in feedback.message
