"""Which keys a TorchRL loss needs from a batch, and which networks it runs on it.

Shared by ``rltutor.diagnostics.check_loss`` and the loss views in ``rltutor.display``
(which must not import the diagnostics). A loss's ``in_keys`` list a few keys it fills
in itself: the target actor's next action (``("next", "action")`` for DDPG) and the
``priority_weight`` only a prioritised replay buffer writes; :func:`batch_keys` leaves
them out.

    >>> from torchrl.modules import MLP, QValueActor
    >>> from torchrl.objectives import DQNLoss
    >>> actor = QValueActor(MLP(in_features=4, out_features=2), in_keys=["observation"],
    ...                     spec=None, action_space="one_hot")
    >>> batch_keys(DQNLoss(actor, action_space="one_hot"))[:3]
    [('action',), ('observation',), ('next', 'done')]
"""

from __future__ import annotations

from typing import Any

from rltutor._keys import Path, as_path, module_keys
from rltutor._kinds import is_loss_module

__all__ = ["batch_keys", "check_loss_module", "loss_networks", "tensor_key"]

# The attributes TorchRL losses keep their networks in, in the order worth listing.
_NETWORK_ATTRS = ("actor_network", "value_network", "qvalue_network", "critic_network")


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


def _computed_by_loss(loss: Any) -> set[Path]:
    """Keys in ``loss.in_keys`` the loss fills in itself, so the batch need not hold them."""
    computed: set[Path] = set()
    weight = tensor_key(loss, "priority_weight")
    if weight is not None:
        computed.add(weight)  # only a prioritized buffer writes it; 1 when absent
    for _, network in loss_networks(loss):
        for out in module_keys(network, "out_keys"):
            computed.add(("next", *out))  # a (target) network run on the next observation
    return computed


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
    skip = _computed_by_loss(loss)
    keys: list[Path] = []
    for key in getattr(loss, "in_keys", ()) or ():
        path = as_path(key)
        if path not in skip and path not in keys:
            keys.append(path)
    return sorted(keys, key=lambda path: (path[0] == "next", path))
