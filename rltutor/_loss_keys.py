"""Which keys a TorchRL loss needs from a batch, and which networks it runs on it.

Shared by ``rltutor.diagnostics.check_loss`` and the loss views in ``rltutor.display``
(which must not import the diagnostics). A loss's ``in_keys`` are not the whole truth,
either way:

- they list keys the loss fills in itself: the target actor's next action
  (``("next", "action")`` for DDPG), the ``priority_weight`` only a prioritised replay
  buffer writes, and what the loss's own actor writes (``DTLoss`` lists its predicted
  ``action``, even after ``set_keys(action_target=...)`` moved the target elsewhere);
  :func:`batch_keys` leaves them out and adds the target the loss reads now;
- they leave out keys read only sometimes: ``ClipPPOLoss``, ``A2CLoss`` and
  ``ReinforceLoss`` compute ``advantage`` and ``value_target`` with their value estimator
  when the batch has no advantage, and read both from the batch when it has one;
  :func:`estimator_keys` names them.

    >>> from torchrl.modules import MLP, QValueActor
    >>> from torchrl.objectives import DQNLoss
    >>> actor = QValueActor(MLP(in_features=4, out_features=2), in_keys=["observation"],
    ...                     spec=None, action_space="one_hot")
    >>> batch_keys(DQNLoss(actor, action_space="one_hot"))[:3]
    [('action',), ('observation',), ('next', 'done')]
"""

from __future__ import annotations

from typing import Any

from rltutor._keys import Path, as_path, key_str, module_keys
from rltutor._kinds import is_loss_module

__all__ = ["batch_keys", "check_loss_module", "declares_keys", "estimator_keys", "loss_networks",
           "tensor_key"]

# The attributes TorchRL losses keep their networks in, in the order worth listing.
_NETWORK_ATTRS = ("actor_network", "value_network", "qvalue_network", "critic_network")
# The fields of ``loss.tensor_keys`` that name keys a loss reads from the batch, even when
# one of its own networks writes the same key while acting (DQN's 'action').
_BATCH_FIELDS = ("action", "action_target", "sample_log_prob", "reward", "done", "terminated")
# Losses that take advantage and value target from the batch when it brings an advantage
# (subclasses count: ClipPPOLoss and KLPENPPOLoss are PPOLosses).
_ADVANTAGE_LOSSES = ("PPOLoss", "A2CLoss", "ReinforceLoss")


def check_loss_module(loss: Any) -> None:
    """A TypeError saying what is accepted, unless ``loss`` is a TorchRL loss module.

    Args:
        loss: anything.

    >>> check_loss_module("DQNLoss")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: check_loss takes a TorchRL loss module (DQNLoss, ClipPPOLoss, ...), got str
    """
    if not is_loss_module(loss):
        raise TypeError(
            f"check_loss takes a TorchRL loss module (DQNLoss, ClipPPOLoss, DDPGLoss, "
            f"SACLoss, ...), got {type(loss).__name__}"
        )


def loss_networks(loss: Any) -> list[tuple[str, Any]]:
    """The networks a loss runs on the batch, as ``(attribute, module)`` pairs.

    TorchRL keeps the parameters apart (``actor_network_params`` ...) and the module
    without them under these names; the modules' keys are what matter here.

    Args:
        loss: a TorchRL loss module.

    >>> from torchrl.modules import MLP, QValueActor
    >>> from torchrl.objectives import DQNLoss
    >>> actor = QValueActor(MLP(in_features=4, out_features=2), in_keys=["observation"],
    ...                     spec=None, action_space="one_hot")
    >>> [name for name, _ in loss_networks(DQNLoss(actor, action_space="one_hot"))]
    ['value_network']
    """
    found = []
    for attr in _NETWORK_ATTRS:
        module = getattr(loss, attr, None)
        if module is not None and hasattr(module, "in_keys"):
            found.append((attr, module))
    return found


