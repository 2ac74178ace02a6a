"""rltutor/diagnostics.py: each classic mistake is made for real, then caught."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import (
    ExplorationType,
    GymEnv,
    InitTracker,
    TransformedEnv,
    set_exploration_type,
)
from torchrl.modules import (
    AdditiveGaussianModule,
    EGreedyModule,
    GRUModule,
    LSTMModule,
    ProbabilisticActor,
    QValueModule,
    set_recurrent_mode,
)

from rltutor.diagnostics import (
    Finding,
    check_policy,
    hint_for,
    install_hints,
    uninstall_hints,
)
from rltutor.policies import (
    make_actor,
    make_categorical_actor,
    make_gaussian_actor,
    make_qvalue_policy,
    with_egreedy,
    with_gaussian_noise,
)


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def lstm_policy(in_features: int = 3, hidden: int = 8) -> tuple[LSTMModule, TensorDictSequential]:
    torch.manual_seed(0)
    lstm = LSTMModule(input_size=in_features, hidden_size=hidden, in_key="observation",
                      out_key="embed")
    head = TensorDictModule(nn.Linear(hidden, 1), in_keys=["embed"], out_keys=["action"])
    return lstm, TensorDictSequential(lstm, head)


# ------------------------------------------------------------------ correct policies


def test_correct_policies_give_no_findings(pendulum: GymEnv, cartpole: GymEnv) -> None:
    assert check_policy(make_actor(pendulum), pendulum) == []
    assert check_policy(make_gaussian_actor(pendulum), pendulum) == []
    assert check_policy(make_gaussian_actor(pendulum, bounded=False), pendulum,
                        exploration_type="mean") == []
    assert check_policy(make_categorical_actor(cartpole), cartpole,
                        exploration_type="mode") == []
    assert check_policy(with_egreedy(make_qvalue_policy(cartpole), cartpole), cartpole) == []
    assert check_policy(with_gaussian_noise(make_actor(pendulum), pendulum), pendulum) == []


def test_correct_recurrent_policy_gives_no_findings() -> None:
    lstm, policy = lstm_policy()
    env = TransformedEnv(GymEnv("Pendulum-v1"), InitTracker())
    env.append_transform(lstm.make_tensordict_primer())
    assert check_policy(policy, env) == []


def test_no_findings_render_as_ok() -> None:
    env = GymEnv("Pendulum-v1")
    found = check_policy(make_actor(env), env)
    assert "no known mistakes" in str(found)
    assert 'data-code="ok"' in found._repr_html_()


# ------------------------------------------------------------------ 1. recurrent primer


def test_recurrent_policy_without_primer_really_forgets_and_is_caught() -> None:
    lstm, policy = lstm_policy()
    env = TransformedEnv(GymEnv("Pendulum-v1"), InitTracker())
    env.set_seed(0)
    with torch.no_grad():
        rollout_td = env.rollout(6, policy)
    # the mistake for real: each step's state is what a fresh LSTM makes of that step alone
    alone = TensorDict({"observation": rollout_td["observation"],
                        "is_init": torch.ones(6, 1, dtype=torch.bool)}, batch_size=[6])
    with torch.no_grad():
        fresh = lstm(alone)
    assert torch.allclose(rollout_td["next", "recurrent_state_h"],
                          fresh["next", "recurrent_state_h"], atol=1e-6)
    found = check_policy(policy, env)
    assert codes(found) == ["recurrent-no-primer"]
    assert "make_tensordict_primer" in found[0].fix
    assert "recurrent_state_h" in found[0].what and "recurrent_state_c" in found[0].what


def test_with_primer_the_state_is_carried() -> None:
    lstm, policy = lstm_policy()
    env = TransformedEnv(GymEnv("Pendulum-v1"), InitTracker())
    env.append_transform(lstm.make_tensordict_primer())
    env.set_seed(0)
    with torch.no_grad():
        rollout_td = env.rollout(6, policy)
    # the state read at step t is the one written at step t-1
    assert torch.equal(rollout_td["recurrent_state_h"][1:],
                       rollout_td["next", "recurrent_state_h"][:-1])


def test_gru_without_primer_is_caught_too() -> None:
    torch.manual_seed(0)
    gru = GRUModule(input_size=3, hidden_size=4, in_key="observation", out_key="embed")
    policy = TensorDictSequential(
        gru, TensorDictModule(nn.Linear(4, 1), in_keys=["embed"], out_keys=["action"]))
    env = TransformedEnv(GymEnv("Pendulum-v1"), InitTracker())
    assert codes(check_policy(policy, env)) == ["recurrent-no-primer"]


def test_recurrent_policy_without_init_tracker_fails_and_is_caught() -> None:
    lstm, policy = lstm_policy()
    env = TransformedEnv(GymEnv("Pendulum-v1"), lstm.make_tensordict_primer())
    with pytest.raises(KeyError) as raised:
        env.rollout(3, policy)
    assert codes(check_policy(policy, env)) == ["recurrent-no-init-tracker"]
    assert hint_for(raised.value).code == "recurrent-no-init-tracker"


def test_recurrent_mode_on_one_step_gets_a_hint() -> None:
    lstm, policy = lstm_policy()
    env = TransformedEnv(GymEnv("Pendulum-v1"), InitTracker())
    env.append_transform(lstm.make_tensordict_primer())
    with pytest.raises(ValueError) as raised, set_recurrent_mode(True):
        policy(env.reset())
    assert hint_for(raised.value).code == "recurrent-mode-no-time"


# ------------------------------------------------------------------ 2. spec device


def test_exploration_spec_on_another_device_fails_and_is_caught(cartpole: GymEnv) -> None:
    # no GPU here: the 'meta' device stands in for "not where the action is"
    egreedy = EGreedyModule(spec=cartpole.action_spec.to("meta"), eps_init=1.0)
    policy = TensorDictSequential(make_qvalue_policy(cartpole), egreedy)
    with pytest.raises(NotImplementedError) as raised:
        cartpole.rollout(3, policy)
    found = check_policy(policy, cartpole)
    assert codes(found) == ["exploration-spec-device"]
    assert "meta" in found[0].what and "cpu" in found[0].what
    assert hint_for(raised.value).code == "exploration-spec-device"


def test_gaussian_noise_spec_device_is_caught(pendulum: GymEnv) -> None:
    noise = AdditiveGaussianModule(spec=pendulum.action_spec.to("meta"))
    policy = TensorDictSequential(make_actor(pendulum), noise)
    assert codes(check_policy(policy, pendulum)) == ["exploration-spec-device"]


def test_cuda_device_message_gets_the_two_devices_hint() -> None:
    # the message PyTorch gives on a GPU machine (seen there with a CPU env and a CUDA policy)
    error = RuntimeError("Expected all tensors to be on the same device, but got mat1 is on "
                         "cpu, different from other tensors on cuda:0")
    hint = hint_for(error)
    assert hint.code == "two-devices"
    assert "device=device" in hint.fix and "check_policy" in hint.fix


def test_egreedy_device_message_gets_the_spec_hint() -> None:
    # EGreedyModule's own check, as raised on a GPU machine with a CUDA env and a CPU spec
    error = RuntimeError("Expected action and e-greedy module to be on the same device, but "
                         "got action.device=device(type='cuda', index=0) and e-greedy "
                         "device=cpu.")
    assert hint_for(error).code == "exploration-spec-device"


def test_policy_on_another_device_than_the_env_is_caught(pendulum: GymEnv) -> None:
    policy = make_actor(pendulum).to("meta")  # stands in for a GPU this machine lacks
    found = check_policy(policy, pendulum)
    assert codes(found) == ["policy-env-device"]
    assert "meta" in found[0].what and "cpu" in found[0].what
    assert "Collector(make_env, policy, device=...)" in found[0].fix


# ------------------------------------------------------------------ 3. sample_log_prob


def test_sample_log_prob_key_is_caught(pendulum: GymEnv) -> None:
    good = make_gaussian_actor(pendulum)
    # the mistake: an actor told to write the old key name
    old = ProbabilisticActor(good.module[0], in_keys=["loc", "scale"],
                             spec=pendulum.action_spec,
                             distribution_class=torch.distributions.Normal,
                             return_log_prob=True, log_prob_key="sample_log_prob")
    assert ("sample_log_prob" in old(pendulum.reset()).keys())
    found = check_policy(old, pendulum)
    assert codes(found) == ["sample-log-prob"]
    assert "action_log_prob" in found[0].fix


def test_reading_sample_log_prob_from_a_rollout_gets_a_hint(pendulum: GymEnv) -> None:
    rollout_td = pendulum.rollout(3, make_gaussian_actor(pendulum))
    assert "action_log_prob" in rollout_td.keys()
    with pytest.raises(KeyError) as raised:
        rollout_td["sample_log_prob"]
    finding = hint_for(raised.value)
    assert finding.code == "sample-log-prob" and "action_log_prob" in finding.why


# ------------------------------------------------------------------ 4. QValueModule spec


def test_spec_passed_positionally_to_qvalue_module_gets_a_hint(cartpole: GymEnv) -> None:
    with pytest.raises(TypeError) as raised:
        QValueModule(cartpole.action_spec)
    finding = hint_for(raised.value)
    assert finding.code == "qvalue-positional-spec"
    assert finding.fix == "QValueModule(spec=env.action_spec)"


def test_qvalue_action_space_mismatch_acts_wrongly_and_is_caught(cartpole: GymEnv) -> None:
    # a value net that always prefers action 1 (push right)
    prefers_right = TensorDictModule(
        lambda obs: torch.tensor([0.0, 1.0]).expand(*obs.shape[:-1], 2),
        in_keys=["observation"], out_keys=["action_value"])
    policy = TensorDictSequential(prefers_right, QValueModule(action_space="categorical"))
    cartpole.set_seed(0)
    rollout_td = cartpole.rollout(5, policy)
    assert rollout_td["action"].eq(1).all()
    # ...but CartPole reads the integer 1 through its one-hot spec as "left"
    assert (rollout_td["next", "observation"][:, 1] < 0).all()
    found = check_policy(policy, cartpole)
    assert codes(found) == ["qvalue-action-space"]
    assert "spec=env.action_spec" in found[0].fix


# ------------------------------------------------------------------ 5. exploration type


def test_mean_on_tanh_normal_is_random_and_is_caught(pendulum: GymEnv) -> None:
    actor = make_gaussian_actor(pendulum)
    td = pendulum.reset()
    with set_exploration_type(ExplorationType.MEAN):
        torch.manual_seed(0)
        first = actor(td.clone())["action"]
        second = actor(td.clone())["action"]
    assert not torch.equal(first, second)  # a 'mean' that changes between calls
    found = check_policy(actor, pendulum, exploration_type=ExplorationType.MEAN)
    assert codes(found) == ["exploration-mean"]
    assert "1000" in found[0].why and "DETERMINISTIC" in found[0].fix


def test_mean_inside_a_context_is_caught_without_argument(pendulum: GymEnv) -> None:
    with set_exploration_type(ExplorationType.MEAN):
        assert codes(check_policy(make_gaussian_actor(pendulum), pendulum)) == [
            "exploration-mean"]


def test_mode_on_tanh_normal_fails_and_is_caught(pendulum: GymEnv) -> None:
    actor = make_gaussian_actor(pendulum)
    with pytest.raises(RuntimeError) as raised, set_exploration_type(ExplorationType.MODE):
        actor(pendulum.reset())
    assert codes(check_policy(actor, pendulum, exploration_type="mode")) == ["exploration-mode"]
    assert hint_for(raised.value).code == "exploration-mode"


# ------------------------------------------------------------------ other


def test_missing_in_key_is_caught(pendulum: GymEnv) -> None:
    policy = TensorDictModule(nn.Linear(3, 1), in_keys=["obs"], out_keys=["action"])
    found = check_policy(policy, pendulum)
    assert codes(found) == ["missing-in-key"]
    assert "'obs'" in found[0].what and "observation" in found[0].fix


def test_bad_arguments_say_what_is_accepted(pendulum: GymEnv) -> None:
    with pytest.raises(TypeError, match="policy module"):
        check_policy("not a policy", pendulum)
    with pytest.raises(TypeError, match="TorchRL environment"):
        check_policy(make_actor(pendulum), "Pendulum-v1")
    with pytest.raises(ValueError, match="exploration"):
        check_policy(make_actor(pendulum), pendulum, exploration_type="greedy")


def test_finding_renders_text_and_html() -> None:
    finding = Finding("a <b> mistake", "because", "do this", "x")
    assert str(finding).splitlines() == ["⚠ a <b> mistake", "  why: because", "  fix: do this"]
    html = finding._repr_html_()
    assert "a &lt;b&gt; mistake" in html and 'data-code="x"' in html


def test_hint_for_follows_the_exception_chain() -> None:
    try:
        try:
            raise KeyError('key "sample_log_prob" not found')
        except KeyError as inner:
            raise RuntimeError("rollout failed") from inner
    except RuntimeError as outer:
        assert hint_for(outer).code == "sample-log-prob"
    assert hint_for(ValueError("unrelated")) is None


# ------------------------------------------------------------------ IPython hints


def test_installed_hint_is_appended_to_the_exception(capsys: pytest.CaptureFixture) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert install_hints(shell) is True
        shell.run_cell("from torchrl.envs import GymEnv\n"
                       "from torchrl.modules import QValueModule\n"
                       "QValueModule(GymEnv('CartPole-v1').action_spec)")
        out = capsys.readouterr()
        text = out.out + out.err
        assert "TypeError" in text  # the normal traceback is still there
        assert "a spec passed positionally to QValueModule" in text
        assert "QValueModule(spec=env.action_spec)" in text
        # unrelated errors get no hint
        shell.run_cell("raise ValueError('plain')")
        text = "".join(capsys.readouterr())
        assert "plain" in text and "why:" not in text
        assert uninstall_hints(shell) is True
        shell.run_cell("raise KeyError('sample_log_prob')")
        text = "".join(capsys.readouterr())
        assert "action_log_prob" not in text
        assert uninstall_hints(shell) is False
    finally:
        uninstall_hints(shell)


def test_install_outside_ipython_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert install_hints() is False
    assert uninstall_hints() is False


# ------------------------------------------------------------------ composite actions


def composite_actor():
    from tensordict.nn import CompositeDistribution, NormalParamExtractor
    from torchrl.modules import TanhNormal

    torch.manual_seed(0)
    net = TensorDictSequential(
        TensorDictModule(nn.Linear(3, 2), in_keys=["observation"],
                         out_keys=[("params", "direction", "logits")]),
        TensorDictModule(nn.Sequential(nn.Linear(3, 2), NormalParamExtractor()),
                         in_keys=["observation"],
                         out_keys=[("params", "force", "loc"), ("params", "force", "scale")]))
    return ProbabilisticActor(
        net, in_keys=["params"], out_keys=[("action", "direction"), ("action", "force")],
        distribution_class=CompositeDistribution,
        distribution_kwargs={
            "distribution_map": {"direction": torch.distributions.Categorical,
                                 "force": TanhNormal},
            "name_map": {"direction": ("action", "direction"), "force": ("action", "force")},
            "extra_kwargs": {"force": {"low": 0.0, "high": 1.0}}},
        return_log_prob=True)


def test_composite_actor_reading_params_gives_no_findings() -> None:
    from rltutor.addons.toy_envs import PuckEnv

    assert check_policy(composite_actor(), PuckEnv()) == []


def test_mean_on_a_composite_with_a_categorical_part_fails_and_is_caught() -> None:
    from rltutor.addons.toy_envs import PuckEnv

    env, actor = PuckEnv(), composite_actor()
    with pytest.raises(RuntimeError) as raised, set_exploration_type(ExplorationType.MEAN):
        actor(env.reset())
    found = check_policy(actor, env, exploration_type="mean")
    assert codes(found) == ["exploration-mean"]
    assert "raises an error" in found[0].why
    assert hint_for(raised.value).code == "exploration-mean"


def test_policy_built_for_another_env_fails_and_gets_the_input_size_hint(
    pendulum: GymEnv, cartpole: GymEnv
) -> None:
    policy = make_actor(pendulum)  # 3 observations in; CartPole gives 4
    with pytest.raises(RuntimeError, match="mat1 and mat2") as raised:
        cartpole.rollout(3, policy)
    hint = hint_for(raised.value)
    assert hint.code == "input-size" and "make_actor(env)" in hint.fix
