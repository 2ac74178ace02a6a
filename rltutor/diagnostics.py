"""Catch the classic mistakes made when building TorchRL policies, and say how to fix them.

Two ways in:

* :func:`check_policy` looks at a policy and the environment it will run on and returns
  a list of :class:`Finding` (what is wrong, why it matters, how to fix it). An empty
  list means none of the known mistakes was found.
* :func:`install_hints` (called by ``rltutor.install()``) registers an IPython handler:
  when a notebook cell raises an exception that one of these mistakes causes, the usual
  traceback is shown and a hint box is appended under it. :func:`hint_for` is the pure
  function behind it.

    >>> from rltutor.diagnostics import hint_for
    >>> hint_for(KeyError('key "sample_log_prob" not found')).what
    "a key named 'sample_log_prob'"

Checks made by :func:`check_policy`:

1. a recurrent module (``LSTMModule``/``GRUModule``) on an env without its primer
   (``module.make_tensordict_primer()``) or without ``InitTracker()``;
2. an exploration module whose action spec lives on another device than the env's action,
   or a policy whose parameters live on another device than the env's tensors;
3. a key named ``sample_log_prob`` (TorchRL now writes ``action_log_prob``);
4. a ``QValueModule`` whose action space disagrees with the env's action spec, e.g.
   integer actions for CartPole's one-hot spec: gym reads index 1 as "left", silently.
   (A spec passed positionally, ``QValueModule(env.action_spec)``, is refused with a
   TypeError at construction: that one is caught by the exception hint);
5. ``ExplorationType.MEAN`` (or MODE/MEDIAN) on a distribution that cannot compute it;
6. a policy that reads keys the environment does not provide.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from torchrl.modules import GRUModule, LSTMModule

from rltutor._exploration import exploration_kind
from rltutor._keys import Path, as_path, env_keys, key_str, leaf_name, module_keys

if TYPE_CHECKING:
    from tensordict.nn import InteractionType
    from torch import nn
    from torchrl.envs import EnvBase

__all__ = [
    "Finding",
    "check_policy",
    "hint_for",
    "install_hints",
    "uninstall_hints",
]


@dataclass(frozen=True)
class Finding:
    """One mistake found in a policy: ``what`` is wrong, ``why`` it matters, the ``fix``.

    ``code`` is a short stable name for tests and filters (e.g. ``"recurrent-no-primer"``).

    >>> f = Finding("no primer", "the state resets", "append the primer", "recurrent-no-primer")
    >>> print(f)
    ⚠ no primer
      why: the state resets
      fix: append the primer
    """

    what: str
    why: str
    fix: str
    code: str = ""
    keys: tuple[str, ...] = ()  # the keys it is about, dotted, when it is about keys

    def __str__(self) -> str:
        return f"⚠ {self.what}\n  why: {self.why}\n  fix: {self.fix}"

    __repr__ = __str__  # dataclass keeps a __repr__ defined in the class body

    def _repr_html_(self) -> str:
        esc = html.escape
        return (
            f'<div class="rltutor-finding" data-code="{esc(self.code)}" '
            'style="border-left:4px solid #b54708;background:#fffaeb;color:#1f2328;'
            'padding:6px 10px;margin:4px 0;border-radius:4px;font-family:sans-serif">'
            f'<b style="color:#b54708">⚠ {esc(self.what)}</b>'
            f'<div><b>why:</b> {esc(self.why)}</div>'
            f'<div><b>fix:</b> <code>{esc(self.fix)}</code></div></div>'
        )


class Findings(list):
    """A ``list`` of :class:`Finding` that also renders as a block in Jupyter."""

    def __str__(self) -> str:
        if not self:
            return "✓ no known mistakes found"
        return "\n".join(str(f) for f in self)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        if not self:
            return (
                '<div class="rltutor-finding" data-code="ok" style="border-left:4px solid '
                "#1a7f37;background:#e6f4ea;color:#1f2328;padding:6px 10px;margin:4px 0;"
                'border-radius:4px;font-family:sans-serif"><b style="color:#1a7f37">'
                "✓ no known mistakes found</b></div>"
            )
        return "".join(f._repr_html_() for f in self)


# ---------------------------------------------------------------- helpers


def _modules(policy: nn.Module) -> Iterator[nn.Module]:
    yield from policy.modules()


def _env_keys(env: EnvBase) -> set[Path]:
    """Keys found in a TensorDict the env hands to the policy (after reset or a step)."""
    keys: set[Path] = set()
    for spec in (env.full_observation_spec, env.full_done_spec, env.full_state_spec):
        keys |= {as_path(k) for k in spec.keys(True, False)}
    return keys


def _recurrent_keys(module: nn.Module) -> tuple[list[Path], Path | None]:
    """A recurrent module's state keys (read, and written again under "next") and the
    key it resets on (its last in_key when named ``is_init``), whatever they are named."""
    writes_next = {k[1:] for k in module_keys(module, "out_keys") if k[0] == "next"}
    reads = module_keys(module, "in_keys")
    state = [k for k in reads if k in writes_next]
    init = reads[-1] if reads and leaf_name(reads[-1]) == "is_init" else None
    return state, init


# ---------------------------------------------------------------- the checks


def _check_recurrent(policy: nn.Module, env: EnvBase) -> list[Finding]:
    found = []
    provided = _env_keys(env)
    for module in _modules(policy):
        if not isinstance(module, (LSTMModule, GRUModule)):
            continue
        name = type(module).__name__
        state_keys, init_key = _recurrent_keys(module)
        missing = [k for k in state_keys if k not in provided]
        if missing:
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


def _spec_of(module: nn.Module) -> Any:
    spec = getattr(module, "_spec", None)
    return spec if spec is not None else getattr(module, "spec", None)


def _leaf_spec(spec: Any, key: Any) -> Any:
    from torchrl.data import Composite

    if isinstance(spec, Composite):
        try:
            return spec[key]
        except KeyError:
            try:
                return spec[leaf_name(key)]
            except KeyError:
                return None
    return spec


def _check_exploration_devices(policy: nn.Module, env: EnvBase) -> list[Finding]:
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


def _check_policy_env_device(policy: nn.Module, env: EnvBase) -> list[Finding]:
    import torch

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


def _check_log_prob_key(policy: nn.Module) -> list[Finding]:
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


def _check_qvalue(policy: nn.Module, env: EnvBase) -> list[Finding]:
    from torchrl.data import OneHot
    from torchrl.modules import QValueModule

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
    from tensordict.nn import ProbabilisticTensorDictModule
    from tensordict.nn.probabilistic import interaction_type

    from rltutor.validation import check_exploration

    forced = check_exploration(exploration_type) if exploration_type is not None else None
    current = interaction_type()
    pairs = []
    for module in _modules(policy):
        if isinstance(module, ProbabilisticTensorDictModule):
            mode = forced or current or module.default_interaction_type
            pairs.append((mode, module))
    return pairs


def _check_exploration_type(
    policy: nn.Module, env: EnvBase, exploration_type: InteractionType | str | None
) -> list[Finding]:
    import torch
    from tensordict.nn import InteractionType, set_interaction_type

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
    import torch
    from tensordict.nn import set_interaction_type

    try:
        with torch.no_grad(), set_interaction_type(mode):
            policy(env.reset())
    except Exception as error:  # the mistake we are looking for
        return f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
    return ""


def _check_in_keys(policy: nn.Module, env: EnvBase) -> list[Finding]:
    # The keys the policy needs from outside, by the rule dataflow() shows
    # (rltutor._keys.env_keys). A recurrent module's state and reset keys have findings
    # of their own (a primer, an InitTracker), whatever they are named.
    provided = _env_keys(env)
    handled: set[Path] = set()
    for module in _modules(policy):
        if isinstance(module, (LSTMModule, GRUModule)):
            state, init = _recurrent_keys(module)
            handled |= set(state) | ({init} if init is not None else set())
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


def check_policy(
    policy: nn.Module,
    env: EnvBase,
    *,
    exploration_type: InteractionType | str | None = None,
) -> list[Finding]:
    """Look for the classic mistakes in ``policy`` running on ``env``; return what was found.

    ``exploration_type`` is the mode you will roll out under (e.g. ``"mean"``); by
    default the current ``set_exploration_type`` context, else each probabilistic
    module's default. The result is a list of :class:`Finding` (empty when nothing is
    wrong) that prints readably and renders as boxes in Jupyter.

    >>> from rltutor import make_env, make_actor
    >>> env = make_env("Pendulum-v1")  # doctest: +SKIP
    >>> check_policy(make_actor(env), env)  # doctest: +SKIP
    []
    """
    from torch import nn as _nn

    if not isinstance(policy, _nn.Module):
        raise TypeError(
            f"check_policy needs a policy module (a TensorDictModule or nn.Module), "
            f"got {type(policy).__name__}"
        )
    if not hasattr(env, "full_action_spec"):
        raise TypeError(
            f"check_policy needs a TorchRL environment (EnvBase), got {type(env).__name__}"
        )
    found: list[Finding] = []
    found += _check_recurrent(policy, env)
    found += _check_policy_env_device(policy, env)
    found += _check_exploration_devices(policy, env)
    found += _check_log_prob_key(policy)
    found += _check_qvalue(policy, env)
    found += _check_in_keys(policy, env)
    if not any(f.code.startswith(("recurrent-no-init", "missing-in-key", "exploration-spec",
                                  "policy-env-device"))
               for f in found):
        # needs a forward pass, which those mistakes would break
        found += _check_exploration_type(policy, env, exploration_type)
    return Findings(found)


# ---------------------------------------------------------------- exception hints

# (exception types, pattern in str(exception), finding) in order; first match wins
_HINTS: list[tuple[tuple[type[BaseException], ...], str, Finding]] = [
    ((TypeError,), r"Using specs in action_space",
     Finding("a spec passed positionally to QValueModule",
             "QValueModule's first argument is action_space (a string such as 'one_hot'); "
             "a spec given there is refused",
             "QValueModule(spec=env.action_spec)", "qvalue-positional-spec")),
    ((KeyError,), r"sample_log_prob",
     Finding("a key named 'sample_log_prob'",
             "TorchRL renamed it: probabilistic actors write 'action_log_prob' now",
             "read td['action_log_prob'] instead", "sample-log-prob")),
    ((KeyError,), r"is_init",
     Finding("the policy reads 'is_init' but the environment does not write it",
             "recurrent modules (and OU noise) reset their state where is_init is True",
             "env.append_transform(InitTracker())", "recurrent-no-init-tracker")),
    ((KeyError,), r"recurrent_state",
     Finding("a recurrent state key is missing from the TensorDict",
             "the environment must carry the LSTM/GRU state from step to step",
             "env.append_transform(lstm.make_tensordict_primer())", "recurrent-no-primer")),
    ((ValueError,), r"recurrent_mode=True\) requires",
     Finding("recurrent mode on a single step",
             "with set_recurrent_mode(True) the module reads a whole sequence: the last "
             "batch dimension is time",
             "call it on a rollout (shape [T] or [B, T]); step by step, leave recurrent "
             "mode off", "recurrent-mode-no-time")),
    ((RuntimeError,), r"e-greedy module to be on the same device",
     Finding("EGreedyModule's spec is on another device than the action",
             "EGreedyModule draws its random actions from its spec, on the spec's device",
             "EGreedyModule(spec=env.action_spec, ...) built after env.to(device); "
             "rltutor.check_policy(policy, env) names the module", "exploration-spec-device")),
    ((NotImplementedError,), r"Cannot copy out of meta tensor",
     Finding("a tensor on the 'meta' device (no data) was used",
             "usually a spec or module moved to 'meta'; an exploration module draws its "
             "random actions from its spec",
             "build the module from the running env's spec: spec=env.action_spec; "
             "rltutor.check_policy(policy, env) names the module", "exploration-spec-device")),
    ((RuntimeError,), r"Expected all tensors to be on the same device",
     Finding("tensors on two devices",
             "the environment's outputs, the policy's parameters and the specs exploration "
             "modules keep must share one device; one of them was left behind",
             "build everything from one device: env = ...(device=device), the policy from "
             "that env, exploration modules with spec=env.action_spec; give a Collector "
             "device=device. rltutor.check_policy(policy, env) names the culprit",
             "two-devices")),
    ((RuntimeError,), r"mat1 and mat2 shapes cannot be multiplied",
     Finding("a layer got inputs of another size than it was built for",
             "a Linear layer's in_features is fixed when it is built: a policy made for one "
             "environment (or observation key) does not fit another's observation size",
             "build the policy from this env's specs, e.g. rltutor.make_actor(env), or let a "
             "lazy layer (LazyLinear, MLP without in_features) take its size on first call",
             "input-size")),
    ((RuntimeError,), r"has not analytical mode",
     Finding("ExplorationType.MODE on a distribution without a closed-form mode",
             "TanhNormal (and other transformed distributions) cannot compute their mode",
             "set_exploration_type(ExplorationType.DETERMINISTIC)", "exploration-mode")),
    ((RuntimeError,), r"mean\(\): could not infer output dtype",
     Finding("ExplorationType.MEAN on a distribution with integer samples",
             "with no closed-form mean TorchRL averages samples, and discrete samples "
             "(a Categorical part, for instance) cannot be averaged",
             "set_exploration_type(ExplorationType.DETERMINISTIC)", "exploration-mean")),
    ((NotImplementedError,), r"median is not implemented",
     Finding("ExplorationType.MEDIAN on a distribution without a median",
             "this distribution does not implement .median",
             "set_exploration_type(ExplorationType.DETERMINISTIC)", "exploration-median")),
]


def hint_for(error: BaseException) -> Finding | None:
    """The hint for an exception one of the classic mistakes causes, else ``None``.

    Looks at the exception and the ones it was raised from (``__cause__``/``__context__``).

    >>> hint_for(TypeError("Using specs in action_space is deprecated")).fix
    'QValueModule(spec=env.action_spec)'
    >>> hint_for(ValueError("something else")) is None
    True
    """
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 10:
        text = str(current)
        for types, pattern, finding in _HINTS:
            if isinstance(current, types) and re.search(pattern, text):
                return finding
        current = current.__cause__ or current.__context__
        seen += 1
    return None


_installed_on: Any = None


def _handler(shell: Any, etype: type, value: BaseException, tb: Any,
             tb_offset: int | None = None) -> list[str]:
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    finding = hint_for(value)
    if finding is not None:
        from IPython.display import display

        display(finding)
    return []


def install_hints(shell: Any = None) -> bool:
    """Append a hint box under exceptions caused by the classic mistakes (IPython only).

    Uses ``shell.set_custom_exc``; the normal traceback is still shown first. Returns
    ``False`` (and does nothing) outside IPython. ``rltutor.install()`` calls this.

    >>> install_hints()  # outside IPython: nothing to do
    False
    """
    global _installed_on
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((Exception,), _handler)
    _installed_on = shell
    return True


def uninstall_hints(shell: Any = None) -> bool:
    """Undo :func:`install_hints`; returns whether rltutor's handler was removed.

    >>> uninstall_hints()
    False
    """
    global _installed_on
    shell = shell or _installed_on
    _installed_on = None
    if shell is None or _handler not in _registered_handlers(shell):
        return False
    shell.set_custom_exc((), None)  # no exception type matches: IPython's default again
    return True


def _registered_handlers(shell: Any) -> list[Callable]:
    # IPython wraps the handler in a closure; find ours among its cells
    custom = getattr(shell, "CustomTB", None)
    func = getattr(custom, "__func__", None)
    cells = getattr(func, "__closure__", None) or ()
    return [c.cell_contents for c in cells if callable(c.cell_contents)]
