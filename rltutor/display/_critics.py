"""Cards for value networks and actor-critic operators: what each part estimates or shares.

A value network is not a policy: it does not act, it scores. Its card says what it
estimates (a state value V(s) or a state-action value Q(s, a)) and, when it reads the
action, that its inputs come from collected data (the env's observation and the policy's
action), not from the environment alone. An actor-critic operator's card names the key
its trunk shares and which head reads it.
"""

from __future__ import annotations

from typing import Any

from rltutor._keys import key_str, module_keys
from rltutor.display._modules import flow_of, module_card
from rltutor.display._nodes import VALUE, Flow, ModuleCard
from rltutor.display._options import Options

__all__ = ["build_actor_critic", "build_value_operator", "is_actor_critic", "is_value_operator",
           "value_flow"]

FROM_COLLECTED = "collected data (env + policy)"  # a Q-network's inputs: obs and the action

# What each value key means, in words.
VALUE_KEYS = {
    "state_value": "state value V(s): the return expected from this state",
    "state_action_value": "state-action value Q(s, a): the return expected after this action",
}
_ACTOR_CRITIC = ("ActorValueOperator", "ActorCriticOperator", "ActorCriticWrapper")


def is_value_operator(obj: Any) -> bool:
    """True for a ``ValueOperator`` (or a single module writing a value key).

    Args:
        obj: anything.

    >>> is_value_operator(3)
    False
    """
    from tensordict.nn import TensorDictModule

    if type(obj).__name__ == "ValueOperator":
        return True
    outs = {key_str(k) for k in getattr(obj, "out_keys", ()) or ()}
    return isinstance(obj, TensorDictModule) and len(outs) == 1 and bool(outs & set(VALUE_KEYS))


def build_value_operator(module: Any, opts: Options) -> ModuleCard:
    """The card of a value network: what it estimates, and where its inputs come from.

    Args:
        module: a value network (``ValueOperator``).
        opts: the view's options (nothing on a card depends on them).

    >>> from torch import nn
    >>> from torchrl.modules import ValueOperator
    >>> q = ValueOperator(nn.Linear(4, 1), in_keys=["observation", "action"])
    >>> build_value_operator(q, Options()).inputs_from
    'collected data (env + policy)'
    """
    card = module_card(module)
    outs = [key_str(k) for k in module_keys(module, "out_keys")]
    meaning = tuple(("estimates", VALUE_KEYS[k]) for k in outs if k in VALUE_KEYS)
    card.details = meaning + card.details
    if _reads_action(module):
        card.inputs_from = FROM_COLLECTED
    return card


def _reads_action(module: Any) -> bool:
    return any(key_str(k) == "action" for k in module_keys(module, "in_keys"))


def value_flow(module: Any) -> Flow:
    """The dataflow of a value network; a Q-network's inputs are not all the env's.

    Args:
        module: a value network (``ValueOperator``).

    >>> from torch import nn
    >>> from torchrl.modules import ValueOperator
    >>> value_flow(ValueOperator(nn.Linear(4, 1), in_keys=["observation", "action"])).inputs_from
    'collected data (env + policy)'
    """
    flow = flow_of(module)
    flow.writer = VALUE
    if _reads_action(module):
        flow.inputs_from = FROM_COLLECTED
    return flow


def is_actor_critic(obj: Any) -> bool:
    """True for ``ActorValueOperator``, ``ActorCriticOperator`` and ``ActorCriticWrapper``.

    Args:
        obj: anything.

    >>> is_actor_critic(3)
    False
    """
    return type(obj).__name__ in _ACTOR_CRITIC


def _shared(module: Any) -> tuple[tuple[str, str], ...]:
    parts = list(module.module)
    if type(module).__name__ == "ActorCriticWrapper":
        return (("shared", "nothing: two separate networks; get_policy_operator() and "
                           "get_value_operator() return each one"),)
    trunk, heads = parts[0], parts[1:]
    written = {key_str(k) for k in module_keys(trunk, "out_keys")}
    readers = []
    for name, head in zip(("policy head", "value head"), heads):
        reads = [key_str(k) for k in module_keys(head, "in_keys")]
        used = [k for k in reads if k in written]
        readers.append(f"{name} reads {', '.join(used) or 'none of it'}")
    facts = [("shared trunk", f"writes {', '.join(sorted(written))}; " + "; ".join(readers))]
    if type(module).__name__ == "ActorCriticOperator":
        facts.append(("critic", "reads the policy head's action: get_critic_operator() runs "
                                "the whole chain"))
    else:
        facts.append(("taken apart", "get_policy_operator() = trunk + policy head, "
                                     "get_value_operator() = trunk + value head, "
                                     "same parameters"))
    return tuple(facts)


def build_actor_critic(module: Any, opts: Options) -> ModuleCard:
    """The card of an actor-critic operator, with what its trunk shares and with whom.

    Args:
        module: an ``ActorValueOperator``, ``ActorCriticOperator`` or ``ActorCriticWrapper``.
        opts: the view's options (nothing on a card depends on them).

    >>> from tensordict.nn import TensorDictModule
    >>> from torch import nn
    >>> from torchrl.modules import ActorValueOperator, ValueOperator
    >>> trunk = TensorDictModule(nn.Linear(3, 4), in_keys=["observation"], out_keys=["hidden"])
    >>> head = TensorDictModule(nn.Linear(4, 1), in_keys=["hidden"], out_keys=["action"])
    >>> agent = ActorValueOperator(trunk, head, ValueOperator(nn.Linear(4, 1), in_keys=["hidden"]))
    >>> build_actor_critic(agent, Options()).details[0]
    ('shared trunk', 'writes hidden; policy head reads hidden; value head reads hidden')
    """
    card = module_card(module)
    card.details = _shared(module) + card.details
    return card
