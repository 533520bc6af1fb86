"""DeepSeek Sparse Attention (DeepSeek-V3.2's lightning indexer, `attention.mla.indexer`): its FLOPs under the two
sparse conventions counted by hand on a small spec, the top-k convention equal to the dense one by construction when
topk covers every key, the cache of its keys (whole on every tensor-parallel rank), the spec's and the importer's
errors, and the option on the command line. (Parameters, dense FLOPs and the cache against transformers:
tests/test_hf_crosscheck.py's deepseek_v32 cases.)"""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.errors import SpecError
from llmcalc.formulas.flops import count_flops
from llmcalc.formulas.kv import kv_bytes_per_gpu, kv_cache, kv_elements_per_token

# d 32, 4 heads of nope 4 + rope 2 (q/k 6) and v 4; an indexer of 2 heads of 4 keeping the 3 best keys
SPEC = """
vocab_size: 100
d_model: 32
n_layers: 2
context_length: 64
position: rope
norm: {kind: rmsnorm}
attention:
  n_heads: 4
  mla: {q_lora_rank: 12, kv_lora_rank: 8, qk_nope_head_dim: 4, qk_rope_head_dim: 2, v_head_dim: 4,
        indexer: {n_heads: 2, head_dim: 4, topk: 3}}
mlp: {activation: swiglu, d_ff: 64}
"""


def rows(count, component: str) -> int:
    """The matmul FLOPs of one layer's component (every layer is alike here)."""
    return sum(r.matmul_per_layer for r in count.rows if r.component == component)


@pytest.fixture
def model(write_spec):
    return llmcalc.load(str(write_spec("dsa", SPEC)))


def test_sparse_flops_by_hand(model):
    """A prefill of 5 tokens, causal: the indexer scores the 1 + 2 + 3 + 4 + 5 = 15 pairs (2 heads x (4 + 1) x 2
    FLOPs each); the attention sees min(i, 3) keys of query i: 1 + 2 + 3 + 3 + 3 = 12 pairs under topk, 15 dense."""
    sparse, dense = (count_flops(model, 5, sparse=s) for s in ("topk", "dense"))
    assert rows(sparse, "attn.indexer.scores") == rows(dense, "attn.indexer.scores") == 15 * 2 * 2 * 5
    assert rows(sparse, "attn.scores") == 2 * 12 * 4 * 6 and rows(dense, "attn.scores") == 2 * 15 * 4 * 6
    assert rows(sparse, "attn.values") == 2 * 12 * 4 * 4 and rows(dense, "attn.values") == 2 * 15 * 4 * 4
    # the indexer's projections over the 5 tokens: wq_b 12 -> 2 x 4, wk 32 -> 4, weights_proj 32 -> 2
    assert rows(sparse, "attn.indexer.wq_b") == 2 * 5 * 12 * 8
    assert rows(sparse, "attn.indexer.wk") == 2 * 5 * 32 * 4
    assert rows(sparse, "attn.indexer.weights_proj") == 2 * 5 * 32 * 2
    # full: every query scores all 5 keys (25 pairs), and the attention keeps min(3, 5) of them (15 pairs)
    full = count_flops(model, 5, attention="full")
    assert rows(full, "attn.indexer.scores") == 25 * 20 and rows(full, "attn.scores") == 2 * 15 * 24
    assert rows(count_flops(model, 5, attention="full", sparse="dense"), "attn.scores") == 2 * 25 * 24
    # a decode step at position 5 (6 keys): the indexer scores 6, the attention runs over 3
    step = count_flops(model, 5, decode=True)
    assert rows(step, "attn.indexer.scores") == 6 * 20 and rows(step, "attn.scores") == 2 * 3 * 24
    assert rows(count_flops(model, 5, decode=True, sparse="dense"), "attn.scores") == 2 * 6 * 24
    assert "index_topk" in sparse.convention and "mask" in dense.convention


def test_topk_covering_every_key_is_dense(tmp_path):
    """By construction: where topk >= the keys a query can see, the two conventions count the same FLOPs (random
    DeepSeek-V3.2 configs, prefills and decode steps, both attention conventions); below, topk counts fewer."""
    import test_hf_crosscheck as crosscheck

    rng = random.Random("llmcalc-dsa")
    fewer = 0
    for case, config in enumerate(crosscheck.random_configs("deepseek_v32", 15, salt="-dsa")):
        path = tmp_path / f"dsa-{case}.json"
        path.write_text(json.dumps(config))
        model = llmcalc.load(str(path))
        topk = config["index_topk"]
        for attention in ("causal", "full"):
            for decode in (False, True):
                covered = topk - (1 if decode else 0)  # a decode step at position seq sees seq + 1 keys
                seq = rng.randint(1, covered) if covered else None
                if seq:
                    args = (model, seq, 2, attention, decode)
                    assert count_flops(*args, sparse="topk").total == count_flops(*args, sparse="dense").total
                seq = topk + rng.randint(1, 8)
                sparse = count_flops(model, seq, 1, attention, decode, sparse="topk")
                dense = count_flops(model, seq, 1, attention, decode, sparse="dense")
                assert sparse.total < dense.total
                fewer += 1
    assert fewer