def tensor_key(loss: Any, name: str) -> Path | None:
    """The key a loss uses for one of its named inputs (``loss.tensor_keys.<name>``).

    Args:
        loss: a TorchRL loss module.
        name: the field of ``loss.tensor_keys``, e.g. ``"action"`` or ``"sample_log_prob"``.

    >>> tensor_key(object(), "action") is None
    True
    """
    keys = getattr(loss, "tensor_keys", None)
    value = getattr(keys, name, None) if keys is not None else None
    return as_path(value) if isinstance(value, (str, tuple)) else None


def declares_keys(loss: Any) -> bool:
    """True when ``loss`` lists its ``in_keys`` (a hand-written ``LossModule`` may not).

    Args:
        loss: a TorchRL loss module.

    >>> from torchrl.objectives import LossModule
    >>> declares_keys(LossModule())
    False
    """
    try:
        return bool(getattr(loss, "in_keys", None))
    except Exception:  # a custom in_keys property that fails declares nothing usable
        return False


def _batch_inputs(loss: Any) -> set[Path]:
    return {key for name in _BATCH_FIELDS if (key := tensor_key(loss, name)) is not None}


def _computed_by_loss(loss: Any) -> set[Path]:
    """Keys in ``loss.in_keys`` the loss fills in itself, so the batch need not hold them."""
    computed: set[Path] = set()
    weight = tensor_key(loss, "priority_weight")
    if weight is not None:
        computed.add(weight)  # only a prioritized buffer writes it; 1 when absent
    written: set[Path] = set()
    read: set[Path] = set()
    for _, network in loss_networks(loss):
        outs = set(module_keys(network, "out_keys"))
        written |= outs
        read |= set(module_keys(network, "in_keys"))
        computed |= {("next", *out) for out in outs}  # a (target) network on the next step
    # what its own networks write and none of them reads (DTLoss's predicted action),
    # unless the loss reads that key from the batch too (DQN's 'action')
    return computed | (written - read - _batch_inputs(loss))


def estimator_keys(loss: Any) -> tuple[Path, ...]:
    """``(advantage, value_target)`` for a loss that reads them from a batch bringing them.

    ``ClipPPOLoss`` (any ``PPOLoss``), ``A2CLoss`` and ``ReinforceLoss`` run their value
    estimator when the batch has no advantage; given one, they take the value target from
    the batch too (for the critic's term). Other losses: ``()``.

    Args:
        loss: a TorchRL loss module.

    >>> from torchrl.modules import MLP, QValueActor
    >>> from torchrl.objectives import DQNLoss
    >>> actor = QValueActor(MLP(in_features=4, out_features=2), in_keys=["observation"],
    ...                     spec=None, action_space="one_hot")
    >>> estimator_keys(DQNLoss(actor, action_space="one_hot"))
    ()
    """
    if not any(c.__name__ in _ADVANTAGE_LOSSES and c.__module__.startswith("torchrl.")
               for c in type(loss).__mro__):
        return ()
    advantage = tensor_key(loss, "advantage")
    target = tensor_key(loss, "value_target")
    if advantage is None:
        return ()
    critic = "loss_critic" in [key_str(k) for k in getattr(loss, "out_keys", None) or ()]
    return (advantage, target) if critic and target is not None else (advantage,)


def batch_keys(loss: Any) -> list[Path]:
    """The keys a batch must hold for ``loss``, as paths: root keys first, then ``next``.

    Sorted, because some losses build ``in_keys`` from a set, whose order changes from
    one Python process to the next.

    Args:
        loss: a TorchRL loss module.

    >>> from torchrl.modules import MLP, QValueActor
    >>> from torchrl.objectives import DQNLoss
    >>> actor = QValueActor(MLP(in_features=4, out_features=2), in_keys=["observation"],
    ...                     spec=None, action_space="one_hot")
    >>> batch_keys(DQNLoss(actor, action_space="one_hot"))[:3]
    [('action',), ('observation',), ('next', 'done')]
    """
    check_loss_module(loss)
    if not declares_keys(loss):
        return []
    skip = _computed_by_loss(loss)
    keys: list[Path] = []
    target = tensor_key(loss, "action_target")  # in_keys may hold the target set before
    for key in [*loss.in_keys, *([target] if target is not None else [])]:
        path = as_path(key)
        if path not in skip and path not in keys:
            keys.append(path)
    return sorted(keys, key=lambda path: (path[0] == "next", path))
