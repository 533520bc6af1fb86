"""Encoder-decoder models (T5 / Switch Transformer): parameters, FLOPs and KV cache of the two stacks.

Switch figures: Fedus, Zoph & Shazeer 2021 (arXiv:2101.03961), Table 9, as collected with their dimensions
in the project's reference data. The optional last test builds transformers' SwitchTransformers on the meta
device and compares num_parameters() exactly (skipped without torch / transformers).
"""

from __future__ import annotations

import random

import pytest

import llmcalc
from llmcalc.formulas.flops import count_flops
from llmcalc.formulas.kv import kv_cache
from llmcalc.formulas.params import count_params


def test_switch_c_matches_reference_count():
    # Reference data: 1,571,308,970,400 for Switch-C with 32 heads, counting every weight except T5's two
    # relative-position tables (32 buckets x 32 heads each), which llmcalc counts.
    count = count_params(llmcalc.load("switch-c-2048"))
    assert count.total == 1_571_308_970_400 + 2 * 32 * 32
    assert round(count.total / 1e9) == 1571  # Table 9: 1571B


def test_switch_base_same_count_for_geglu_2048_and_relu_3072():
    # Reference data: 7,415,216,640 with the paper's GEGLU of 2048 (again without the relative tables).
    count = count_params(llmcalc.load("switch-base-128"))
    assert count.total == 7_415_216_640 + 2 * 32 * 12
    assert count_params(_with_mlp(llmcalc.load("switch-base-128"), "geglu", 2048)).total == count.total


def _with_mlp(model, activation, d_ff):
    import dataclasses
    return dataclasses.replace(model, layers=tuple(
        dataclasses.replace(layer, mlp=dataclasses.replace(layer.mlp, activation=activation, d_ff=d_ff),
                            moe=dataclasses.replace(layer.moe, d_ff=d_ff) if layer.moe else None)
        for layer in model.layers))


def test_switch_large_released_mlp_explains_table9():
    model = llmcalc.load("switch-large-128")
    assert count_params(model).total == 26_309_291_008
    assert round(count_params(model).total / 1e9) == 26  # Table 9: 26B
    # Table 9's own GEGLU of 2816 gives the reference data's 27,120,887,808 (+ the two relative tables): 27B.
    geglu = count_params(_with_mlp(model, "geglu", 2816)).total
    assert geglu == 27_120_887_808 + 2 * 32 * 16
    assert round(geglu / 1e9) != 26


def test_stacks_and_cross_attention(write_spec):
    path = write_spec("t5", """
        vocab_size: 100
        d_model: 16
        n_layers: 2
        context_length: 64
        position: relative
        tied_embeddings: true
        norm: {kind: rmsnorm}
        attention: {n_heads: 2, d_head: 8}
        mlp: {activation: relu, d_ff: 32}
        encoder: {n_layers: 3}
    """)
    model = llmcalc.load(str(path))
    assert [(g.name, g.count) for g in model.groups] == [("encoder", 3), ("decoder", 2)]
    count = count_params(model)
    attention = 4 * 16 * 16
    mlp = 2 * 16 * 32
    encoder_layer = attention + mlp + 2 * 16
    decoder_layer = 2 * attention + mlp + 3 * 16
    assert count.total == 100 * 16 + 2 * 32 * 2 + 3 * encoder_layer + 2 * decoder_layer + 2 * 16

    # KV cache: decoder self-attention and cross-attention; the encoder caches nothing.
    cache = kv_cache(model, context=10, dtype="fp32")
    assert cache.bytes == 2 * 2 * (2 * 2 * 8) * 10 * 4

    # FLOPs: the encoder attends both ways even under the causal convention; a decode step skips the encoder
    # and the cross-attention K/V projections.
    seq = 6
    prefill = count_flops(model, seq, attention="causal", include_other=False)
    enc = [r for r in prefill.rows if r.group == "encoder"]
    scores = next(r for r in enc if r.component == "attn.scores")
    assert scores.matmul_per_layer == 2 * seq * seq * 2 * 8
    decode = count_flops(model, seq, decode=True, include_other=False)
    assert not [r for r in decode.rows if r.group == "encoder"]
    assert next(r for r in prefill.rows if r.component == "xattn.k").matmul_per_layer == 2 * seq * 16 * 16
    assert not [r for r in decode.rows if r.component in ("xattn.k", "xattn.v")]  # cached: not recomputed
    xscores = next(r for r in decode.rows if r.component == "xattn.scores")
    assert xscores.matmul_per_layer == 2 * 1 * seq * 2 * 8


def test_relative_buckets_only_with_relative_position(write_spec):
    path = write_spec("bad", """
        vocab_size: 100
        d_model: 16
        n_layers: 2
        context_length: 64
        position: rope
        relative_attention_buckets: 32
        norm: {kind: rmsnorm}
        attention: {n_heads: 2}
        mlp: {activation: relu, d_ff: 32}
    """)
    with pytest.raises(llmcalc.SpecError, match="relative_attention_buckets"):
        llmcalc.load(str(path))


def _groups(sparse: list[bool], indent: str) -> str:
    return "\n".join(f"{indent}- {{count: 1{'' if is_sparse else ', moe: null'}}}" for is_sparse in sparse)


def test_switch_transformers_num_parameters_match(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    rng = random.Random(7)
    for case in range(10):
        heads, d_kv = rng.choice([2, 3, 4]), rng.choice([4, 8])
        config = transformers.SwitchTransformersConfig(
            vocab_size=rng.randint(50, 300), d_model=rng.choice([16, 24]), d_kv=d_kv, d_ff=rng.choice([24, 40]),
            num_heads=heads, num_experts=rng.choice([2, 4, 8]), num_layers=rng.randint(1, 4),
            num_decoder_layers=rng.randint(1, 4), num_sparse_encoder_layers=rng.randint(0, 2),
            num_sparse_decoder_layers=rng.randint(0, 2), relative_attention_num_buckets=rng.choice([8, 32]))
        with torch.device("meta"):
            hf = transformers.SwitchTransformersForConditionalGeneration(config)
        # Which blocks transformers makes sparse is taken from the built model; the count is ours.
        encoder = [block.is_sparse for block in hf.encoder.block]
        decoder = [block.is_sparse for block in hf.decoder.block]
        path = tmp_path / f"switch-{case}.yaml"
        path.write_text(f"""
vocab_size: {config.vocab_size}
d_model: {config.d_model}
n_layers: {len(decoder)}
context_length: 512
position: relative
relative_attention_buckets: {config.relative_attention_num_buckets}
tied_embeddings: {str(config.tie_word_embeddings).lower()}
norm: {{kind: rmsnorm}}
attention: {{n_heads: {heads}, d_head: {d_kv}}}
mlp: {{activation: relu, d_ff: {config.d_ff}}}
moe: {{n_experts: {config.num_experts}, top_k: 1}}
layers:
{_groups(decoder, "  ")}
encoder:
  n_layers: {len(encoder)}
  layers:
{_groups(encoder, "    ")}
""")
        assert count_params(llmcalc.load(str(path))).total == hf.num_parameters(), case
