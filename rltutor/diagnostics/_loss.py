"""Check a TorchRL loss module against a batch: which keys it needs, and who writes them.

A loss reads its inputs from a batch of collected data (a rollout, a collector's batch,
a replay-buffer sample), never from the environment directly. :func:`check_loss` lines
up what the loss reads (``loss.in_keys``) against what the batch holds and returns
:class:`~rltutor.diagnostics.Findings`: one per missing key, saying which module should
have written it, plus a few classic mistakes (a batch collected with gradients on, the
old ``sample_log_prob`` name).

Keys a loss reads but computes itself are not asked of the batch: the target actor's
next action (``("next", "action")`` for DDPG), the ``priority_weight`` that only a
prioritized replay buffer writes, what its own actor predicts (``DTLoss``'s ``action``).
:func:`batch_keys` gives that list. Keys a loss reads only sometimes are asked for when
they are needed: a PPO batch that brings ``advantage`` must bring ``value_target`` too.

``loss.in_keys`` is only what the loss declares. So when the batch has every declared
key, the loss is also run once on a copy (of the loss, and of the batch's first rows,
without gradients, the random state restored): a key it reads without declaring it, or
any other error, becomes a finding. A hand-written loss that declares no ``in_keys`` is
checked by that run alone, and the result says so.

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

import copy
import html
import re
import warnings
from typing import Any

import torch

from rltutor._keys import Path, as_path, key_str, leaf_name, module_keys
from rltutor._kinds import is_loss_module
from rltutor._loss_keys import (
    batch_keys,
    check_loss_module,
    declares_keys,
    estimator_keys,
    loss_networks,
    tensor_key,
)
from rltutor.diagnostics._finding import Finding, Findings

__all__ = ["batch_keys", "check_loss", "is_loss_module", "loss_networks"]  # re-exported

# Keys the environment writes on every step (under "next" after a step).
_ENV_LEAVES = {"reward", "done", "terminated", "truncated"}
# How many rows of the batch the trial run of the loss gets: enough for a time dimension.
_TRIAL_ROWS = 8


class LossFindings(Findings):
    """:class:`Findings` that say how the loss was checked when nothing was found."""

    note: str = ""

    def __str__(self) -> str:
        if not self and self.note:
            return self.note
        return super().__str__()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        text = super()._repr_html_()
        if not self and self.note:
            text = text.replace("<b>✓ no known mistakes found</b>",
                                f"<b>{html.escape(self.note)}</b>")
        return text


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


def _estimator_finding(loss: Any, present: set[Path]) -> list[Finding]:
    keys = estimator_keys(loss)
    if len(keys) < 2 or keys[0] not in present or keys[1] in present:
        return []
    advantage, target = key_str(keys[0]), key_str(keys[1])
    name = type(loss).__name__
    return [Finding(
        what=f"the batch has '{advantage}' but no '{target}', which {name} then reads",
        why=f"{name} computes both with its value estimator only when the batch has no "
            f"'{advantage}'; given one, it takes '{target}' from the batch too, for the "
            "critic's term",
        fix=f"run the value estimator on the batch (GAE(...)(batch) writes '{advantage}' "
            f"and '{target}'), or leave '{advantage}' out so the loss computes both",
        code="loss-missing-key",
        keys=(target,),
    )]


def _trial_batch(td: Any) -> Any:
    if td.batch_dims and td.batch_size[0] > _TRIAL_ROWS:
        td = td[:_TRIAL_ROWS]
    return td.clone()


def _named_key(error: BaseException, loss: Any, present: set[Path]) -> Path | None:
    """The key a KeyError is about, as the loss would read it (nested keys in full)."""
    text = str(error.args[0]) if error.args else ""
    quoted = re.findall(r"""["']([^"']+)["']""", text)
    said = re.match(r'key "([^"]+)" not found', text)  # tensordict names the leaf only
    leaves = [said.group(1)] if said else quoted
    candidates = [*batch_keys(loss), *estimator_keys(loss)]
    for _, network in loss_networks(loss):
        candidates += module_keys(network, "in_keys")
    for leaf in leaves:
        for key in candidates:
            if key not in present and (leaf_name(key) == leaf or key_str(key) == leaf):
                return key
    written = {key for _, network in loss_networks(loss)
               for key in module_keys(network, "out_keys")}
    if said and (said.group(1),) not in written | present:  # not one of its own outputs
        return (said.group(1),)
    return None


def _trial_run(loss: Any, td: Any, modules: list[Any],
               present: set[Path]) -> tuple[list[Finding], bool]:
    """Run ``loss`` once on copies; the findings, and whether it ran."""
    if td.batch_dims and td.batch_size[0] == 0:
        return [], False
    try:
        loss_copy = copy.deepcopy(loss)
    except Exception:  # a loss holding something that cannot be copied: no trial run
        return [], False
    name = type(loss).__name__
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss_copy(_trial_batch(td))
    except KeyError as error:
        key = _named_key(error, loss, present)
        if key is not None:
            finding = _missing_finding(key, loss, modules, present, batch_keys(loss))
            return [Finding(what=finding.what + " (found by running it on a copy)",
                            why=finding.why, fix=finding.fix, code=finding.code,
                            keys=finding.keys)], False
        return [_failed_finding(name, error)], False
    except Exception as error:
        return [_failed_finding(name, error)], False
    return [], True


def _failed_finding(name: str, error: BaseException) -> Finding:
    line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return Finding(
        what=f"{name} fails on this batch: {type(error).__name__}: {line[:200]}",
        why="rltutor ran the loss once on a copy of the batch's first rows, and it raised; "
            "it will raise in the training loop too",
        fix=f"call {name} on the batch yourself to see the whole error; compare the batch's "
            "keys and shapes with what the loss's networks read",
        code="loss-fails-on-batch",
    )


def check_loss(loss: Any, td: Any, *, modules: Any = ()) -> Findings:
    """What ``loss`` needs from ``td`` and does not find there, with who should write it.

    Args:
        loss: a TorchRL loss module (``DQNLoss``, ``ClipPPOLoss``, ``DDPGLoss``, ...).
        td: the batch the loss will be called on (a rollout, a collector batch, a sample).
        modules: TensorDict modules that could write keys (a value estimator such as
            ``GAE``, a policy); a missing key one of them writes names that module.

    Returns:
        :class:`~rltutor.diagnostics.Findings`, empty when the batch has what the loss
        declares and a trial run of the loss on a copy raised nothing.

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
    findings = LossFindings()
    needed = batch_keys(loss)
    estimated = estimator_keys(loss)
    if estimated and all(key in present for key in estimated):
        # advantage and value target given: the estimator, the only reader of 'next', stays idle
        needed = [key for key in needed if key[0] != "next"]
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
    findings += _estimator_finding(loss, present)
    findings += _grad_finding(td, [key for key in needed if key in present])
    if findings:  # already a reason the loss cannot run (or would learn from the wrong data)
        return findings
    trial, ran = _trial_run(loss, td, modules, present)
    findings += trial
    if not declares_keys(loss) and ran:
        findings.note = (f"✓ {type(loss).__name__} declares no in_keys, so it was run once on "
                         "a copy of the batch instead: it ran")
    elif not declares_keys(loss) and not trial:
        findings.note = (f"? nothing could be checked: {type(loss).__name__} declares no "
                         "in_keys and could not be run on a copy of this batch")
    return findings
