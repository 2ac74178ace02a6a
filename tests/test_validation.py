"""Argument checks: good values come back canonical, bad ones get a helpful ValueError."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict
from tensordict.nn import InteractionType, TensorDictModule
from torchrl.envs.utils import ExplorationType

from rltutor.devices import available_devices
from rltutor.validation import (
    check_device,
    check_env_name,
    check_epsilon,
    check_exploration,
    check_in_keys,
    check_steps,
)


@pytest.mark.parametrize("eps", [0, 0.0, 0.3, 1, 1.0, torch.tensor(0.5)])
def test_check_epsilon_accepts_numbers_in_unit_interval(eps):
    assert check_epsilon(eps) == pytest.approx(float(eps))
    assert isinstance(check_epsilon(eps), float)


@pytest.mark.parametrize("eps", [1.5, -0.1, float("nan"), "0.5", None, True])
def test_check_epsilon_rejects(eps):
    with pytest.raises(ValueError, match=r"epsilon must be a number in \[0, 1\]"):
        check_epsilon(eps)


def test_check_epsilon_message_shows_value():
    with pytest.raises(ValueError, match=r"got 1\.5$"):
        check_epsilon(1.5)


def test_available_devices_lists_this_machine():
    devices = available_devices()
    assert devices[0] == "cpu"
    assert len(devices) == 1 + torch.cuda.device_count() + int(torch.backends.mps.is_available())


def test_check_device_accepts_strings_and_devices():
    assert check_device("cpu") == torch.device("cpu")
    assert check_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("device", ["cuda:7", "mps:3", "gpu", 42])
def test_check_device_rejects_missing_devices(device):
    if device == "mps:3" and torch.backends.mps.is_available():  # pragma: no cover
        pytest.skip("mps exists here")
    with pytest.raises(ValueError, match="available: cpu"):
        check_device(device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_check_device_cuda_message_names_available_devices():
    with pytest.raises(ValueError) as info:
        check_device("cuda")
    assert str(info.value) == (
        "device 'cuda' is not available on this machine; available: "
        + ", ".join(available_devices())
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("deterministic", ExplorationType.DETERMINISTIC),
        ("RANDOM", ExplorationType.RANDOM),
        (" Mode ", ExplorationType.MODE),
        ("mean", ExplorationType.MEAN),
        ("median", ExplorationType.MEDIAN),
        (ExplorationType.RANDOM, ExplorationType.RANDOM),
        (InteractionType.MEAN, ExplorationType.MEAN),
    ],
)
def test_check_exploration_accepts(given, expected):
    assert check_exploration(given) is expected


@pytest.mark.parametrize("mode", ["greedy", "", None, 3])
def test_check_exploration_rejects_and_lists_accepted(mode):
    with pytest.raises(ValueError) as info:
        check_exploration(mode)
    for name in ("deterministic", "random", "mode", "mean", "median"):
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("steps", [1, 200, torch.tensor(3).item()])
def test_check_steps_accepts(steps):
    assert check_steps(steps) == steps


@pytest.mark.parametrize("steps", [0, -5, 2.5, "10", True, None])
def test_check_steps_rejects(steps):
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        check_steps(steps)


def test_check_env_name_accepts_registered_ids():
    assert check_env_name("Pendulum-v1") == "Pendulum-v1"
    assert check_env_name("CartPole-v1") == "CartPole-v1"


def test_check_env_name_suggests_close_names():
    expected = "unknown environment 'Pendulm-v1'. Did you mean 'Pendulum-v1'"
    with pytest.raises(ValueError, match=expected):
        check_env_name("Pendulm-v1")


def test_check_env_name_suggests_despite_case():
    with pytest.raises(ValueError, match="Did you mean 'CartPole-v1'"):
        check_env_name("cartpole")


def test_check_env_name_rejects_non_strings():
    with pytest.raises(ValueError, match="must be a string"):
        check_env_name(None)


def _module():
    return TensorDictModule(torch.nn.Linear(3, 1), in_keys=["observation"], out_keys=["action"])


def test_check_in_keys_passes_when_present():
    check_in_keys(_module(), TensorDict({"observation": torch.zeros(3)}))
    check_in_keys(_module(), {"observation": torch.zeros(3)})


def test_check_in_keys_names_missing_and_present_keys():
    td = TensorDict({"obs": torch.zeros(3), "next": {"reward": torch.zeros(1)}})
    with pytest.raises(ValueError) as info:
        check_in_keys(_module(), td)
    message = str(info.value)
    assert "'observation'" in message
    assert "'obs'" in message and "'next.reward'" in message


def test_check_in_keys_nested_key():
    module = TensorDictModule(
        torch.nn.Linear(3, 1), in_keys=[("agent", "obs")], out_keys=["action"]
    )
    check_in_keys(module, TensorDict({"agent": {"obs": torch.zeros(3)}}))
    with pytest.raises(ValueError, match="'agent.obs'"):
        check_in_keys(module, TensorDict({"agent": {"x": torch.zeros(3)}}))
