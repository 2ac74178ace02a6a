"""``check_policy``: run every check on a policy and its environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from rltutor.diagnostics import _checks
from rltutor.diagnostics._actions import check_action_spec
from rltutor.diagnostics._finding import Finding, Findings

if TYPE_CHECKING:
    from tensordict.nn import InteractionType
    from torchrl.envs import EnvBase

__all__ = ["check_policy"]


# run in this order; the last one needs a forward pass, which the mistakes the others
# report (BLOCKING) would break
_CHECKS = (_checks.check_recurrent, _checks.check_policy_env_device,
           _checks.check_exploration_devices, _checks.check_qvalue, _checks.check_in_keys)
_BLOCKING = ("recurrent-no-init", "missing-in-key", "exploration-spec", "policy-env-device")


def check_policy(
    policy: nn.Module,
    env: EnvBase,
    *,
    exploration_type: InteractionType | str | None = None,
) -> Findings:
    """Look for the classic mistakes in ``policy`` running on ``env``; return what was found.

    The result is a list of :class:`Finding` (empty when nothing is wrong) that prints
    readably and renders as boxes in Jupyter.

    Args:
        policy: the policy: a TensorDict module, or anything else ``env.rollout`` accepts
            (``RandomPolicy``, a function of a TensorDict: only its actions are checked).
        env: the TorchRL environment it will run on.
        exploration_type: the mode you will roll out under (e.g. ``"mean"``); by default
            the current ``set_exploration_type`` context, else each probabilistic
            module's default.

    >>> from rltutor import make_env, make_actor
    >>> env = make_env("Pendulum-v1")
    >>> check_policy(make_actor(env), env)
    ✓ no known mistakes found
    """
    if not callable(policy):
        raise TypeError(
            f"check_policy needs a policy module (a TensorDictModule) or anything else "
            f"env.rollout accepts (RandomPolicy, a function of a TensorDict), "
            f"got {type(policy).__name__}"
        )
    if not hasattr(env, "full_action_spec"):
        raise TypeError(
            f"check_policy needs a TorchRL environment (EnvBase), got {type(env).__name__}"
        )
    if not isinstance(policy, nn.Module):  # no modules to look into: what it writes
        return Findings(check_action_spec(policy, env))
    found: list[Finding] = _checks.check_log_prob_key(policy)
    for check in _CHECKS:
        found += check(policy, env)
    if not any(f.code.startswith(_BLOCKING) for f in found):
        found += _checks.check_exploration_type(policy, env, exploration_type)
        if not any(f.code == "qvalue-action-space" for f in found):  # says it already
            found += check_action_spec(policy, env)
    return Findings(found)
