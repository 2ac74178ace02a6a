"""TorchRL's ``DecisionTransformerInferenceWrapper`` as a card and as a dataflow.

The wrapper is one module to TensorDict code, but it does three things a learner should
see: it masks the context window it reads (older steps zeroed, actions shifted by one so
that the slot of the step being decided is empty), runs the actor over the window, and
keeps only the last step's action. It stores nothing between calls: the environment's
``CatFrames`` and ``TargetReturn`` carry the window from step to step.
"""

from __future__ import annotations

from typing import Any

from rltutor._keys import key_str
from rltutor.display._modules import flow_of, module_card
from rltutor.display._nodes import Flow, ModuleCard, Step
from rltutor.display._options import Options

__all__ = ["build_dt_wrapper", "dt_wrapper_flow", "is_dt_wrapper"]

_NAME = "DecisionTransformerInferenceWrapper"


def is_dt_wrapper(obj: Any) -> bool:
    """True for a ``DecisionTransformerInferenceWrapper`` (by class, without importing it).

    Args:
        obj: anything.

    >>> is_dt_wrapper(object())
    False
    """
    return any(cls.__name__ == _NAME for cls in type(obj).__mro__) and hasattr(obj, "td_module")


def _context_keys(wrapper: Any) -> tuple[str, str, str]:
    return (key_str(wrapper.observation_key), key_str(wrapper.action_key),
            key_str(wrapper.return_to_go_key))


def _details(wrapper: Any) -> tuple[tuple[str, str], ...]:
    obs, action, rtg = _context_keys(wrapper)
    out = key_str(wrapper.out_action_key)
    n = wrapper.inference_context
    return (
        ("inference_context", f"{n} (older steps zeroed; actions shifted one step)"),
        ("writes", f"{out} of the last step only; {rtg} cut to its last entry"),
        ("keeps", "nothing: the env's CatFrames and TargetReturn carry the window"),
    )


def build_dt_wrapper(wrapper: Any, opts: Options) -> ModuleCard:
    """The card of an inference wrapper: what it reads and keeps, and the actor inside.

    Args:
        wrapper: a ``DecisionTransformerInferenceWrapper``.
        opts: the view's options (a card uses none).
    """
    inner = module_card(wrapper.td_module)
    inner.env_keys = ()
    return ModuleCard(name=_NAME, in_keys=_context_keys(wrapper),
                      out_keys=tuple(key_str(k) for k in wrapper.out_keys),
                      details=_details(wrapper), children=[inner],
                      env_keys=_context_keys(wrapper))


def dt_wrapper_flow(wrapper: Any) -> Flow:
    """The wrapper's dataflow: mask the window, the actor's own steps, keep the last step.

    Args:
        wrapper: a ``DecisionTransformerInferenceWrapper``.
    """
    context = _context_keys(wrapper)
    out_action, rtg = key_str(wrapper.out_action_key), context[2]
    n = wrapper.inference_context
    steps = [Step(1, "mask the window", _NAME, context, context, context,
                  f"keep the last {n} steps, shift actions by one")]
    inner = flow_of(wrapper.td_module)
    written = set(context)
    for step in inner.steps:
        env_reads = tuple(k for k in step.env_reads if k not in written)
        written.update(step.writes)
        steps.append(Step(len(steps) + 1, step.name, f"{_NAME} > {step.group}".rstrip(" >"),
                          step.reads, env_reads, step.writes, step.note))
    steps.append(Step(len(steps) + 1, "keep the last step", _NAME, (out_action, rtg), (),
                      (out_action, rtg), "[context, ...] -> [...]: the action for now"))
    extra = tuple(k for k in inner.env_keys if k not in written and k not in context)
    return Flow(_NAME, steps, context + extra, tuple(key_str(k) for k in wrapper.out_keys))