def test_the_indexer_keys_are_cached_and_held_whole(model):
    """The latent (8 + 2) and the indexer's key (4) per token per layer; under tensor parallelism with decompressed
    K and V, those split by head and the indexer's key (one head) stays whole on each rank."""
    att = model.layers[0].attention
    assert kv_elements_per_token(att) == 8 + 2 + 4
    assert kv_elements_per_token(att, "decompressed") == 4 * (6 + 4) + 4
    cache = kv_cache(model, 10, 1, "fp32", "decompressed")
    assert cache.bytes == 2 * 10 * 44 * 4
    assert kv_bytes_per_gpu(model, cache, 2) == 2 * 10 * (40 / 2 + 4) * 4
    latent = kv_cache(model, 10, 1, "fp32")
    assert kv_bytes_per_gpu(model, latent, 4) == latent.bytes == 2 * 10 * 14 * 4


@pytest.mark.parametrize("change, key, words", [
    ("q_lora_rank: 12, ", "attention.mla.indexer", "set q_lora_rank"),
    (", head_dim: 4", "attention.mla.indexer.head_dim", "qk_rope_head_dim=2"),
    ("topk: 3", "attention.mla.indexer.topk", "whole number >= 1"),
    ("n_heads: 2, ", "attention.mla.indexer.n_heads", "required"),
])
def test_a_bad_indexer_is_one_error(write_spec, change, key, words):
    replacement = {", head_dim: 4": ", head_dim: 1", "topk: 3": "topk: 0"}.get(change, "")
    path = write_spec("bad", SPEC.replace(change, replacement, 1))
    with pytest.raises(SpecError) as info:
        llmcalc.load(str(path))
    assert info.value.key == key and words in str(info.value), str(info.value)


@pytest.mark.parametrize("change, key", [
    ({"q_lora_rank": None}, "q_lora_rank"),
    ({"index_head_dim": 1}, "index_head_dim"),
    ({"mlp_layer_types": ["dense"]}, "mlp_layer_types"),
    ({"mlp_layer_types": ["dense", "moe", "sparse"]}, "mlp_layer_types"),
    ({"layer_types": ["full_attention"] * 3}, "layer_types"),
])
def test_a_bad_deepseek_v32_config_is_one_error(tmp_path, change, key):
    config = {"model_type": "deepseek_v32", "num_hidden_layers": 3, "qk_rope_head_dim": 2, **change}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(SpecError) as info:
        llmcalc.load(str(path))
    assert info.value.key == key, str(info.value)


def test_the_option_on_the_command_line(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "deepseek_v32", "num_hidden_layers": 4, "index_topk": 64}))
    runner = CliRunner()
    docs = {s: json.loads(runner.invoke(cli, ["flops", str(path), "--context", "256", "--sparse-attention", s,
                                             "--format", "json"]).output)["models"][0] for s in ("topk", "dense")}
    assert docs["topk"]["sparse_attention"] == "topk" and docs["dense"]["sparse_attention"] == "dense"
    assert docs["topk"]["forward"]["matmul"] < docs["dense"]["forward"]["matmul"]
    table = runner.invoke(cli, ["flops", str(path), "--context", "256"]).output
    assert "index_topk keys its indexer keeps" in " ".join(table.split())
    bad = runner.invoke(cli, ["flops", str(path), "--sparse-attention", "some"])
    assert bad.exit_code == 2 and "topk" in bad.output
    sweep = runner.invoke(cli, ["sweep", str(path), "--vary", "context=1k..4k", "--sparse-attention", "dense"])
    assert sweep.exit_code == 0 and "sparse_attention: dense" in sweep.output
    speeds = {s: json.loads(runner.invoke(cli, ["speed", str(path), "--context", "4k", "--sparse-attention", s,
                                                "--format", "json"]).output)["models"][0]
              for s in ("topk", "dense")}
    # the decode step reads the latents of 64 keys under topk, of all 4k dense
    assert speeds["topk"]["decode"]["seconds"] < speeds["dense"]["decode"]["seconds"]
    assert speeds["topk"]["settings"]["sparse_attention"] == "topk"
    compare = runner.invoke(cli, ["compare", str(path), str(path), "--sparse-attention", "dense"])
    assert compare.exit_code == 0
    plain = runner.invoke(cli, ["sweep", "llama3-8b", "--vary", "context=1k..2k"]).output
    assert "sparse_attention" not in plain  # said only where it changes a figure
    assert runner.invoke(cli, ["compare", str(path), "deepseek-v3", "--sparse-attention", "dense"]).exit_code == 0
    for command in (["flops"], ["speed"], ["sweep", "--vary", "context=1k..2k"]):  # set where it changes nothing
        refused = runner.invoke(cli, [command[0], "deepseek-v3", *command[1:], "--sparse-attention", "dense"])
        assert refused.exit_code == 2 and "--sparse-attention applies to models with" in refused.output, command
    refused = runner.invoke(cli, ["compare", "deepseek-v3", "llama3-8b", "--sparse-attention", "topk"])
    assert refused.exit_code == 2 and "none in deepseek-v3, llama3-8b" in refused.output
