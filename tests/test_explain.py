"""`explain` (issue 19, part): the seed question answered correctly and with numbers, a family across scale told
apart from architecture, every built-in model and kind explained with a source."""

from __future__ import annotations

import json

from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.explanations import kind_text


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def by_aspect(result):
    return {d.aspect: d for d in result.aspects}


def test_gpt2_against_llama3():
    result = llmcalc.explain(["gpt2-small", "llama3-8b"])
    aspects = by_aspect(result)
    architecture = {d.aspect for d in result.differences if d.in_kind}
    assert architecture == {"position", "norm", "attention", "mlp", "biases", "tied"}
    assert aspects["position"].kinds == ("learned", "rope")  # GPT-2's positions are learned, not sinusoidal
    assert aspects["mlp"].values == ("gelu_tanh, 2 matrices, d_ff 3,072", "swiglu, 3 matrices, d_ff 14,336")
    assert aspects["norm"].kinds == ("layernorm", "rmsnorm")
    # KV cache per token: 2 (K, V) x layers x KV heads x d_head x 2 bytes
    assert aspects["attention"].figures == (2 * 12 * 12 * 64 * 2, 2 * 32 * 8 * 128 * 2)
    assert "caches 4x less than MHA of its 32 heads would (524,288 B per token)" in aspects["attention"].notes[1]
    assert aspects["position"].figures == (1024 * 768, 0)  # GPT-2's position embedding, RoPE's none
    assert aspects["tied"].figures == (0, 128_256 * 4096)
    assert {d.aspect for d in result.differences if not d.in_kind} == {"vocabulary", "context", "scale"}
    text = run("explain", "gpt2-small", "llama3-8b").output
    assert "sinusoidal" not in text and "relu" not in text.lower().replace("reglu", "")
    for words in ("RoFormer", "arXiv:2305.13245", "Architecture differs in: positions, normalisation"):
        assert words in text, words


def test_a_family_across_scale_is_mostly_scale():
    result = llmcalc.explain(["gpt1", "gpt2-xl", "gpt3-175b"])
    assert {d.aspect for d in result.differences if d.in_kind} == {"placement", "mlp"}  # post-norm; GELU's tanh form
    assert {"scale", "context", "vocabulary", "attention"} <= {d.aspect for d in result.differences if not d.in_kind}
    assert by_aspect(result)["placement"].kinds == ("post", "pre", "pre")


def test_every_built_in_model_and_kind_is_explained():
    names = llmcalc.builtin_names()
    result = llmcalc.explain(names)
    for d in result.aspects:
        for kind in set(d.kinds):
            text, source = kind_text(d.aspect, kind)
            assert text and source, (d.aspect, kind)
    for name in names:
        one = llmcalc.explain([name])
        assert all(d.words for d in one.aspects), name


def test_every_pair_of_built_in_models_is_explained():
    # the "explain works for every built-in model and pair": 1,378 pairs, each rendered as text and JSON, and
    # every difference of a pair either of kind (with words for each kind) or of size, each with its effect
    from itertools import combinations

    from llmcalc.present.explain import explain_json, explain_table

    specs = [llmcalc.load(name) for name in llmcalc.builtin_names()]
    for a, b in combinations(specs, 2):
        result = llmcalc.explain([a, b])
        assert explain_table(result) and explain_json(result)["models"] == [a.name, b.name]
        for d in result.differences:
            assert d.words, (a.name, b.name, d.aspect)
            assert d.effects[0] == "" and all(bool(e) == (f != d.figures[0]) for e, f in zip(d.effects, d.figures))


def test_json_and_markdown():
    doc = json.loads(run("explain", "mixtral-8x7b", "mistral-7b", "--json").stdout)
    experts = next(d for d in doc["differences"] if d["aspect"] == "experts")
    assert experts["architecture"] is True and "moe" in experts["explanation"] and "moe" in experts["source"]
    assert experts["consequence"]["values"] == {"mixtral-8x7b": 12_879_925_248, "mistral-7b": 7_241_732_096}
    assert "attention" not in {d["aspect"] for d in doc["differences"]} and "attention" in doc["alike"]
    markdown = run("explain", "gpt2-small", "llama3-8b", "--format", "markdown").stdout
    assert "| positions |" in markdown.replace("**", "")


def test_each_difference_says_which_way_it_moves_memory_and_speed():
    # the seed question: against GPT-2 small, Llama 3 8B's GQA still caches more per token (8 KV heads of 128 in 32
    # layers against 12 of 64 in 12), so it needs more memory and decodes long contexts slower; its FLOPs slow prefill
    doc = json.loads(CliRunner().invoke(cli, ["explain", "gpt2-small", "llama3-8b", "--json"]).stdout)
    effects = {d["aspect"]: d["consequence"]["effect"] for d in doc["differences"]}
    assert effects["attention"] == {"llama3-8b": "+94.21 kB in KV cache per token (bf16): more memory per sequence, "
                                                 "slower decode at long context"}
    assert effects["position"]["llama3-8b"].startswith("-786.43K parameters: -1.57 MB of bf16 weights")
    assert "faster decode" in effects["position"]["llama3-8b"]
    assert effects["scale"]["llama3-8b"] == "+16.91B FLOPs per token: slower prefill and training on the same hardware"
    assert "gpt2-small" not in effects["attention"]  # the first model is the reference
