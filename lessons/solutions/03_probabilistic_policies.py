"""Solutions to the exercises of lesson 03 (try them yourself first)."""

from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.envs.utils import ExplorationType
from torchrl.modules import MLP, OneHotCategorical, ProbabilisticActor, TanhNormal


def solve_bounded_actor(env):
    """TanhNormal squashes every sample into the spec's [low, high]."""
    backbone = TensorDictModule(
        nn.Sequential(MLP(out_features=2, num_cells=[64]), NormalParamExtractor()),
        in_keys=["observation"],
        out_keys=["loc", "scale"],
    )
    spec = env.action_spec
    return ProbabilisticActor(
        backbone,
        in_keys=["loc", "scale"],
        spec=spec,
        distribution_class=TanhNormal,
        distribution_kwargs={"low": spec.space.low, "high": spec.space.high},
        return_log_prob=True,
    )


def solve_categorical_actor(cartpole_env):
    """Logits in, one-hot action out: CartPole's action spec is one-hot."""
    backbone = TensorDictModule(
        MLP(out_features=2, num_cells=[32]), in_keys=["observation"], out_keys=["logits"]
    )
    return ProbabilisticActor(
        backbone,
        in_keys=["logits"],
        spec=cartpole_env.action_spec,
        distribution_class=OneHotCategorical,
        return_log_prob=True,
    )


def solve_random_modes():
    """RANDOM samples; MEAN of a TanhNormal is estimated from fresh samples every call."""
    return {ExplorationType.RANDOM, ExplorationType.MEAN}
