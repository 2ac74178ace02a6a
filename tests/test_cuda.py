"""The device path on a real GPU: the explorer's device control, exploration specs, diagnostics.

These run only where CUDA exists (the CPU-only CI machines report them as skipped, not
passed); the same behaviour is covered with the ``meta`` device in test_rollouts,
test_widgets and test_diagnostics.
"""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import TensorDictSequential
from torchrl.envs import GymEnv, SerialEnv
from torchrl.modules import AdditiveGaussianModule, EGreedyModule

import rltutor
from rltutor.devices import available_devices
from rltutor.diagnostics import check_policy, hint_for
from rltutor.rollouts import move_to_device

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _spec_devices(policy: torch.nn.Module) -> set[str]:
    found = set()
    for module in policy.modules():
        spec = getattr(module, "_spec", None)
        if spec is None:
            continue
        leaves = spec.values(True, True) if hasattr(spec, "values") else [spec]
        found |= {str(leaf.device) for leaf in leaves if leaf is not None}
    return found


def test_cuda_is_offered_by_the_device_control():
    assert "cuda:0" in available_devices()
    panel = rltutor.explorer(rltutor.make_env("Pendulum-v1"),
                             rltutor.make_actor(rltutor.make_env("Pendulum-v1")))
    assert "cuda:0" in panel.controls["device"].options
    panel.close()


def test_device_control_moves_egreedy_policy_env_and_spec_to_cuda_and_back():
    env = rltutor.make_env("CartPole-v1")
    policy = rltutor.with_egreedy(rltutor.make_qvalue_policy(env), env, eps=0.5)
    panel = rltutor.explorer(env, policy)
    panel.controls["device"].value = "cuda:0"
    assert panel.last_error is None, panel.last_error
    assert panel.stats["action_device"] == "cuda:0"
    assert panel.rollout_td["action"].device.type == "cuda"
    assert next(policy.parameters()).device.type == "cuda"
    assert _spec_devices(policy) == {"cuda:0"}
    assert 0.1 < panel.stats["explored_fraction"] < 0.5  # e-greedy really ran on the GPU

    panel.controls["epsilon"].value = 1.0
    assert panel.last_error is None, panel.last_error

    panel.controls["device"].value = "cpu"
    assert panel.last_error is None, panel.last_error
    assert panel.stats["action_device"] == "cpu"
    assert _spec_devices(policy) == {"cpu"}
    panel.close()


def test_same_seed_same_rollout_on_cpu_and_cuda_for_a_deterministic_policy():
    env = rltutor.make_env("Pendulum-v1")
    policy = rltutor.make_actor(env, num_cells=(32, 32))
    on_cpu = rltutor.rollout(env, policy, steps=50)
    move_to_device(env, policy, "cuda")
    on_gpu = rltutor.rollout(env, policy, steps=50)
    assert on_gpu["action"].device.type == "cuda"
    torch.testing.assert_close(on_gpu["next", "reward"].cpu(), on_cpu["next", "reward"],
                               atol=1e-3, rtol=1e-3)


def test_policy_on_cuda_env_on_cpu_fails_and_is_caught():
    env = GymEnv("Pendulum-v1")
    policy = rltutor.make_actor(env, num_cells=(16,)).to("cuda")
    assert [finding.code for finding in check_policy(policy, env)] == ["policy-env-device"]
    with pytest.raises(RuntimeError, match="same device") as raised:
        env.rollout(5, policy)
    assert hint_for(raised.value).code == "two-devices"


def test_multi_process_collector_moves_worker_envs_to_the_policy_device():
    from torchrl.collectors import Collector

    policy = rltutor.make_actor(GymEnv("Pendulum-v1"), num_cells=(16,)).to("cuda")
    collector = Collector(_make_pendulum, policy, num_collectors=2, sync=True, device="cuda",
                          frames_per_batch=40, total_frames=40,
                          auto_register_policy_transforms=False)
    try:
        batch = next(iter(collector))
    finally:
        collector.shutdown()
    assert batch.numel() == 40 and batch["action"].device.type == "cuda"


def _make_pendulum() -> GymEnv:
    return GymEnv("Pendulum-v1")


def test_batched_env_explorer_on_cuda():
    env = SerialEnv(2, lambda: GymEnv("Pendulum-v1"))
    policy = rltutor.with_gaussian_noise(rltutor.make_actor(env, num_cells=(16,)), env)
    panel = rltutor.explorer(env, policy, controls=("exploration", "device", "steps"))
    panel.controls["device"].value = "cuda:0"
    assert panel.last_error is None, panel.last_error
    assert panel.rollout_td.batch_size[0] == 2
    assert panel.stats["action_device"] == "cuda:0"
    panel.close()
    env.close()


def test_egreedy_spec_left_on_the_cpu_fails_and_is_caught():
    env = GymEnv("CartPole-v1", device="cuda")
    egreedy = EGreedyModule(spec=env.action_spec.to("cpu"), eps_init=1.0)
    policy = TensorDictSequential(rltutor.make_qvalue_policy(env), egreedy)
    assert [finding.code for finding in check_policy(policy, env)] == ["exploration-spec-device"]
    with pytest.raises(RuntimeError, match="e-greedy") as raised:
        env.rollout(5, policy)
    assert hint_for(raised.value).code == "exploration-spec-device"


def test_spec_left_on_the_cpu_is_named_by_check_policy():
    # AdditiveGaussianModule does not fail (seen on an H100): it copies across devices,
    # every step; check_policy still names it.
    env = GymEnv("Pendulum-v1", device="cuda")
    policy = rltutor.make_actor(env, num_cells=(16,))
    noisy = TensorDictSequential(policy, AdditiveGaussianModule(spec=env.action_spec.to("cpu")))
    codes = [finding.code for finding in check_policy(noisy, env)]
    assert codes == ["exploration-spec-device"]

    fixed = TensorDictSequential(policy, AdditiveGaussianModule(spec=env.action_spec))
    assert check_policy(fixed, env) == []
    assert env.rollout(5, fixed)["action"].device.type == "cuda"
