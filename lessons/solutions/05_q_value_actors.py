"""Solutions to lesson 05's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

from collections.abc import Callable

from tensordict import TensorDictBase
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.envs import EnvBase, GymEnv
from torchrl.modules import MLP, EGreedyModule, QValueModule


def solve_index_qvalue_policy() -> tuple[TensorDictSequential, GymEnv]:
    """Acrobot with index actions, and a Q-value policy whose QValueModule reads its spec."""
    index_env = GymEnv("Acrobot-v1", categorical_action_encoding=True)
    n_obs = index_env.observation_spec["observation"].shape[-1]
    n_actions = index_env.action_spec.space.n
    net = MLP(in_features=n_obs, out_features=n_actions, num_cells=[32])
    value_net = TensorDictModule(net, in_keys=["observation"], out_keys=["action_value"])
    return TensorDictSequential(value_net, QValueModule(spec=index_env.action_spec)), index_env


def solve_overridden_fraction(balancer: TensorDictSequential, explored_td: TensorDictBase,
                              env: EnvBase) -> Callable[[float], float]:
    """overridden_fraction(eps): e-greedy with that eps after the balancer, on stored steps."""
    def overridden_fraction(eps: float) -> float:
        egreedy = EGreedyModule(spec=env.action_spec, eps_init=eps, eps_end=eps)
        out = TensorDictSequential(balancer, egreedy)(explored_td.select("observation").clone())
        changed = out["action"].argmax(-1) != out["action_value"].argmax(-1)
        return changed.float().mean().item()

    return overridden_fraction
