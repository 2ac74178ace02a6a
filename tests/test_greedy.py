"""The greedy action recorded during the rollout (issue 11, items 2, 3 and 5): right for
policies that overwrite their inputs, free when nothing explores, None for RandomPolicy."""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import Compose, InitTracker, ObservationNorm, TransformedEnv
from torchrl.envs.utils import RandomPolicy
from torchrl.modules import MLP, EGreedyModule, LSTMModule, QValueModule

import rltutor
from rltutor._greedy import explored_mask, record_greedy
from rltutor.rollouts import deterministic_actions


def run(env, policy, exploration, steps=40):
    with record_greedy(policy, exploration) as recorder, torch.no_grad():
        td = rltutor.rollout(env, policy, steps=steps, exploration=exploration, seed=1,
                             break_when_done=False)
    return td, *recorder.result(td)


def normalised_actor(pendulum) -> TensorDictSequential:
    """A deterministic actor that normalises its own observation, in place."""
    torch.manual_seed(0)
    norm = ObservationNorm(loc=torch.zeros(3), scale=torch.full((3,), 2.0),
                           in_keys=["observation"])
    actor = TensorDictModule(nn.Linear(3, 1), in_keys=["observation"], out_keys=["action"])
    return TensorDictSequential(norm, actor)


def test_in_place_preprocessing_is_not_exploration(pendulum):
    policy = normalised_actor(pendulum)
    td, greedy, explored = run(pendulum, policy, "deterministic")
    assert not explored.any()
    torch.testing.assert_close(greedy, td["action"])
    # re-running the policy on the stored, already normalised observation is refused: it
    # used to give other actions and mark almost every step as exploratory
    with pytest.raises(ValueError, match="rewrites 'observation' in place.*record_greedy"):
        deterministic_actions(policy, td)
    with torch.no_grad():  # normalised twice
        again = policy(td.select("observation").clone())["action"]
    assert explored_mask(td["action"], again).float().mean() > 0.9


def test_noise_on_an_in_place_policy_marks_only_the_noise(pendulum):
    base = normalised_actor(pendulum)
    policy = rltutor.with_gaussian_noise(base, pendulum)
    td, greedy, explored = run(pendulum, policy, "random")
    assert explored.all()
    # the greedy action is the actor's on what it read: the stored, normalised observation
    linear = base[1].module
    with torch.no_grad():
        torch.testing.assert_close(greedy, linear(td["observation"]))
    assert (td["action"] - greedy).abs().min() > 0.0  # and the rest is the noise


def lstm_q_policy(env_base, in_place: bool):
    """DQN with an RNN, as TorchRL's tutorial builds it; ``in_place`` writes the LSTM's
    output over its input (out_key == in_key)."""
    torch.manual_seed(0)
    out_key = "observation" if in_place else "embed"
    size = 4 if in_place else 16
    lstm = LSTMModule(input_size=4, hidden_size=size, in_key="observation", out_key=out_key)
    env = TransformedEnv(env_base, Compose(InitTracker(), lstm.make_tensordict_primer()))
    q = TensorDictModule(MLP(in_features=size, out_features=2, num_cells=[16]),
                         in_keys=[out_key], out_keys=["action_value"])
    greedy = TensorDictSequential(lstm, q, QValueModule(spec=env.action_spec))
    explore = EGreedyModule(env.action_spec, eps_init=0.3, eps_end=0.3)
    return env, greedy, TensorDictSequential(greedy, explore)


@pytest.mark.parametrize("in_place", [False, True])
def test_lstm_q_policy_greedy_action_is_the_argmax_it_took(cartpole, in_place):
    env, greedy_policy, policy = lstm_q_policy(cartpole, in_place)
    td, greedy, explored = run(env, policy, "random", steps=60)
    # the greedy action is the argmax of the Q-values the policy computed at each step
    best = torch.nn.functional.one_hot(td["action_value"].argmax(-1), 2)
    assert torch.equal(greedy, best)
    assert torch.equal(explored, (td["action"] != best).any(-1))
    assert 0.0 < explored.float().mean() < 0.4
    # with epsilon 0, nothing explored
    policy[-1].eps.fill_(0.0)
    assert not run(env, policy, "random")[2].any()


def test_nothing_is_recorded_when_nothing_explores(pendulum):
    policy = normalised_actor(pendulum)
    with record_greedy(policy, "random") as recorder:
        assert not recorder.active and recorder._handles == []
    egreedy = rltutor.with_egreedy(rltutor.make_qvalue_policy(rltutor.make_env("CartPole-v1")),
                                   rltutor.make_env("CartPole-v1"))
    with record_greedy(egreedy, "deterministic") as recorder:
        assert not recorder.active  # a deterministic rollout takes its greedy action


def test_probabilistic_actor_greedy_is_its_deterministic_action(pendulum):
    actor = rltutor.make_gaussian_actor(pendulum)
    td, greedy, explored = run(pendulum, actor, "random")
    assert explored.all()
    torch.testing.assert_close(greedy, deterministic_actions(actor, td))
    det_td, det_greedy, det_explored = run(pendulum, actor, "deterministic")
    assert not det_explored.any()


def test_recording_does_not_change_the_rollout(pendulum, cartpole):
    for env, policy in ((pendulum, rltutor.make_gaussian_actor(pendulum)),
                        (cartpole, rltutor.with_egreedy(rltutor.make_qvalue_policy(cartpole),
                                                        cartpole, eps=0.5))):
        recorded = run(env, policy, "random")[0]
        with torch.no_grad():
            plain = rltutor.rollout(env, policy, steps=40, exploration="random", seed=1,
                                    break_when_done=False)
        assert torch.equal(recorded["action"], plain["action"])


def test_random_policy_has_no_greedy_action(pendulum):
    td, greedy, explored = run(pendulum, RandomPolicy(pendulum.action_spec), "deterministic")
    assert greedy is None and explored.all() and explored.shape == td.shape
