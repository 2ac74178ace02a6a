"""``check_training``: the parts of a training loop, checked before any training is spent.

The mistakes it names raise no error: the loop runs, the loss goes down, and the policy
learns nothing, or less than it should. Static checks look at the parts (which parameters
the optimizer holds, which loss the target updater steps, how long ε anneals, whether the
collector explores); dry-run checks make two updates on a deep copy of the loss, the
optimizer and the target updater (your own ``update`` function if you give one) and look
at what moved. Torch's random state is forked, so your run draws the same numbers after.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

import torch
from tensordict.nn import InteractionType, set_interaction_type
from torch import nn

from rltutor._loss_keys import check_loss_module, loss_networks
from rltutor.diagnostics import _training_checks as checks
from rltutor.diagnostics._actions import check_action_spec
from rltutor.diagnostics._finding import Finding, Findings
from rltutor.diagnostics._loss import check_loss

__all__ = ["check_training", "dry_run"]


def _sum_losses(out: Any) -> torch.Tensor:
    return sum(value for key, value in out.items()
               if isinstance(key, str) and key.startswith("loss") and value.requires_grad)


def _default_update(batch: Any, loss: Any, optimizer: Any, target_updater: Any) -> None:
    total = _sum_losses(loss(batch))
    optimizer.zero_grad()
    total.backward()
    optimizer.step()
    if target_updater is not None:
        target_updater.step()


def _targets(loss: Any) -> list[torch.Tensor]:
    return [value for name, value in loss.named_buffers() if "target_" in name]


def _snapshot(tensors: Any) -> list[torch.Tensor]:
    return [t.detach().clone() for t in tensors]


def _copy_optimizer(optimizer: Any, loss: Any, loss_c: Any) -> Any:
    """The optimizer over the copy's parameters, with the same settings and state.

    A deep copy of loss and optimizer together does not keep them linked (TorchRL's
    parameter TensorDicts copy their tensors anew), so the copy is rebuilt by name; a
    tensor the loss does not hold is cloned, so stepping the copy never touches yours.
    """
    new = dict(loss_c.named_parameters())
    mine = {id(p): new[name] for name, p in loss.named_parameters() if name in new}
    groups = []
    for group in optimizer.param_groups:
        params = [mine.get(id(p)) if id(p) in mine else nn.Parameter(p.detach().clone())
                  for p in group["params"]]
        groups.append({**{k: v for k, v in group.items() if k != "params"},
                       "params": params})
    copied = type(optimizer)(groups, **optimizer.defaults)
    copied.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    return copied


class _Inert:
    """Stands in for an updater of another loss: your update may step it; nothing moves."""

    def step(self) -> None:
        return None


def _copy_updater(target_updater: Any, loss: Any, loss_c: Any) -> Any:
    if target_updater is None:
        return None
    if getattr(target_updater, "loss_module", None) is not loss:
        return _Inert()  # an updater of another loss never moves this one's target
    cls = type(target_updater)
    # a deep copy made after a target copy was swapped into a network (to_module, as a
    # hand-written TD target does) turns the copied targets into tensors that require
    # grad; an updater refuses those, and they are never trained anyway
    for name in dir(loss_c):
        params = getattr(loss_c, name, None) if name.startswith("target_") else None
        if name.endswith("_params") and hasattr(params, "values"):
            for value in params.values(True, True):
                if value.is_leaf:
                    value.requires_grad_(False)
    if hasattr(target_updater, "value_network_update_interval"):
        return cls(loss_c, value_network_update_interval=
                   target_updater.value_network_update_interval)
    return cls(loss_c, eps=target_updater.eps)


def _relink(loss: Any, loss_c: Any) -> None:
    """Give the copy's networks the copy's parameters, as the original's share them.

    A TorchRL loss keeps its parameters in TensorDicts (``value_network_params``) that
    share their tensors with the networks (``value_network``). A deep copy loses that
    sharing, and an update that calls ``loss.value_network`` directly would train tensors
    the copy's optimizer does not hold.
    """
    names = {id(p): name for name, p in loss.named_parameters()}
    new = dict(loss_c.named_parameters())
    for attr, network in loss_networks(loss):
        network_c = getattr(loss_c, attr, None)
        if not isinstance(network, nn.Module) or not isinstance(network_c, nn.Module):
            continue
        for dotted, p in network.named_parameters():
            name = names.get(id(p))
            if name in new:
                owner, _, leaf = dotted.rpartition(".")
                setattr(network_c.get_submodule(owner), leaf, new[name])


def _copies(loss: Any, optimizer: Any, target_updater: Any) -> tuple[Any, Any, Any]:
    loss_c = copy.deepcopy(loss)
    _relink(loss, loss_c)
    return (loss_c, _copy_optimizer(optimizer, loss, loss_c),
            _copy_updater(target_updater, loss, loss_c))


def dry_run(loss: nn.Module, batch: Any, *, optimizer: Any = None, target_updater: Any = None,
            update: Callable[..., Any] | None = None, updates: int = 2) -> dict[str, Any]:
    """Make ``updates`` updates on a deep copy of the parts; report what moved.

    Args:
        loss: the loss module.
        batch: the batch each update is made on.
        optimizer: the optimizer over the loss's parameters (a fresh SGD if None).
        target_updater: the ``SoftUpdate``/``HardUpdate`` of the loss, if any.
        update: your own update, ``update(batch, loss, optimizer, target_updater)``;
            by default: backward of the summed losses, an optimizer step, an updater step.
        updates: how many updates to make.

    Returns:
        ``{"unchanged": [names of trainable parameters the optimizer holds that did not
        change], "targets": number of target tensors, "targets_moved": bool,
        "grad_accumulates": bool (the update adds to the gradients of the update before)}``.

    >>> from torch import nn
    >>> from rltutor.diagnostics._training import dry_run
    >>> net = nn.Linear(2, 1)
    >>> class L(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.net = net
    ...     def forward(self, td):
    ...         return {"loss": self.net(td["x"]).pow(2).mean()}
    >>> dry_run(L(), {"x": torch.ones(3, 2)})["unchanged"]
    []
    """
    if optimizer is None:
        optimizer = torch.optim.SGD(loss.parameters(), lr=1e-2)
    with torch.random.fork_rng(devices=[]):
        loss_c, opt_c, upd_c = _copies(loss, optimizer, target_updater)
        held = checks._held(opt_c)
        params = [(name, p) for name, p in loss_c.named_parameters()
                  if p.requires_grad and id(p) in held]
        before, targets = _snapshot(p for _, p in params), _targets(loss_c)
        targets_before = _snapshot(targets)
        run = update or _default_update
        for i in range(updates):
            run(batch.clone() if hasattr(batch, "clone") else batch, loss_c, opt_c, upd_c)
            if i < updates - 1:  # a marker: an update that zeroes the gradients erases it
                for _, p in params:
                    if p.grad is not None:
                        p.grad.fill_(float("nan"))
        accumulates = any(p.grad is not None and bool(p.grad.isnan().any()) for _, p in params)
    unchanged = [name for (name, p), old in zip(params, before) if torch.equal(p, old)]
    moved = any(not torch.equal(t, old) for t, old in zip(targets, targets_before))
    return {"unchanged": unchanged, "targets": len(targets), "targets_moved": moved,
            "grad_accumulates": accumulates}


def _takes_two(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.default is p.empty]
    return len(positional) >= 2


def _batch_from(buffer: Any, env: Any, policy: Any, rows: int = 32) -> Any:
    """A batch to update on: a sample from a copy of the buffer, else made from the specs."""
    with torch.random.fork_rng(devices=[]):
        if buffer is not None and len(buffer) > 0:
            return copy.deepcopy(buffer).sample()
        if env is None:
            return None
        torch.manual_seed(0)
        td = env.fake_tensordict().exclude(*env.action_keys).expand(rows).clone()
        td.update(checks.finite_rand(env.full_observation_spec, rows))
        nxt = td["next"]
        nxt.update(checks.finite_rand(env.full_observation_spec, rows))
        nxt.update(env.full_reward_spec.rand((rows,)))
        if policy is not None and isinstance(policy, nn.Module):
            try:
                with torch.no_grad(), set_interaction_type(InteractionType.RANDOM):
                    td = policy(td)  # writes the action, its log-prob, values: as collected
            except Exception:
                td.update(env.full_action_spec.rand((rows,)))
        return td


def _dry_run_findings(result: dict[str, Any], target_updater: Any,
                      update: Any) -> list[Finding]:
    found = []
    if result["unchanged"]:
        names = result["unchanged"]
        found.append(Finding(
            what=f"{len(names)} trainable parameters get no gradient "
                 f"({checks._names(names)})",
            why="the graph is cut between them and the loss (a .detach(), a torch.no_grad(), "
                "a .data or .item()): the optimizer holds them, but they never change",
            fix="remove the detach/no_grad in the network's forward; only the target "
                "(computed from the target copy) should be cut off from the graph",
            code="no-gradient", keys=tuple(names[:3])))
    if result["grad_accumulates"]:
        found.append(Finding(
            what="each update adds its gradients to those of the update before",
            why="backward() adds to .grad: without optimizer.zero_grad() every step follows "
                "the sum of all past gradients, mostly stale ones, and nothing fails",
            fix="optimizer.zero_grad() before loss.backward() in every update",
            code="grad-accumulates"))
    interval = getattr(target_updater, "value_network_update_interval", 1)
    if (target_updater is not None and result["targets"] and not result["targets_moved"]
            and interval <= 2):
        found.append(Finding(
            what="the target copy did not move in two updates"
                 + (" of your update function" if update is not None else ""),
            why="the loss bootstraps from a target network frozen at its first random "
                "weights: values never propagate beyond one step, and nothing fails",
            fix="call target_updater.step() after each optimizer.step()",
            code="target-frozen"))
    return found


def check_training(
    *,
    policy: Any = None,
    env: Any = None,
    loss: Any = None,
    optimizer: Any = None,
    target_updater: Any = None,
    exploration: Any = None,
    collector: Any = None,
    buffer: Any = None,
    batch: Any = None,
    update: Callable[..., Any] | None = None,
    td_target: Callable[[Any], torch.Tensor] | None = None,
    total_frames: int | None = None,
) -> Findings:
    """Look for the silent mistakes of a training loop in its parts, before training.

    Give the parts that exist; each check runs when the parts it needs are there. Your
    objects are not changed: the dry-run updates are made on deep copies, under a forked
    random state.

    Args:
        policy: the policy the loop collects and evaluates with (the greedy one).
        env: the environment (its specs; it is never stepped).
        loss: the loss module (``DQNLoss``, ``ClipPPOLoss``, ``SACLoss``, ...).
        optimizer: the optimizer the loop steps.
        target_updater: the ``SoftUpdate``/``HardUpdate`` the loop steps.
        exploration: the exploration module the loop anneals (``EGreedyModule``, ...).
        collector: the ``Collector`` the loop iterates.
        buffer: the replay buffer (a copy is sampled for the dry run).
        batch: a batch to make the dry-run updates on (else sampled from a copy of
            ``buffer``, else made from the env's specs and the policy).
        update: your update step, ``update(batch, loss, optimizer, target_updater)``,
            run on copies; by default: backward of the summed losses, an optimizer step,
            an updater step.
        td_target: your hand-written TD target, ``td_target(batch)`` or
            ``td_target(batch, loss)``: it is called on a probe batch to see where it
            stops bootstrapping.
        total_frames: the run's frame budget, for the exploration schedule.

    Returns:
        :class:`~rltutor.diagnostics.Findings`, empty when no known mistake was found.

    >>> import rltutor, torch
    >>> from torchrl.objectives import DQNLoss, SoftUpdate
    >>> env = rltutor.make_env("CartPole-v1")
    >>> policy = rltutor.make_qvalue_policy(env)
    >>> loss = DQNLoss(policy, action_space=env.action_spec, delay_value=True)
    >>> updater = SoftUpdate(loss, eps=0.99)
    >>> check_training(policy=policy, env=env, loss=loss, target_updater=updater,
    ...                optimizer=torch.optim.Adam(loss.parameters()))
    ✓ no known mistakes found
    """
    if loss is not None:
        check_loss_module(loss)
    if optimizer is not None and not hasattr(optimizer, "param_groups"):
        raise TypeError(f"optimizer must be a torch.optim optimizer, got "
                        f"{type(optimizer).__name__}")
    found: list[Finding] = []
    if policy is not None and env is not None:
        found += check_action_spec(policy, env)
        found += checks.check_eval_deterministic(policy, env)
    found += checks.check_exploration_schedule(exploration, total_frames)
    found += checks.check_collector(collector, exploration)
    if loss is None:
        return Findings(found)
    if optimizer is not None:
        found += checks.check_optimizer(loss, optimizer)
    if policy is not None:
        found += checks.check_policy_trained(policy, loss)
    found += checks.check_updater(loss, target_updater)
    found += checks.check_loss_done_keys(loss)
    found += checks.check_recurrent_slices(loss, buffer)
    if batch is None:
        batch = _batch_from(buffer, env, policy)
    if td_target is not None and _takes_two(td_target):
        target_fn = td_target
        td_target = lambda batch: target_fn(batch, loss)  # noqa: E731 - your (batch, loss)
    found += checks.check_target_fn(td_target, batch)
    if batch is None:
        return Findings(found)
    lacking = check_loss(loss, batch)
    if lacking:  # no update can run on this batch: check_loss says what it lacks
        return Findings(found + list(lacking))
    stale = any(f.code == "target-updater-other-loss" for f in found)
    result = dry_run(loss, batch, optimizer=optimizer, target_updater=target_updater,
                     update=update)
    found += [f for f in _dry_run_findings(result, target_updater, update)
              if not (stale and f.code == "target-frozen")]
    return Findings(found)
