"""rltutor.contract: the exploration-type table is measured, labels each case, keeps the RNG."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict

import rltutor
from rltutor.contract import ROWS, exploration_table, table_to_text


@pytest.fixture(scope="module")
def columns():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    cartpole = rltutor.make_env("CartPole-v1", seed=0)
    actor = rltutor.make_actor(env, num_cells=(8,), seed=0)
    td = env.reset()
    return {
        "TanhNormal": (rltutor.make_gaussian_actor(env, bounded=True, num_cells=(8,)), td),
        "Normal": (rltutor.make_gaussian_actor(env, bounded=False, num_cells=(8,)), td),
        "categorical": (rltutor.make_categorical_actor(cartpole), cartpole.reset()),
        "EGreedy": (rltutor.with_egreedy(actor, env, eps=0.5), td),
        "Gaussian noise": (rltutor.with_gaussian_noise(actor, env, sigma=0.3), td),
        "OU noise": (rltutor.with_ou_noise(actor, env), td),
    }


def test_the_contract_as_lesson_04_states_it(columns):
    table = exploration_table(columns, calls=20, seed=0)
    assert list(table) == list(ROWS)
    samplers, modules = ("TanhNormal", "Normal", "categorical"), ("EGreedy", "Gaussian noise",
                                                                  "OU noise")
    # no type set: samplers use default_interaction_type (deterministic), modules explore
    assert all(table["None"][c] == "= deterministic" for c in samplers)
    assert all(table["None"][c] == "random" for c in modules)
    assert set(table["RANDOM"].values()) == {"random"}
    assert set(table["DETERMINISTIC"].values()) == {"= deterministic"}
    for row in ("MEAN", "MODE"):
        assert all(table[row][c] == "= deterministic" for c in modules)
    assert table["MEAN"]["TanhNormal"] == "random"  # an estimate from samples
    assert table["MODE"]["TanhNormal"] == "error: RuntimeError"
    assert table["MEAN"]["categorical"] == "nan: no action"
    assert table["MEAN"]["Normal"] == table["MODE"]["Normal"] == "= deterministic"


def test_table_is_reproducible_and_leaves_the_global_rng_alone(columns):
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    first = exploration_table(columns, calls=5, seed=1)
    assert torch.equal(torch.rand(2), expected)
    assert exploration_table(columns, calls=5, seed=1) == first


def test_fixed_but_different_action_gets_its_own_label():
    from tensordict.nn import TensorDictModule
    from torchrl.envs.utils import ExplorationType, exploration_type

    def shifted(x):  # 1 under MODE, 0 otherwise: fixed, yet not the deterministic action
        return x + float(exploration_type() is ExplorationType.MODE)

    policy = TensorDictModule(shifted, in_keys=["x"], out_keys=["action"])
    table = exploration_table({"odd": (policy, TensorDict(x=torch.zeros(1)))}, calls=3)
    assert table["MODE"]["odd"] == "fixed, ≠ deterministic"
    assert table["None"]["odd"] == "= deterministic"


def test_bad_rows_and_calls_are_refused(columns):
    one = {"EGreedy": columns["EGreedy"]}
    with pytest.raises(ValueError, match="unknown row.*'SOMETIMES'.*accepted: 'None'"):
        exploration_table(one, rows=("SOMETIMES",))
    with pytest.raises(ValueError, match="calls must be at least 2"):
        exploration_table(one, calls=1)


def test_table_to_text_aligns_columns():
    text = table_to_text({"None": {"a": "random"}, "DETERMINISTIC": {"a": "x"}})
    lines = text.splitlines()
    assert lines[0].split() == ["type", "a"]
    assert lines[1].index("random") == lines[2].index("x") == lines[0].index("a")

