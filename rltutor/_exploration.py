"""The exploration modules TorchRL ships, named once for the views, widgets and diagnostics.

Classes are recognised by name along the class hierarchy (subclasses count), so this
module imports no torchrl: a display of a plain TensorDict stays cheap.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict.nn import ProbabilisticTensorDictModule

__all__ = ["EXPLORATION_MODULES", "exploration_class", "exploration_kind", "exploration_modules"]

# TorchRL class -> what it does to the action: "egreedy" replaces it at random, "noise"
# adds noise to it.
EXPLORATION_MODULES: dict[str, str] = {
    "EGreedyModule": "egreedy",
    "AdditiveGaussianModule": "noise",
    "OrnsteinUhlenbeckProcessModule": "noise",
}


def exploration_class(module: Any) -> str | None:
    """The name of the TorchRL exploration class ``module`` is (or derives from), else None.

    Args:
        module: any object.

    >>> from torchrl.data import Bounded
    >>> from torchrl.modules import AdditiveGaussianModule
    >>> exploration_class(AdditiveGaussianModule(spec=Bounded(-1.0, 1.0, shape=(1,))))
    'AdditiveGaussianModule'
    >>> exploration_class(torch.nn.Linear(2, 1)) is None
    True
    """
    for cls in type(module).__mro__:
        if cls.__name__ in EXPLORATION_MODULES:
            return cls.__name__
    return None


def exploration_kind(module: Any) -> str | None:
    """``"egreedy"``, ``"noise"`` or None: what ``module`` does to the action it explores.

    Args:
        module: any object.

    >>> exploration_kind(torch.nn.Linear(2, 1)) is None
    True
    """
    name = exploration_class(module)
    return None if name is None else EXPLORATION_MODULES[name]


def _point_mass(module: Any) -> bool:
    # Delta / TanhDelta (a Decision Transformer's actor): every "sample" is the same action
    dist = getattr(module, "distribution_class", None)
    return getattr(dist, "__name__", "") in ("Delta", "TanhDelta")


def exploration_modules(policy: Any) -> dict[str, list[torch.nn.Module]]:
    """The modules inside ``policy`` whose behaviour depends on the exploration type.

    Keys: ``"egreedy"`` (EGreedyModule), ``"noise"`` (additive Gaussian / OU noise),
    ``"probabilistic"`` (modules that sample from a distribution; a ``Delta`` or
    ``TanhDelta`` has nothing to sample and is left out).

    Args:
        policy: a policy module (anything else has no such modules).

    >>> exploration_modules(torch.nn.Linear(2, 1))
    {'egreedy': [], 'noise': [], 'probabilistic': []}
    """
    found: dict[str, list[torch.nn.Module]] = {"egreedy": [], "noise": [], "probabilistic": []}
    modules = policy.modules() if isinstance(policy, torch.nn.Module) else ()
    for module in modules:
        kind = exploration_kind(module)
        if kind is not None:
            found[kind].append(module)
        elif isinstance(module, ProbabilisticTensorDictModule) and not _point_mass(module):
            found["probabilistic"].append(module)
    return found
