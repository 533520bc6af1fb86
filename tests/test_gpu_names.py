"""`--gpu` names (presets, aliases, completion), `--gpu-mem` naming the card it describes, `--units` in any case.

Issue 17: `--gpu h100` had no alias, `--gpu-mem 48` still printed the H100's name and datasheet, `--units gb`
was refused.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli
from llmcalc.cli.options import complete_gpu
from llmcalc.errors import LlmcalcError, SpecError
from llmcalc.hardware import find_gpu, gpu_names, gpus


@pytest.mark.parametrize("name, key", [("h100", "h100-80gb"), ("H100-SXM", "h100-80gb"), (" h100-80GB ", "h100-80gb"),
                                       ("4090", "rtx-4090"), ("mi300", "mi300x"), ("h200-141gb", "h200")])
def test_aliases_name_one_preset(name, key):
    assert find_gpu(name).key == key


def test_a_name_that_means_two_cards_is_no_alias_and_the_error_offers_both_first():
    assert "a100" not in gpu_names()
    with pytest.raises(LlmcalcError, match=r"unknown GPU 'a100'; did you mean a100-40gb, a100-80gb, "):
        find_gpu("a100")


def test_an_alias_naming_two_presets_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "hardware" / "gpus.yaml"
    path.parent.mkdir()
    card = "  memory_gib: 80\n  bf16_flops: 1.0e+15\n"
    path.write_text(f"a:\n  aliases: [x]\n{card}b:\n  aliases: [x]\n{card}")
    monkeypatch.setattr(gpus, "gpus_file", lambda: path)
    with pytest.raises(SpecError, match="x: names two presets"):
        gpu_names()
    path.write_text(f"a:\n  aliases: [X]\n{card}")
    with pytest.raises(SpecError, match="a.aliases: must be a list of lower-case names"):
        gpu_names()


def test_completion_offers_presets_and_aliases():
    assert [item.value for item in complete_gpu(None, None, "H1")] == ["h100-80gb", "h100", "h100-sxm"]
    assert [item.value for item in complete_gpu(None, None, "zz")] == []


def test_gpu_mem_names_the_card_it_describes():
    out = CliRunner().invoke(cli, ["fit", "llama3-8b", "--gpu-mem", "48"])
    assert out.exit_code == 0, out.output
    assert "on a GPU given by --gpu-mem (48.00 GiB each)" in out.stdout
    assert "H100" not in out.stdout and "GPU memory from --gpu-mem." in out.stdout
    data = json.loads(CliRunner().invoke(cli, ["fit", "llama3-8b", "--gpu-mem", "47.5", "--json"]).stdout)
    assert data["models"][0]["gpu"] == "custom"
    assert data["models"][0]["gpu_memory_bytes"] == 47.5 * 2**30 and isinstance(data["models"][0]["gpu_memory_bytes"],
                                                                                int)
    both = CliRunner().invoke(cli, ["fit", "llama3-8b", "--gpu", "h200", "--gpu-mem", "100"])
    assert "on NVIDIA H200 SXM 141GB with --gpu-mem (100.00 GiB each)" in both.stdout


@pytest.mark.parametrize("command", [["memory", "llama3-8b"], ["fit", "llama3-8b"],
                                     ["sweep", "gpt2-small", "--vary", "batch=1,2"]])
def test_units_in_any_case(command):
    runs = [CliRunner().invoke(cli, [*command, "--units", units]) for units in ("GB", "gb", "Gb")]
    assert [r.exit_code for r in runs] == [0, 0, 0]
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    assert " GB " in runs[0].stdout
