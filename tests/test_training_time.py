"""Training time and cost from an MFU (issue 18): days and GPU-hours are model FLOPs / (GPUs x peak x MFU), the
PaLM paper's MFU definition read the other way; counts take 15T, 1.5T, 15e12."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli

H100_BF16 = 989.4e12  # specs/hardware/gpus.yaml: the datasheet's dense bf16 peak


def flops_json(*args):
    result = CliRunner().invoke(cli, ["flops", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["models"][0]


def test_days_gpu_hours_and_cost_are_the_mfu_definition_read_backwards():
    model = flops_json("llama3.1-405b", "--training", "--tokens", "15.6T", "--n-gpus", "16384", "--gpu",
                       "h100-80gb", "--mfu", "0.4", "--price", "2.5")
    training = model["training"]
    seconds = training["model_flops"] / (16384 * H100_BF16 * 0.4)
    assert training["tokens"] == 15.6e12
    assert training["days"] == pytest.approx(seconds / 86400)
    assert training["gpu_hours"] == pytest.approx(seconds * 16384 / 3600)
    assert training["cost"] == pytest.approx(training["gpu_hours"] * 2.5)
    # Meta's Llama 3.1 405B: 3.8e25 training FLOPs (its 6ND figure) and 30.84M H100 GPU-hours, an MFU of 34.6%
    # implied; llmcalc's exact model FLOPs are 3.6% above 3.8e25, so its GPU-hours at that MFU are 3.6% above too.
    implied = 3.8e25 / (30.84e6 * 3600 * H100_BF16)
    at_meta = flops_json("llama3.1-405b", "--training", "--tokens", "15.6T", "--n-gpus", "16384", "--gpu",
                         "h100-80gb", "--mfu", f"{implied}")["training"]
    assert at_meta["gpu_hours"] / 30.84e6 == pytest.approx(at_meta["model_flops"] / 3.8e25)
    assert at_meta["model_flops"] / 3.8e25 == pytest.approx(1.036, abs=0.01)


@pytest.mark.parametrize("text, tokens", [("15T", 15e12), ("1.5T", 1.5e12), ("15e12", 15e12), ("2000B", 2e12)])
def test_counts_take_suffixes_and_exponents(text, tokens):
    assert flops_json("gpt2-small", "--tokens", text)["training"]["tokens"] == tokens


@pytest.mark.parametrize("args, message", [
    (["--tokens", "1,5T"], "no thousands separators"),
    (["--training", "--mfu", "0.4"], "training time needs --mfu, --n-gpus and --gpu"),
    (["--training", "--mfu", "0.4", "--n-gpus", "8", "--gpu", "h100-80gb", "--tokens-per-second", "1e5"],
     "give one"),
    (["--training", "--price", "2"], "--price needs --mfu"),
    (["--training", "--mfu", "1.5", "--n-gpus", "8", "--gpu", "h100-80gb"], "is more than 1"),
])
def test_training_time_options_are_checked(args, message):
    result = CliRunner().invoke(cli, ["flops", "llama3-8b", *args])
    assert result.exit_code == 2 and message in result.output
