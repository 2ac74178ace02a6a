"""The exploration modules TorchRL ships, named once for the views, widgets and diagnostics.

Classes are recognised by name along the class hierarchy (subclasses count), so this
module imports no torchrl: a display of a plain TensorDict stays cheap.
:func:`policy_profile` looks into a policy once and says everything the explorer needs
to know about how it explores (:class:`PolicyProfile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from tensordict.nn import ProbabilisticTensorDictModule

__all__ = ["EXPLORATION_MODULES", "PolicyProfile", "exploration_class", "exploration_kind",
           "exploration_modules", "is_random_policy", "keeps_last_of_window",
           "policy_profile"]

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


def is_random_policy(policy: Any) -> bool:
    """True for ``torchrl.envs.utils.RandomPolicy`` (and look-alikes): a callable that draws
    ``action_spec.rand()`` and declares no keys; every action it takes explores.

    Args:
        policy: anything.

    >>> from torchrl.data import Bounded
    >>> from torchrl.envs.utils import RandomPolicy
    >>> is_random_policy(RandomPolicy(Bounded(-1.0, 1.0, shape=(1,)))), is_random_policy(len)
    (True, False)
    """
    return (not isinstance(policy, torch.nn.Module) and hasattr(policy, "action_spec")
            and hasattr(policy, "action_key"))


def keeps_last_of_window(policy: Any) -> bool:
    """True for a ``DecisionTransformerInferenceWrapper``: its actor acts on the whole
    context window and the wrapper keeps the window's last action as the step's action
    (so does any greedy action recorded inside it).

    Args:
        policy: any object.

    >>> keeps_last_of_window(torch.nn.Linear(2, 1))
    False
    """
    return any(cls.__name__ == "DecisionTransformerInferenceWrapper"
               for cls in type(policy).__mro__)


@dataclass(frozen=True)
class PolicyProfile:
    """How a policy explores, looked up once (see :func:`policy_profile`).

    ``egreedy``/``noise``/``probabilistic``: the modules of each kind
    (:func:`exploration_modules`); ``random_policy``: a ``RandomPolicy``, every action a
    draw from the spec; ``window``: a Decision Transformer wrapper keeping the last of
    its actor's context window (:func:`keeps_last_of_window`).
    """

    egreedy: tuple[torch.nn.Module, ...] = ()
    noise: tuple[torch.nn.Module, ...] = ()
    probabilistic: tuple[torch.nn.Module, ...] = ()
    random_policy: bool = False
    window: bool = False

    @property
    def explores(self) -> bool:
        """Something in the policy acts differently under another exploration type."""
        return bool(self.egreedy or self.noise or self.probabilistic)

    @property
    def samples(self) -> bool:
        """A distribution draws the action (the "sampled" and "≠ deterministic" counts)."""
        return bool(self.probabilistic)

    @property
    def replaces(self) -> bool:
        """A module replaces (ε-greedy) or perturbs (noise) the action it is given."""
        return bool(self.egreedy or self.noise)

    @property
    def samples_only(self) -> bool:
        """It samples, and nothing replaces its samples: the explorer draws the band of
        its distribution, not a mark on every (sampled) step."""
        return self.samples and not self.replaces

    @property
    def noise_module(self) -> torch.nn.Module | None:
        """The one noise module on a deterministic actor (its noise band is drawn around
        the unperturbed action), else None."""
        alone = len(self.noise) == 1 and not (self.egreedy or self.probabilistic)
        return self.noise[0] if alone else None


def policy_profile(policy: Any) -> PolicyProfile:
    """Look into ``policy`` once: its exploration modules and what kind of policy it is.

    Args:
        policy: a policy module, ``RandomPolicy`` or a function of a TensorDict.

    >>> from torchrl.data import Bounded
    >>> from torchrl.modules import AdditiveGaussianModule
    >>> profile = policy_profile(AdditiveGaussianModule(spec=Bounded(-1.0, 1.0, shape=(1,))))
    >>> profile.explores, profile.samples, type(profile.noise_module).__name__
    (True, False, 'AdditiveGaussianModule')
    """
    found = exploration_modules(policy)
    return PolicyProfile(egreedy=tuple(found["egreedy"]), noise=tuple(found["noise"]),
                         probabilistic=tuple(found["probabilistic"]),
                         random_policy=is_random_policy(policy),
                         window=keeps_last_of_window(policy))
