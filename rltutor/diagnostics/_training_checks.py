"""One function per silent training-loop mistake; :func:`check_training` runs them.

Each check takes the parts of a loop it needs and returns a list of
:class:`~rltutor.diagnostics.Finding` (empty when the part is right). The static ones only
look (which parameters the optimizer holds, which loss a target updater steps, how long
ε anneals); :func:`check_target_fn` calls a hand-written TD target on a probe batch.
None of them changes the parts it is given.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict.nn import InteractionType, set_interaction_type

from rltutor._exploration import exploration_class
from rltutor._keys import key_str, leaf_name
from rltutor._loss_keys import loss_networks
from rltutor._recurrent import recurrent_modules
from rltutor.diagnostics._finding import Finding

__all__ = ["check_collector", "check_eval_deterministic", "check_exploration_schedule",
           "check_loss_done_keys", "finite_rand", "check_optimizer", "check_policy_trained",
           "check_recurrent_slices", "check_target_fn", "check_updater", "trainable"]


def trainable(module: Any) -> dict[int, str]:
    """``id(parameter) -> name`` for every parameter of ``module`` that requires grad.

    Args:
        module: an ``nn.Module`` (a loss module, a policy).

    >>> list(trainable(torch.nn.Linear(2, 1)).values())
    ['weight', 'bias']
    """
    return {id(p): name for name, p in module.named_parameters() if p.requires_grad}


def _held(optimizer: Any) -> set[int]:
    return {id(p) for group in optimizer.param_groups for p in group["params"]}


def _names(names: list[str], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def check_optimizer(loss: Any, optimizer: Any) -> list[Finding]:
    """Every trainable parameter of ``loss`` in ``optimizer``, and nothing else in it.

    Args:
        loss: a TorchRL loss module.
        optimizer: a ``torch.optim`` optimizer.

    >>> lin = torch.nn.Linear(2, 1)
    >>> check_optimizer(lin, torch.optim.SGD(lin.parameters(), lr=0.1))
    []
    """
    wanted, held = trainable(loss), _held(optimizer)
    missing = [name for pid, name in wanted.items() if pid not in held]
    strangers = len(held - set(wanted))
    if not missing:
        return []
    extra = (f"; it holds {strangers} tensors the loss never uses (a copy, or an earlier "
             "network)" if strangers else "")
    return [Finding(
        what=f"the optimizer leaves out {len(missing)} of the loss's {len(wanted)} trainable "
             f"parameters ({_names(missing)}){extra}",
        why="the loss computes gradients for them, but no optimizer step ever applies them: "
            "that part of the network keeps its first random weights, and nothing fails",
        fix="build the optimizer from the loss, after the loss: "
            "torch.optim.Adam(loss_fn.parameters(), lr=...)",
        code="optimizer-missing-params", keys=tuple(missing[:3]))]


def check_policy_trained(policy: Any, loss: Any) -> list[Finding]:
    """Are the policy's parameters the ones the loss trains (not a second network)?

    Args:
        policy: the policy the loop collects (or evaluates) with.
        loss: the loss module the loop trains.

    >>> lin = torch.nn.Linear(2, 1)
    >>> check_policy_trained(lin, lin)
    []
    """
    mine = trainable(policy) if isinstance(policy, torch.nn.Module) else {}
    shared = set(mine) & {id(p) for p in loss.parameters()}
    if not mine or shared:
        return []
    return [Finding(
        what=f"none of the policy's {len(mine)} trainable parameters is in the loss: it "
             "trains another network",
        why="the loss and the optimizer improve their own copy while the loop collects and "
            "evaluates with this policy, which never changes",
        fix="build the loss from the very policy you collect with: "
            "DQNLoss(policy, ...) / ClipPPOLoss(actor, critic, ...), not from a new copy",
        code="policy-not-in-loss")]


def check_updater(loss: Any, target_updater: Any) -> list[Finding]:
    """Does ``target_updater`` step this loss's target copy, with a real delay?

    Args:
        loss: the loss module the loop trains.
        target_updater: a ``SoftUpdate`` or ``HardUpdate``.

    >>> check_updater(None, None)
    []
    """
    if target_updater is None or loss is None:
        return []
    other = getattr(target_updater, "loss_module", loss)
    if other is not loss:
        return [Finding(
            what=f"the target updater steps another {type(other).__name__}, not this loss",
            why="its target copy never moves: the loss keeps bootstrapping from its first "
                "random network (typical after re-running the cell that builds the loss)",
            fix="build the updater from the loss you train, after it: "
                "target_updater = SoftUpdate(loss_fn, eps=0.99)",
            code="target-updater-other-loss")]
    eps = getattr(target_updater, "eps", None)
    if isinstance(eps, float) and eps < 0.5:
        return [Finding(
            what=f"SoftUpdate(eps={eps:g}) keeps only {eps:.1%} of the target at each step",
            why="eps is the share the target KEEPS (eps = 1 - tau): the target copies the "
                "online network almost at once, so there is no delay to stabilise learning",
            fix=f"SoftUpdate(loss_fn, eps={1 - eps:g}), or say tau: "
                f"SoftUpdate(loss_fn, tau={eps:g})",
            code="target-updater-eps")]
    return []


def _schedule(module: Any) -> tuple[str, float, float] | None:
    for start, end, name in (("eps_init", "eps_end", "ε"), ("sigma_init", "sigma_end", "σ")):
        if hasattr(module, start) and hasattr(module, end):
            return name, float(getattr(module, start)), float(getattr(module, end))
    return None


def check_exploration_schedule(exploration: Any, total_frames: int | None) -> list[Finding]:
    """Does the exploration anneal to its end value within the run's frame budget?

    Args:
        exploration: an ``EGreedyModule``/``AdditiveGaussianModule`` (anything else: no check).
        total_frames: the run's frame budget (the loop steps the module by frames).

    >>> check_exploration_schedule(None, 1000)
    []
    """
    schedule = _schedule(exploration) if exploration is not None else None
    steps = getattr(exploration, "annealing_num_steps", None)
    if schedule is None or not total_frames or not steps or steps <= total_frames:
        return []
    name, start, end = schedule
    reached = start + (end - start) * total_frames / steps
    return [Finding(
        what=f"{exploration_class(exploration)} anneals {name} over {steps:,} steps, but the "
             f"run has {total_frames:,} frames: {name} ends at {reached:.2f}, not {end:g}",
        why="the agent explores far more than planned until the very end, so what it "
            "collects and what its greedy policy would do part ways",
        fix="annealing_num_steps=TOTAL_FRAMES (or less), and call "
            ".step(batch.numel()) once per collected batch",
        code="exploration-schedule")]


def check_collector(collector: Any, exploration: Any) -> list[Finding]:
    """Does the collector explore: the exploration module in its policy, a random mode?

    Args:
        collector: a TorchRL ``Collector``.
        exploration: the exploration module the loop anneals (or None).

    >>> check_collector(None, None)
    []
    """
    if collector is None:
        return []
    found = []
    mode = getattr(collector, "exploration_type", None)
    if mode is not None and mode != InteractionType.RANDOM:
        found.append(Finding(
            what=f"the collector runs under exploration_type={mode}",
            why="exploration modules stand aside and distributions give their mode: the "
                "agent collects with its greedy policy and never tries anything new",
            fix="leave Collector(..., exploration_type=ExplorationType.RANDOM), the default",
            code="collector-deterministic"))
    policy = getattr(collector, "policy", None)
    if exploration is not None and isinstance(policy, torch.nn.Module) and not any(
            m is exploration for m in policy.modules()):
        found.append(Finding(
            what=f"the collector's policy does not contain the {type(exploration).__name__} "
                 "the loop anneals",
            why="the collector acts greedily; the exploration module is stepped, but never "
                "runs",
            fix="collect with the policy that has exploration on top: "
                "Collector(env, TensorDictSequential(policy, egreedy), ...)",
            code="collector-no-exploration"))
    return found


def finite_rand(spec: Any, rows: int) -> Any:
    """``spec.rand((rows,))`` with standard-normal values where a bound is infinite.

    Args:
        spec: a Composite spec (CartPole's observation has infinite bounds: rand is nan).
        rows: how many rows.

    >>> from rltutor import make_env
    >>> td = finite_rand(make_env("CartPole-v1").observation_spec, 3)
    >>> bool(td["observation"].isfinite().all())
    True
    """
    td = spec.rand((rows,))
    for key, value in list(td.items(include_nested=True, leaves_only=True)):
        if value.is_floating_point() and not value.isfinite().all():
            td.set(key, torch.where(value.isfinite(), value, torch.randn_like(value)))
    return td


def _probe(env: Any, rows: int) -> Any:
    td = env.fake_tensordict().exclude("next", *env.action_keys).expand(rows).clone()
    td.update(finite_rand(env.observation_spec, rows))
    return td


def check_eval_deterministic(policy: Any, env: Any) -> list[Finding]:
    """Does the policy give the same actions twice under the deterministic exploration type?

    Args:
        policy: the policy the loop evaluates.
        env: its environment (only its specs are used).

    >>> from rltutor import make_env, make_actor
    >>> env = make_env("Pendulum-v1")
    >>> check_eval_deterministic(make_actor(env), env)
    []
    """
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(0)
        td = _probe(env, 16)
        actions = []
        for seed in (1, 2):
            torch.manual_seed(seed)
            try:
                with set_interaction_type(InteractionType.DETERMINISTIC):
                    out = policy(td.clone())
            except Exception:  # check_policy says why the policy cannot run
                return []
            actions.append([out.get(k, None) for k in env.action_keys])
    same = all(a is None or b is None or torch.equal(a, b) for a, b in zip(*actions))
    if same:
        return []
    dropout = [type(m).__name__ for m in policy.modules()
               if m.training and "Dropout" in type(m).__name__]
    cause = (f"a {dropout[0]} in training mode" if dropout else
             "randomness that does not follow set_exploration_type")
    return [Finding(
        what=f"the policy's actions differ between two deterministic passes ({cause})",
        why="a greedy evaluation then measures luck: returns jump between evaluations, and "
            "the 'best' checkpoint is picked by noise",
        fix=("policy.eval() before evaluating (and policy.train() after)" if dropout else
             "explore with a TorchRL exploration module (EGreedyModule, "
             "AdditiveGaussianModule), which stands aside under ExplorationType.DETERMINISTIC"),
        code="eval-not-deterministic")]


def check_loss_done_keys(loss: Any) -> list[Finding]:
    """Does the loss stop bootstrapping on ``terminated`` (not on ``done``/``truncated``)?

    Args:
        loss: a TorchRL loss module.

    >>> check_loss_done_keys(None)
    []
    """
    keys = getattr(loss, "tensor_keys", None)
    terminated = getattr(keys, "terminated", None)
    if terminated is None or leaf_name(terminated) == "terminated":
        return []
    return [Finding(
        what=f"the loss reads '{key_str(terminated)}' where it stops bootstrapping",
        why="only termination ends the future; a time limit truncates it, and the value of "
            "the next state still counts there",
        fix="loss_fn.set_keys(terminated='terminated') (the default)",
        code="truncated-as-terminated", keys=(key_str(terminated),))]


def _target_rows(batch: Any) -> Any:
    """Four copies of one transition: (next) goes on, terminated, truncated, goes on.

    The root flags are False everywhere but in the last row, where they say terminated:
    a target that reads them stops there, and one that reads ``next`` does not.
    """
    probe = batch.reshape(-1)[:1].clone().expand(4).clone()
    flags = {("next", "terminated"): [0, 1, 0, 0], ("next", "truncated"): [0, 0, 1, 0],
             ("next", "done"): [0, 1, 1, 0], ("terminated",): [0, 0, 0, 1],
             ("truncated",): [0, 0, 0, 0], ("done",): [0, 0, 0, 1]}
    present = set(probe.keys(include_nested=True))
    for where, values in flags.items():
        key = where if len(where) > 1 else where[0]
        if key in present:
            shape = probe.get(key).shape
            value = torch.tensor(values, dtype=torch.bool).view(4, *[1] * (len(shape) - 1))
            probe.set(key, value.expand(shape).clone())
    return probe


def check_target_fn(td_target: Any, batch: Any) -> list[Finding]:
    """Does a hand-written TD target stop bootstrapping exactly where ``next`` terminated?

    Calls ``td_target`` on four copies of one transition of ``batch``: one that goes on,
    one that terminated, one that was truncated, and one that goes on although the root
    flags (the step before's) say terminated. A right target is the same for all but the
    terminated one.

    Args:
        td_target: a function of a batch that returns one target per transition.
        batch: a TensorDict of transitions (a replay-buffer sample, a rollout).

    >>> check_target_fn(None, None)
    []
    """
    if td_target is None or batch is None:
        return []
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        out = td_target(_target_rows(batch)).reshape(4, -1).float()
    goes_on, terminated, truncated, root_says_end = out
    if torch.allclose(goes_on, terminated) and not torch.allclose(goes_on, root_says_end):
        return [Finding(
            what="the target reads the episode's end from the root, not from 'next'",
            why="the root holds the flags of the step BEFORE (nearly always False), so the "
                "target bootstraps through every fall and stops one step after it",
            fix="read the flag of the transition's end: batch['next', 'terminated']",
            code="done-from-root", keys=("done",))]
    if torch.allclose(goes_on, terminated):
        return [Finding(
            what="the target never stops bootstrapping: episode ends make no difference",
            why="without a stop at termination every state looks like it goes on forever",
            fix="multiply the bootstrap by ~batch['next', 'terminated']",
            code="no-termination")]
    if torch.allclose(truncated, terminated):
        return [Finding(
            what="the target stops bootstrapping where the episode was only truncated",
            why="it reads 'done' (terminated OR truncated): a time limit is treated as a "
                "fall, and the good states just before it are learned as worthless",
            fix="stop the bootstrap on batch['next', 'terminated'] only",
            code="truncated-as-terminated", keys=("next.done",))]
    return []


def check_recurrent_slices(loss: Any, buffer: Any) -> list[Finding]:
    """Recurrent networks trained on replayed slices must run in recurrent mode.

    Args:
        loss: the loss module.
        buffer: the replay buffer (a ``SliceSampler`` replays slices of trajectories).

    >>> check_recurrent_slices(None, None)
    []
    """
    sampler = type(getattr(buffer, "sampler", None)).__name__
    if loss is None or "Slice" not in sampler:
        return []
    off = [m for _, network in loss_networks(loss) for m in recurrent_modules(network)
           if not m.recurrent_mode]
    if not off:
        return []
    return [Finding(
        what=f"the loss runs {type(off[0]).__name__} step by step on slices the buffer "
             f"replays ({sampler})",
        why="outside recurrent mode each step reads the stored hidden state instead of "
            "running through the slice, so no gradient flows through time: the memory is "
            "never trained",
        fix="with set_recurrent_mode(True): loss = loss_fn(batch)  (or build the module "
            "with default_recurrent_mode=True)",
        code="recurrent-mode-off")]
