"""TensorDict modules as nodes: a card of what a module is made of, and its dataflow.

The dataflow walks a module the way TensorDictSequential runs it: each part in order,
reading ``in_keys`` and writing ``out_keys``. A key read before any part wrote it must
come from the environment.
"""

from __future__ import annotations

from typing import Any

from tensordict.nn import (
    ProbabilisticTensorDictModule,
    TensorDictModule,
    TensorDictModuleBase,
)
from torch import nn

from rltutor._exploration import exploration_class
from rltutor._keys import env_keys, key_str, module_keys, module_parts, module_steps, provided
from rltutor.display._nodes import Flow, ModuleCard, Step
from rltutor.display._options import Options
from rltutor.display._transformer import transformer_details


def check_module(module: Any, what: str) -> Any:
    """``module`` if it is a TensorDict module or anything else ``env.rollout`` runs as a
    policy (``RandomPolicy``, a function of a TensorDict); else a TypeError saying what is
    accepted."""
    if isinstance(module, TensorDictModuleBase) or _runs_on_tensordicts(module):
        return module
    hint = ""
    if isinstance(module, nn.Module):
        hint = (
            "; wrap a plain torch module first, e.g. "
            "TensorDictModule(net, in_keys=['observation'], out_keys=['action'])"
        )
    raise TypeError(
        f"{what} takes a TensorDict module (TensorDictModule, TensorDictSequential, "
        f"ProbabilisticActor, QValueActor, an exploration module, ...) or a callable policy "
        f"such as RandomPolicy, got {type(module).__name__}{hint}"
    )


def _runs_on_tensordicts(obj: Any) -> bool:
    """A callable policy that is no nn.Module: RandomPolicy, ``def policy(td): ...``."""
    return callable(obj) and not isinstance(obj, (nn.Module, type))


def is_module(obj: Any) -> bool:
    """True for any TensorDict module, and for ``RandomPolicy`` (the handler test for
    module cards).

    Args:
        obj: anything.

    >>> from torch import nn
    >>> is_module(nn.Linear(2, 1))
    False
    """
    return isinstance(obj, TensorDictModuleBase) or (
        _runs_on_tensordicts(obj) and hasattr(obj, "action_spec") and hasattr(obj, "action_key"))


def build_module(module: TensorDictModuleBase, opts: Options) -> ModuleCard:
    """The module handler: the card of ``module`` (options change nothing on a card).

    Args:
        module: a TensorDict module.
        opts: the view's options.

    >>> from tensordict.nn import TensorDictModule
    >>> from torch import nn
    >>> card = build_module(TensorDictModule(nn.Linear(2, 1), in_keys=["obs"], out_keys=["a"]),
    ...                     Options())
    >>> card.name, card.env_keys
    ('TensorDictModule(Linear)', ('obs',))
    """
    return module_card(module)


def _keys(keys: Any) -> tuple[str, ...]:
    return tuple(key_str(k) for k in (keys or ()))


def _parts(module: TensorDictModuleBase) -> list[TensorDictModuleBase]:
    """The sub-modules (transforms too) a sequence runs in order; [] for one step."""
    return module_parts(module)


def step_name(module: TensorDictModuleBase) -> str:
    """What a learner calls this step: the network or the distribution, not the wrapper."""
    if isinstance(module, ProbabilisticTensorDictModule):
        dist = getattr(module, "distribution_class", None)
        return f"{getattr(dist, '__name__', 'distribution')} sample"
    if isinstance(module, TensorDictModule) and type(module).__name__ in (
        "TensorDictModule",
        "SafeModule",
        "Actor",
        "ValueOperator",
    ):
        inner = module.module
        return getattr(inner, "__name__", None) or type(inner).__name__
    name = type(module).__name__
    if name == "function":  # a plain ``def policy(td)``: its own name
        return getattr(module, "__name__", name)
    return "LSTM" if name == "LSTMModule" else "GRU" if name == "GRUModule" else name


def _fmt(value: Any) -> str:
    if hasattr(value, "numel") and value.numel() == 1:
        value = value.item()
    elif hasattr(value, "numel") and value.numel() <= 4:
        return "[" + ", ".join(_fmt(v) for v in value.flatten().tolist()) + "]"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def step_details(module: TensorDictModuleBase) -> tuple[tuple[str, str], ...]:
    """A few facts worth knowing about a module, as (label, value) pairs."""
    details: list[tuple[str, str]] = []
    name = type(module).__name__
    explores = exploration_class(module)
    if isinstance(module, ProbabilisticTensorDictModule):
        dist = getattr(module, "distribution_class", None)
        details.append(("distribution", getattr(dist, "__name__", str(dist))))
        details.append(("return_log_prob", str(bool(getattr(module, "return_log_prob", False)))))
        interaction = getattr(module, "default_interaction_type", None)
        if interaction is not None:
            details.append(("default interaction", str(interaction)))
    elif explores == "EGreedyModule":
        details.append(("eps", _fmt(module.eps)))
        details.append(("eps_init -> eps_end",
                        f"{_fmt(module.eps_init)} -> {_fmt(module.eps_end)}"))
        details.append(("annealing steps", str(module.annealing_num_steps)))
    elif explores == "AdditiveGaussianModule":
        details.append(("sigma", _fmt(module.sigma)))
        details.append(("sigma_init -> sigma_end",
                        f"{_fmt(module.sigma_init)} -> {_fmt(module.sigma_end)}"))
    elif explores == "OrnsteinUhlenbeckProcessModule":
        ou = getattr(module, "ou", None)
        if ou is not None:
            details.append(("theta, sigma", f"{_fmt(ou.theta)}, {_fmt(ou.sigma)}"))
        details.append(("eps", _fmt(module.eps)))
    elif name == "QValueModule":
        details.append(("action space", str(getattr(module, "action_space", "?"))))
    elif isinstance(module, TensorDictModule) and not _parts(module):
        count = _count_params(module.module)
        if count != "0":  # e.g. NormalParamExtractor: nothing to learn, nothing to say
            details.append(("parameters", count))
        details += transformer_details(module.module)  # DTActor: GPT-2 size, context
    elif name in ("LSTMModule", "GRUModule"):
        details.append(("parameters", _count_params(module)))
    elif not isinstance(module, TensorDictModuleBase):
        details += _other_details(module)
    return tuple(details)


