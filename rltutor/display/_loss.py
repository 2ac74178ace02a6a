"""Cards and dataflows for TorchRL loss modules: inputs come from a batch, not the env.

A loss is not a policy. It never meets the environment: it is called on a batch of
collected data (a rollout, a collector's batch, a replay-buffer sample), runs its
networks on it again, and writes loss terms. Its card says so, lists the keys it needs
from the batch (``rltutor._loss_keys.batch_keys``: the loss's ``in_keys`` minus what it
computes itself, its own actor's prediction included), its networks, their target copies
and its value estimator. The keys a loss reads only sometimes (a PPO loss's ``advantage``
and ``value_target``, which its value estimator writes when the batch has no advantage)
get a line of their own on the card and a step of their own in the dataflow. A custom
loss that declares no ``in_keys`` gets a card that says that, not ``- -> -``.
"""

from __future__ import annotations

from typing import Any

from rltutor._keys import key_str, module_keys
from rltutor._kinds import is_loss_module
from rltutor._loss_keys import batch_keys, declares_keys, estimator_keys, loss_networks
from rltutor.display._modules import module_card, step_name
from rltutor.display._nodes import Flow, ModuleCard, Step
from rltutor.display._options import Options

__all__ = ["BATCH", "build_loss", "is_loss", "loss_flow"]

BATCH = "a batch of collected data"


def is_loss(obj: Any) -> bool:
    """True for a TorchRL loss module (the handler test for loss cards).

    Args:
        obj: anything.

    >>> is_loss("DQNLoss")
    False
    """
    return is_loss_module(obj)


def _estimator_name(loss: Any) -> str:
    estimator = getattr(loss, "_value_estimator", None)  # the attribute: no lazy creation
    if estimator is not None:
        return type(estimator).__name__
    default = getattr(loss, "default_value_estimator", None)
    return getattr(default, "name", "a value estimator")


def _sometimes(loss: Any) -> tuple[str, str] | None:
    """The card's line for the keys a loss reads only when the batch brings them."""
    keys = [key_str(k) for k in estimator_keys(loss)]
    if not keys:
        return None
    text = (f"{', '.join(keys)} when the batch brings them ({_estimator_name(loss)} writes "
            f"them inside the loss when the batch has no '{keys[0]}'")
    if len(keys) > 1:
        text += f"; a batch that brings '{keys[0]}' must bring '{keys[1]}' too"
    return ("also reads", text + ")")


def _details(loss: Any) -> tuple[tuple[str, str], ...]:
    details = []
    targets = [name.removeprefix("target_").removesuffix("_params")
               for name, _ in loss.named_children()
               if name.startswith("target_") and name.endswith("_params")]
    if targets:
        details.append(("target copies", ", ".join(targets)
                        + " (lag behind; SoftUpdate/HardUpdate bring them closer)"))
    estimator = getattr(loss, "_value_estimator", None)  # the attribute: no lazy creation
    if estimator is not None:
        outs = ", ".join(key_str(k) for k in module_keys(estimator, "out_keys"))
        details.append(("value estimator", f"{type(estimator).__name__} (writes {outs})"))
    sometimes = _sometimes(loss)
    if sometimes is not None:
        details.append(sometimes)
    if not declares_keys(loss):
        details.append(("in_keys", "none declared: a custom loss reads whatever its "
                                   "forward() takes from the batch"))
    return tuple(details)


def build_loss(loss: Any, opts: Options) -> ModuleCard:
    """The loss handler: what the loss reads from a batch, its networks, what it writes.

    Args:
        loss: a TorchRL loss module.
        opts: the view's options (nothing on a card depends on them).

    >>> from torchrl.modules import MLP, QValueActor
    >>> from torchrl.objectives import DQNLoss
    >>> actor = QValueActor(MLP(in_features=4, out_features=2), in_keys=["observation"],
    ...                     spec=None, action_space="one_hot")
    >>> card = build_loss(DQNLoss(actor, action_space="one_hot"), Options())
    >>> card.inputs_from, card.in_keys[:2]
    ('a batch of collected data', ('action', 'observation'))
    """
    needed = tuple(key_str(k) for k in batch_keys(loss))
    children = []
    for attr, network in loss_networks(loss):
        card = module_card(network)
        card.name = f"{attr}: {card.name}"
        card.env_keys = ()
        children.append(card)
    return ModuleCard(
        name=type(loss).__name__,
        in_keys=needed,
        out_keys=tuple(key_str(k) for k in getattr(loss, "out_keys", None) or ()),
        details=_details(loss),
        children=children,
        env_keys=needed,
        inputs_from=BATCH,
    )


def loss_flow(loss: Any) -> Flow:
    """The dataflow of a loss: each network run on the batch, then the loss terms.

    Args:
        loss: a TorchRL loss module.

    >>> from torchrl.modules import MLP, QValueActor
    >>> from torchrl.objectives import DQNLoss
    >>> actor = QValueActor(MLP(in_features=4, out_features=2), in_keys=["observation"],
    ...                     spec=None, action_space="one_hot")
    >>> [step.name for step in loss_flow(DQNLoss(actor, action_space="one_hot")).steps]
    ['QValueActor', 'DQNLoss']
    """
    needed = [key_str(k) for k in batch_keys(loss)]
    steps, written, valued = [], [], []
    for index, (attr, network) in enumerate(loss_networks(loss), start=1):
        reads = tuple(key_str(k) for k in module_keys(network, "in_keys"))
        writes = tuple(key_str(k) for k in module_keys(network, "out_keys"))
        steps.append(Step(index, step_name(network), attr, reads,
                          tuple(k for k in reads if k not in written), writes,
                          "run again on the batch, with gradients"))
        written += list(writes)
        if attr in ("critic_network", "value_network"):
            valued += list(writes)
    estimated = tuple(key_str(k) for k in estimator_keys(loss))
    if estimated:
        # the value estimator reads the critic's values and the next step's entries
        reads = (*valued, *(k for k in needed if k.startswith("next.")))
        steps.append(Step(len(steps) + 1, _estimator_name(loss), "value estimator", reads,
                          tuple(k for k in reads if k not in valued), estimated,
                          f"run by the loss only when the batch has no '{estimated[0]}'"))
        written += list(estimated)
    outs = tuple(key_str(k) for k in getattr(loss, "out_keys", None) or ())
    from_batch = tuple(k for k in needed if k not in written)
    note = ("" if declares_keys(loss) else
            "declares no in_keys: reads whatever its forward() takes")
    steps.append(Step(len(steps) + 1, type(loss).__name__, "", (*needed, *estimated),
                      from_batch, outs, note))
    # a loss writes its terms into its own output, never into the batch: no writer badge
    return Flow(type(loss).__name__, steps, tuple(needed), outs, inputs_from=BATCH, writer="")
