"""Tensor parallelism of recurrent mixers (formulas/mixer_tp.py): which splits are allowed, and what one rank keeps
and saves, by hand."""

from __future__ import annotations

import json

import pytest

import llmcalc
from llmcalc import api
from llmcalc.errors import LlmcalcError
from llmcalc.formulas.activations import training_activations
from llmcalc.formulas.kv import kv_bytes_per_gpu, kv_cache
from llmcalc.roofline import speed
from test_mamba import MAMBA2  # a small Mamba-2 spec: d_model 64 (d_inner 128), 8 heads, 2 groups of d_state 16

CODESTRAL = "tests/data/hf_configs/Mamba-Codestral-7B-v0.1.json"  # 64 layers, d_inner 8192, 128 heads, 8 groups


def test_a_rank_keeps_its_heads_share_of_the_state():
    # Mamba-Codestral at TP 4: a quarter of d_inner and of the groups in the conv state, a quarter of the SSM state
    model = llmcalc.load(CODESTRAL)
    cache = kv_cache(model, 32768, 8)
    per_layer = (8192 // 4 + 2 * (8 // 4) * 128) * 4 + 8192 // 4 * 128
    assert kv_bytes_per_gpu(model, cache, 4) == 64 * 8 * 2 * per_layer == cache.bytes / 4
    report = api.estimate_memory(model, context=32768, batch=8, tp=4)
    assert report.part("kv_cache").per_gpu == 64 * 8 * 2 * per_layer


def test_groups_are_replicated_past_their_count(write_spec):
    # 2 groups on 4 ranks: each rank keeps one group's B and C in its conv state (vLLM's mamba_mixer2)
    model = llmcalc.load(str(write_spec("m2", MAMBA2)))
    d_inner = 128
    per_layer = (d_inner / 4 + 2 * 1 * 16) * 4 + d_inner / 4 * 16
    assert kv_bytes_per_gpu(model, kv_cache(model, 100, 3), 4) == 2 * 3 * 2 * per_layer


@pytest.mark.parametrize("change, tp, message", [
    ("n_heads: 8, n_groups: 2", 16, "16 does not divide the 8 Mamba-2 heads"),
    ("n_heads: 12, n_groups: 3, d_inner: 192", 2, "2 and the 3 Mamba-2 groups do not divide one another"),
])
def test_splits_the_engines_refuse(write_spec, change, tp, message):
    model = llmcalc.load(str(write_spec("m2", MAMBA2.replace("n_heads: 8, n_groups: 2", change))))
    with pytest.raises(LlmcalcError, match=message):
        api.estimate_memory(model, tp=tp)


def test_gated_deltanet_splits_key_and_value_heads(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "qwen3_next"}))  # 16 key heads, 32 value heads of 128
    model = llmcalc.load(str(config))
    cache = kv_cache(model, 4096, 2)
    mixer = next(g.layer.mixer for g in model.groups if g.layer.mixer)
    n_linear = sum(g.count for g in model.groups if g.layer.mixer)
    attention = cache.bytes - 2 * 2 * n_linear * mixer.state_elements  # the full-attention layers' K and V
    assert mixer.n_key_heads == 16 and mixer.n_value_heads == 32
    assert kv_bytes_per_gpu(model, cache, 2) == 2 * 2 * n_linear * mixer.state_elements / 2 + attention / 2
    with pytest.raises(LlmcalcError, match="32 does not divide the 16 Gated DeltaNet key heads"):
        api.estimate_memory(model, tp=32)


def test_training_saves_a_rank_s_share_of_the_mixer(write_spec):
    # under TP with sequence parallelism every saved tensor of the mixer is split: the input along the sequence,
    # the rest along the heads
    model = llmcalc.load(str(write_spec("m2", MAMBA2)))
    whole = training_activations(model, 1024)
    split = training_activations(model, 1024, tp=2, sequence_parallel=True)
    mamba = [r for r in whole.rows if r.component.startswith("mamba.")]
    assert mamba and all(r.bytes_per_token / 2 == next(s.bytes_per_token for s in split.rows
                                                          if (s.component, s.group) == (r.component, r.group))
                         for r in mamba)


def test_decode_reads_a_rank_s_share_of_the_state_and_reduces_once_per_block():
    model = llmcalc.load(CODESTRAL)
    h100 = dict(peak_flops=989e12, bandwidth=3.35e12, batch=8, prompt=512, context=4096)
    one = speed(model, **h100)
    four = speed(model, **h100, tp=4, link_bandwidth=450e9)
    state = sum(r.kv_bytes for r in one.decode.rows)
    assert sum(r.kv_bytes for r in four.decode.rows) == pytest.approx(state / 4)
    # one all-reduce per layer: a Mamba-2 block has no MLP
    assert four.decode.rows[0].comm_seconds > 0 and one.decode.rows[0].comm_seconds == 0