def _overwrites(module: Any, env: frozenset) -> tuple[tuple[str, str], ...]:
    """("overwrites", keys) for a step that rewrites keys the policy reads from the env
    (ObservationNorm inside it, an LSTM with out_key == in_key): the rollout then holds
    the new values, not the env's. A key passed through inside the policy (QValueModule
    writing action_value back) is not worth a word."""
    rewritten = [key_str(k) for k in module_keys(module, "out_keys")
                 if k in module_keys(module, "in_keys") and key_str(k) in env]
    return (("overwrites", ", ".join(rewritten)),) if rewritten else ()


def _other_details(module: Any) -> list[tuple[str, str]]:
    """A transform inside a policy, RandomPolicy, a plain function."""
    if hasattr(module, "transforms"):  # a Compose: its parts say it all
        return []
    if hasattr(module, "in_keys") and hasattr(module, "out_keys"):
        details = []
        if type(module).__name__ == "ObservationNorm":
            details += [("loc", _fmt(module.loc)), ("scale", _fmt(module.scale))]
        if getattr(module, "batch_size", None) is not None:
            details.append(("batch_size", str(list(module.batch_size))))
        elif callable(getattr(module, "reshape_fn", None)):  # BatchSizeTransform's other form
            fn = module.reshape_fn
            details.append(("reshape_fn", getattr(fn, "__name__", type(fn).__name__)))
        return details
    if hasattr(module, "action_spec") and hasattr(module, "action_key"):
        return [("draws", "action_spec.rand(): ignores its inputs and the exploration type")]
    return [("keys", "not declared (a plain function of the TensorDict)")]


def _count_params(module: Any) -> str:
    if not isinstance(module, nn.Module):
        return "0"
    params = list(module.parameters())
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in params):
        return "lazy (set on the first call)"
    return f"{sum(p.numel() for p in params):,}"


def module_card(module: TensorDictModuleBase) -> ModuleCard:
    """The card of ``module`` and, recursively, of the parts it runs in order."""
    env = flow_of(module).env_keys
    card = _card(module, frozenset(env))
    card.env_keys = env
    return card


def _card(module: Any, env: frozenset = frozenset()) -> ModuleCard:
    parts = _parts(module)
    name = type(module).__name__
    if not parts and isinstance(module, TensorDictModule) and name in ("TensorDictModule",
                                                                       "SafeModule"):
        name = f"{name}({step_name(module)})"
    return ModuleCard(
        name=name,
        in_keys=_keys(getattr(module, "in_keys", ())),
        out_keys=_keys(module_keys(module, "out_keys")),  # RandomPolicy: its action key
        details=step_details(module) + (() if parts else _overwrites(module, env)),
        children=[_card(part, env) for part in parts],
    )


def flow_of(module: TensorDictModuleBase) -> Flow:
    """The dataflow of ``module``: its steps in order and the keys the env must provide.

    Which keys come from the environment is decided by ``rltutor._keys`` (the rule
    ``check_policy`` and ``rollout`` use too).

    Args:
        module: a TensorDict module, or any policy ``env.rollout`` accepts (what it
            declares is shown: ``RandomPolicy`` writes its action key).

    >>> from tensordict.nn import TensorDictModule
    >>> from torch import nn
    >>> flow_of(TensorDictModule(nn.Linear(2, 1), in_keys=["obs"], out_keys=["a"])).env_keys
    ('obs',)
    """
    module = check_module(module, "dataflow()")
    written: list[tuple[str, ...]] = []
    out_keys: list[str] = []
    steps: list[Step] = []
    needed = tuple(key_str(k) for k in env_keys(module))
    env = frozenset(needed)
    for index, (part, group) in enumerate(module_steps(module), start=1):
        read_keys, write_keys = module_keys(part, "in_keys"), module_keys(part, "out_keys")
        writes = tuple(key_str(k) for k in write_keys)
        env_reads = tuple(key_str(k) for k in read_keys if not provided(k, written))
        out_keys += [k for k in writes if k not in out_keys]
        written += write_keys
        # the step name already says which network or distribution it is
        details = step_details(part) + _overwrites(part, env)
        note = ", ".join(f"{label} {value}" for label, value in details
                         if label != "distribution")
        steps.append(Step(index, step_name(part), " > ".join(group),
                          tuple(key_str(k) for k in read_keys), env_reads, writes, note))
    name = type(module).__name__ if isinstance(module, nn.Module) else step_name(module)
    return Flow(name, steps, needed, tuple(out_keys))
