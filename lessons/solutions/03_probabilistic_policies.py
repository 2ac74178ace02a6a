"""Solutions to the exercises of lesson 03 (try them yourself first)."""

from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.envs.utils import ExplorationType
from torchrl.modules import MLP, OneHotCategorical, ProbabilisticActor, TanhNormal


def solve_random_modes():
    """RANDOM samples; MEAN of a TanhNormal is estimated from fresh samples every call."""
    return {ExplorationType.RANDOM, ExplorationType.MEAN}


def solve_gentle_actor(env):
    """TanhNormal squashes every sample into [low, high]; here we pick [-1, 1] ourselves."""
    backbone = TensorDictModule(
        nn.Sequential(MLP(out_features=2, num_cells=[64]), NormalParamExtractor()),
        in_keys=["observation"],
        out_keys=["loc", "scale"],
    )
    return ProbabilisticActor(
        backbone,
        in_keys=["loc", "scale"],
        spec=env.action_spec,
        distribution_class=TanhNormal,
        distribution_kwargs={"low": -1.0, "high": 1.0},
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
