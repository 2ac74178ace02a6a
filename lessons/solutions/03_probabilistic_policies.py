"""Solutions to the exercises of lesson 03 (try them yourself first)."""

import torch
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.data import Bounded
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import MLP, OneHotCategorical, ProbabilisticActor, TanhNormal


def solve_car_actor():
    """Two actions need a loc and a scale each (4 outputs), and each keeps its own bounds."""
    car_spec = Bounded(low=torch.tensor([-1.0, 0.0]), high=torch.tensor([1.0, 1.0]))
    backbone = TensorDictModule(
        nn.Sequential(MLP(out_features=2 * car_spec.shape[-1], num_cells=[64]),
                      NormalParamExtractor()),
        in_keys=["observation"],
        out_keys=["loc", "scale"],
    )
    return ProbabilisticActor(
        backbone,
        in_keys=["loc", "scale"],
        spec=car_spec,
        distribution_class=TanhNormal,
        distribution_kwargs={"low": car_spec.space.low, "high": car_spec.space.high},
        return_log_prob=True,
    )


def solve_probs_actor(cartpole_env):
    """The in_keys are the distribution's keyword names: OneHotCategorical(probs=...)."""
    backbone = TensorDictModule(
        nn.Sequential(MLP(out_features=2, num_cells=[32]), nn.Softmax(dim=-1)),
        in_keys=["observation"],
        out_keys=["probs"],
    )
    return ProbabilisticActor(
        backbone,
        in_keys=["probs"],
        spec=cartpole_env.action_spec,
        distribution_class=OneHotCategorical,
        return_log_prob=True,
    )


def solve_normal_random_modes(normal_actor, obs):
    """Call the actor 20 times under each type; keep the types that gave several actions.

    The prediction first: a Normal has formulas for its mean and its mode (both are loc),
    so only RANDOM should vary.
    """
    varying = set()
    for kind in (ExplorationType.RANDOM, ExplorationType.DETERMINISTIC, ExplorationType.MODE,
                 ExplorationType.MEAN, ExplorationType.MEDIAN):
        try:
            with set_exploration_type(kind), torch.no_grad():
                actions = {tuple(normal_actor(obs.clone())["action"].tolist()) for _ in range(20)}
        except Exception:  # noqa: BLE001 - MEDIAN: no formula, so no action at all
            continue
        if len(actions) > 1:
            varying.add(kind)
    return varying  # {ExplorationType.RANDOM}
