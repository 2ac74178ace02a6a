"""Check a TorchRL loss module against a batch: which keys it needs, and who writes them.

A loss reads its inputs from a batch of collected data (a rollout, a collector's batch,
a replay-buffer sample), never from the environment directly. :func:`check_loss` lines
up what the loss reads (``loss.in_keys``) against what the batch holds and returns
:class:`~rltutor.diagnostics.Findings`: one per missing key, saying which module should
have written it, plus a few classic mistakes (a batch collected with gradients on, the
old ``sample_log_prob`` name).

Keys a loss reads but computes itself are not asked of the batch: the target actor's
next action (``("next", "action")`` for DDPG), and the ``priority_weight`` that only a
prioritized replay buffer writes. :func:`batch_keys` gives that list.

    >>> import torch
    >>> from tensordict import TensorDict
    >>> from torchrl.modules import MLP, QValueActor
    >>> from torchrl.objectives import DQNLoss
    >>> actor = QValueActor(MLP(in_features=4, out_features=2), in_keys=["observation"],
    ...                     spec=None, action_space="one_hot")
    >>> loss = DQNLoss(actor, action_space="one_hot")
    >>> batch = TensorDict(observation=torch.zeros(5, 4), batch_size=[5])
    >>> [f.keys[0] for f in check_loss(loss, batch)][:2]
    ['action', 'next.done']
"""

from __future__ import annotations

from typing import Any

import torch

from rltutor._keys import Path, as_path, key_str, leaf_name, module_keys
from rltutor._kinds import is_loss_module
from rltutor._loss_keys import batch_keys, check_loss_module, loss_networks, tensor_key
from rltutor.diagnostics._finding import Finding, Findings

__all__ = ["batch_keys", "check_loss", "is_loss_module", "loss_networks"]  # re-exported

# Keys the environment writes on every step (under "next" after a step).
_ENV_LEAVES = {"reward", "done", "terminated", "truncated"}
def _present(td: Any) -> set[Path]:
    return {as_path(k) for k in td.keys(include_nested=True, leaves_only=True)}


def _writer(key: Path, loss: Any, modules: list[Any]) -> tuple[str, str]:
    """(who writes ``key``, the fix) for a key missing from the batch."""
    name = key_str(key)
    leaf = leaf_name(key)
    action = tensor_key(loss, "action") or ("action",)
    log_prob = tensor_key(loss, "sample_log_prob")
    if key[0] == "next" and (leaf in _ENV_LEAVES or len(key) > 1):
        return ("the environment, when it steps",
                "collect the batch with env.rollout(n, policy) or a Collector: both keep "
                f"'{name}' under 'next' (a TensorDict made by hand, or step_mdp, loses it)")
    for module in modules:
        if key in module_keys(module, "out_keys"):
            return (f"{type(module).__name__}",
                    f"run it on the batch, or collect with it, so '{name}' is written")
    if key == action:
        return ("the policy, while collecting",
                "collect the batch with the policy: env.rollout(n, policy) writes 'action'")
    if key == log_prob:
        return ("a ProbabilisticActor built with return_log_prob=True, while collecting",
                "collect with ProbabilisticActor(..., return_log_prob=True); the loss "
                "compares the new log-probability with this stored one")
    if leaf in ("advantage", "value_target"):
        return ("a value estimator such as GAE",
                "GAE(gamma=0.99, lmbda=0.95, value_network=value)(batch) writes "
                "'advantage' and 'value_target'")
    for attr, network in loss_networks(loss):
        if key in module_keys(network, "in_keys"):
            return ("the environment (an observation the loss's "
                    f"{attr} reads)",
                    f"collect the batch from an env whose observation spec has '{name}'")
    return ("something before the loss", f"write '{name}' into the batch")


def _missing_finding(key: Path, loss: Any, modules: list[Any], present: set[Path],
                     needed: list[Path]) -> Finding:
    name = key_str(key)
    who, fix = _writer(key, loss, modules)
    # the same name elsewhere (a root 'reward' for 'next.reward') is worth a word, unless
    # the loss reads it there too (a root 'observation' beside a missing 'next.observation')
    near = sorted(key_str(p) for p in present
                  if leaf_name(p) == leaf_name(key) and p != key and p not in needed)
    if near:
        fix += f" (the batch has {', '.join(near)}: the same name at another place)"
    return Finding(
        what=f"the batch has no '{name}', which {type(loss).__name__} reads",
        why=f"a loss reads its inputs from a batch of collected data; '{name}' is "
            f"written by {who}",
        fix=fix,
        code="loss-missing-key",
        keys=(name,),
    )


def _grad_finding(td: Any, read: list[Path]) -> list[Finding]:
    # only what the loss reads matters: a stored action_value it recomputes may keep its graph
    stored = [key_str(p) for p in read
              if torch.is_tensor(td.get(p)) and td.get(p).requires_grad]
    if not stored:
        return []
    return [Finding(
        what=f"the batch holds tensors that require grad ({', '.join(stored[:4])})",
        why="it was collected with gradients on, so the loss would backpropagate into the "
            "collection step (ClipPPOLoss refuses: 'tensordict stored ... requires grad')",
        fix="collect under torch.no_grad() (a Collector does it for you), or batch.detach()",
        code="loss-batch-requires-grad",
        keys=tuple(stored),
    )]


def check_loss(loss: Any, td: Any, *, modules: Any = ()) -> Findings:
    """What ``loss`` needs from ``td`` and does not find there, with who should write it.

    Args:
        loss: a TorchRL loss module (``DQNLoss``, ``ClipPPOLoss``, ``DDPGLoss``, ...).
        td: the batch the loss will be called on (a rollout, a collector batch, a sample).
        modules: TensorDict modules that could write keys (a value estimator such as
            ``GAE``, a policy); a missing key one of them writes names that module.

    Returns:
        :class:`~rltutor.diagnostics.Findings`, empty when the batch has what it needs.

    >>> import rltutor
    >>> from torchrl.objectives import DQNLoss
    >>> env = rltutor.make_env("CartPole-v1")
    >>> policy = rltutor.make_qvalue_policy(env)
    >>> loss = DQNLoss(policy, action_space=env.action_spec)
    >>> check_loss(loss, rltutor.rollout(env, policy, steps=5))
    ✓ no known mistakes found
    """
    check_loss_module(loss)
    if not (hasattr(td, "keys") and hasattr(td, "batch_size")):
        raise TypeError(f"td must be a TensorDict (the batch), got {type(td).__name__}")
    modules = list(modules) if isinstance(modules, (list, tuple)) else [modules]
    present = _present(td)
    findings = Findings()
    needed = batch_keys(loss)
    missing = [key for key in needed if key not in present]
    log_prob = tensor_key(loss, "sample_log_prob")
    if log_prob in missing and any(leaf_name(p) == "sample_log_prob" for p in present):
        findings.append(Finding(
            what="the batch has 'sample_log_prob' where the loss reads 'action_log_prob'",
            why="older TorchRL wrote 'sample_log_prob'; the pinned version writes and reads "
                "'action_log_prob'",
            fix="collect again with the current ProbabilisticActor, or "
                "loss.set_keys(sample_log_prob='sample_log_prob')",
            code="sample-log-prob", keys=("sample_log_prob",)))
        missing.remove(log_prob)
    findings += [_missing_finding(key, loss, modules, present, needed) for key in missing]
    findings += _grad_finding(td, [key for key in needed if key in present])
    return findings
