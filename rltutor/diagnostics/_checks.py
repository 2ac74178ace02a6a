"""The checks :func:`rltutor.check_policy` runs, one function per classic mistake.

Each takes the policy (and the environment) and returns a list of findings, empty when
that mistake is not there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import torch
from tensordict.nn import InteractionType, ProbabilisticTensorDictModule, set_interaction_type
from tensordict.nn.probabilistic import interaction_type
from torch import nn
from torchrl.data import Composite, OneHot
from torchrl.modules import QValueModule

from rltutor._exploration import exploration_kind
from rltutor._keys import Path, as_path, env_keys, key_str, leaf_name
from rltutor._recurrent import (
    RecurrentState,
    caller_carries_state,
    recurrent_modules,
    recurrent_state,
)
from rltutor.diagnostics._finding import Finding
from rltutor.validation import check_exploration

if TYPE_CHECKING:
    from torchrl.envs import EnvBase


def _modules(policy: nn.Module) -> Iterator[nn.Module]:
    yield from policy.modules()


def _env_keys(env: EnvBase) -> set[Path]:
    """Keys found in a TensorDict the env hands to the policy (after reset or a step)."""
    keys: set[Path] = set()
    for spec in (env.full_observation_spec, env.full_done_spec, env.full_state_spec):
        keys |= {as_path(k) for k in spec.keys(True, False)}
    return keys


def check_recurrent(policy: nn.Module, env: EnvBase) -> list[Finding]:
    found = []
    provided = _env_keys(env)
    for module in recurrent_modules(policy):
        name = type(module).__name__
        info = recurrent_state(module)  # state keys by position, whatever their names
        state_keys, init_key = info.state, info.init
        missing = [k for k in state_keys if k not in provided]
        if info.at_root:  # make_tensordict_primer refuses these out_keys: fix them first
            found.append(_state_at_root(name, info, caller_carries_state(policy, info)))
        elif missing:
            found.append(Finding(
                what=f"{name} reads its recurrent state "
                     f"{', '.join(repr(key_str(k)) for k in missing)} but the environment "
                     "has no primer for it",
                why="without a primer the state is never carried from one step to the "
                    "next: every step starts again from zeros, silently, so the policy "
                    "has no memory",
                fix="env.append_transform(lstm.make_tensordict_primer())  "
                    "# lstm = your recurrent module",
                code="recurrent-no-primer",
                keys=tuple(key_str(k) for k in missing),
            ))
        if init_key is not None and init_key not in provided:
            found.append(Finding(
                what=f"{name} reads '{key_str(init_key)}' but the environment does not "
                     "write it",
                why="the recurrent module resets its state where is_init is True; "
                    "without it the rollout stops with a KeyError",
                fix="env.append_transform(InitTracker())  # from torchrl.envs",
                code="recurrent-no-init-tracker",
                keys=(key_str(init_key),),
            ))
    return found


def _state_at_root(name: str, info: RecurrentState, by_hand: bool) -> Finding:
    """The finding for a recurrent state written back at the root, worded for when it
    matters: inside ``env.rollout`` or a collector, not when the caller carries it."""
    root = ", ".join(repr(key_str(k)) for k in info.at_root)
    in_env = (f"{name}(..., out_keys=[<output>, "
              f"{', '.join(repr(('next', *k)) for k in info.at_root)}]), then "
              "env.append_transform(module.make_tensordict_primer())")
    keys = tuple(key_str(k) for k in info.at_root)
    if by_hand:  # the export recipe: the caller feeds the state back
        return Finding(
            what=f"{name} passes its recurrent state {root} in and out at the root: the "
                 "caller carries it from call to call",
            why="right for a policy you call yourself and feed its state back (an exported "
                "policy); it matters only inside env.rollout or a Collector, where nothing "
                "carries the state: the env does not provide it, and written at the root "
                "it would be replaced at every step",
            fix=f"called by hand: nothing to change. To roll it out in an env: {in_env}",
            code="recurrent-state-by-caller", keys=keys)
    return Finding(
        what=f"{name} writes its recurrent state {root} at the root, not under 'next'",
        why="inside env.rollout or a Collector the next step reads its state from what this "
            "step wrote under 'next' (step_mdp moves it to the root); written at the root, "
            "it is replaced at every step and the policy has no memory "
            "(make_tensordict_primer() refuses these out_keys). Only a policy you call "
            "yourself, feeding the state back, may keep it at the root",
        fix=in_env, code="recurrent-state-not-next", keys=keys)


def _spec_of(module: nn.Module) -> Any:
    spec = getattr(module, "_spec", None)
    return spec if spec is not None else getattr(module, "spec", None)


def _leaf_spec(spec: Any, key: Any) -> Any:
    if isinstance(spec, Composite):
        try:
            return spec[key]
        except KeyError:
            try:
                return spec[leaf_name(key)]
            except KeyError:
                return None
    return spec


def check_exploration_devices(policy: nn.Module, env: EnvBase) -> list[Finding]:
    found = []
    for module in _modules(policy):
        if exploration_kind(module) is None:
            continue
        spec = _spec_of(module)
        if spec is None:
            continue
        for key in env.action_keys:
            theirs = _leaf_spec(env.full_action_spec, key)
            ours = _leaf_spec(spec, key)
            if ours is None or theirs is None or ours.device == theirs.device:
                continue
            found.append(Finding(
                what=f"{type(module).__name__}'s spec for '{key_str(key)}' is on "
                     f"{ours.device}, the environment's action is on {theirs.device}",
                why="exploration modules draw random actions (or noise bounds) from their "
                    "spec; on another device they clash with the policy's action and the "
                    "rollout fails (or copies across devices every step)",
                fix=f"build it from the environment's own spec: "
                    f"{type(module).__name__}(spec=env.action_spec, ...) after moving the "
                    "env, or spec.to(env.device)",
                code="exploration-spec-device",
            ))
    return found


def check_policy_env_device(policy: nn.Module, env: EnvBase) -> list[Finding]:
    params = next(iter(policy.parameters()), None)
    if params is None:
        return []
    # An env built without a device (a SerialEnv, say) leaves its tensors on the CPU.
    env_device = torch.device(env.device) if env.device is not None else torch.device("cpu")
    if params.device == env_device:
        return []
    return [Finding(
        what=f"the policy's parameters are on {params.device}, the environment's tensors "
             f"on {env_device}",
        why="env.rollout hands the environment's tensors to the policy as they are, and a "
            "layer cannot multiply tensors that live on two devices",
        fix=f"move one to the other: env.to({str(params.device)!r}) or "
            f"policy.to({str(env_device)!r}); a Collector moves the envs it builds when "
            "told: Collector(make_env, policy, device=...)",
        code="policy-env-device",
    )]


def check_log_prob_key(policy: nn.Module) -> list[Finding]:
    seen: set[str] = set()
    for module in _modules(policy):
        keys = list(getattr(module, "in_keys", ()) or ()) + list(
            getattr(module, "out_keys", ()) or ()
        )
        for attr in ("log_prob_keys", "log_prob_key", "_log_prob_key"):
            try:  # log_prob_key raises on composite distributions
                value = getattr(module, attr, None)
            except Exception:
                continue
            keys += value if isinstance(value, list) else [value]
        seen |= {key_str(k) for k in keys
                 if isinstance(k, (str, tuple)) and leaf_name(k) == "sample_log_prob"}
    if not seen:
        return []
    return [Finding(
        what=f"a key named 'sample_log_prob' ({', '.join(sorted(seen))})",
        why="TorchRL renamed the log-probability of a sampled action: probabilistic actors "
            "write 'action_log_prob' now, so code reading 'sample_log_prob' gets a "
            "KeyError (and code writing it is not found by losses)",
        fix="use 'action_log_prob' (or leave log_prob_key at its default)",
        code="sample-log-prob",
    )]


def check_qvalue(policy: nn.Module, env: EnvBase) -> list[Finding]:
    found = []
    for module in _modules(policy):
        if not isinstance(module, QValueModule):
            continue
        env_spec = _leaf_spec(env.full_action_spec, env.action_keys[0])
        env_space = "one_hot" if isinstance(env_spec, OneHot) else type(env_spec).__name__
        ours = getattr(module, "action_space", None)
        ours_name = {"one-hot": "one_hot", "categorical": "Categorical"}.get(ours, ours)
        mismatch = (ours_name == "one_hot") != (env_space == "one_hot")
        if mismatch:
            found.append(Finding(
                what=f"QValueModule uses action_space={ours!r} but the environment's "
                     f"action spec is {type(env_spec).__name__}",
                why="the module writes its action in its own format (one-hot vector or "
                    "integer index); the environment then reads the wrong shape",
                fix="QValueModule(spec=env.action_spec)  # by keyword: the first "
                    "positional argument is action_space, a string",
                code="qvalue-action-space",
            ))
    return found


_PROPERTY = {"mean": "mean", "mode": "mode", "median": "median"}


def _interaction_types(
    policy: nn.Module, exploration_type: InteractionType | str | None
) -> list[tuple[Any, nn.Module]]:

    forced = check_exploration(exploration_type) if exploration_type is not None else None
    current = interaction_type()
    pairs = []
    for module in _modules(policy):
        if isinstance(module, ProbabilisticTensorDictModule):
            mode = forced or current or module.default_interaction_type
            pairs.append((mode, module))
    return pairs


def check_exploration_type(
    policy: nn.Module, env: EnvBase, exploration_type: InteractionType | str | None
) -> list[Finding]:
    pairs = [(m, mod) for m, mod in _interaction_types(policy, exploration_type)
             if m in (InteractionType.MEAN, InteractionType.MODE, InteractionType.MEDIAN)]
    if not pairs:
        return []
    with torch.no_grad(), set_interaction_type(InteractionType.DETERMINISTIC):
        td = policy(env.reset())
    found = []
    for mode, module in pairs:
        dist = module.get_dist(td)
        name = type(dist).__name__
        try:
            getattr(dist, _PROPERTY[mode.value])
            continue
        except (AttributeError, NotImplementedError, RuntimeError):
            pass
        label = mode.name
        if mode is InteractionType.MEAN:
            why = (f"{name} has no closed-form mean, so TorchRL silently averages "
                   f"{getattr(module, 'n_empirical_estimate', 1000)} random samples per "
                   "step: the 'deterministic' action changes from run to run and costs "
                   "that many samples")
            failure = _fails_under(policy, env, mode)
            if failure:
                why = (f"{name} has no closed-form mean and averaging its samples fails "
                       f"here ({failure}): acting in this mode raises an error")
        else:
            why = f"{name} has no {mode.value}: acting in this mode raises an error"
        found.append(Finding(
            what=f"ExplorationType.{label} on a {name}",
            why=why,
            fix="with set_exploration_type(ExplorationType.DETERMINISTIC): ...  "
                "# each distribution's own deterministic action",
            code=f"exploration-{mode.value}",
        ))
    return found


def _fails_under(policy: nn.Module, env: EnvBase, mode: Any) -> str:
    try:
        with torch.no_grad(), set_interaction_type(mode):
            policy(env.reset())
    except Exception as error:  # the mistake we are looking for
        return f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
    return ""


def check_in_keys(policy: nn.Module, env: EnvBase) -> list[Finding]:
    # The keys the policy needs from outside, by the rule dataflow() shows
    # (rltutor._keys.env_keys). A recurrent module's state and reset keys have findings
    # of their own (a primer, an InitTracker), whatever they are named.
    provided = _env_keys(env)
    handled: set[Path] = set()
    for module in recurrent_modules(policy):
        info = recurrent_state(module)
        handled |= set(info.state) | ({info.init} if info.init is not None else set())
    missing = [key_str(k) for k in env_keys(policy) if k not in provided and k not in handled]
    if not missing:
        return []
    have = sorted(key_str(k) for k in provided if len(k) == 1)
    return [Finding(
        what=f"the policy reads {', '.join(repr(k) for k in missing)}, which the environment "
             "does not provide",
        why="a module's in_keys must be in the TensorDict the env returns (or be written by "
            "an earlier module); otherwise the rollout stops with a KeyError",
        fix=f"read one of the env's keys ({', '.join(have)}) or add a transform that "
            "writes it",
        code="missing-in-key",
        keys=tuple(missing),
    )]


