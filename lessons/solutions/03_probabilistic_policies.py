"""Solutions to the exercises of lesson 03 (try them yourself first)."""

from tensordict.nn import NormalParamExtractor, TensorDictModule
import torch
from torch import nn
from torchrl.envs.utils import ExplorationType
from torchrl.modules import MLP, OneHotCategorical, ProbabilisticActor, TanhNormal


def solve_normal_random_modes(normal_actor, obs):
    """Call the actor twice under each type; keep the types whose two actions differ."""
    from torchrl.envs.utils import set_exploration_type

    varying = set()
    for kind in ExplorationType:
        try:
            with set_exploration_type(kind), torch.no_grad():
                first, second = (normal_actor(obs.clone())["action"] for _ in range(2))
        except Exception:  # noqa: BLE001 - MEDIAN: no formula, so no action at all
            continue
        if not torch.equal(first, second):
            varying.add(kind)
    return varying  # {ExplorationType.RANDOM}: a Normal has formulas for MEAN and MODE


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
