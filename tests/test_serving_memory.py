"""Serving memory: one engine step's working set instead of the whole context, and vLLM's start-up accounting held
against the log of vLLM issue #10511 (Llama-3-8B, bf16, one GPU of 79.22 GiB, gpu_memory_utilization 0.90:
"model weights took 14.96GiB; non_torch_memory takes 1.79GiB; PyTorch activation peak memory takes 1.26GiB; the rest
of the memory reserved for KV Cache is 53.29GiB"; at TP2: weights 7.48 GiB and non-torch 3.58 GiB per GPU)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.api import estimate_memory
from llmcalc.errors import LlmcalcError
from llmcalc.cli import cli
from llmcalc.formulas.serving import vllm_batch_defaults

GIB = 2**30
# The issue's vLLM (V0) profiled max_num_batched_tokens = max_model_len = 8,192 tokens over 256 sequences.
ISSUE_10511 = dict(engine="vllm", gpu_memory=79.22 * GIB, gpu_util=0.9, context=8192, max_batched_tokens=8192,
                   max_num_seqs=256)


def gib(report, part):
    return report.part(part).per_gpu / GIB


def test_vllm_issue_10511_start_up_log():
    report = estimate_memory("llama3-8b", **ISSUE_10511)
    assert gib(report, "weights") == pytest.approx(14.96, abs=0.005)  # exact: 8,030,261,248 x 2 bytes
    assert gib(report, "non_torch") == pytest.approx(1.79)  # measured, taken from the same log
    # The activation peak is an estimate: the profiling step's sampler (top-k/top-p over 256 x 128,256 fp32 logits)
    # gives 0.98 GiB against the log's 1.26 GiB; the caching allocator's rounding and the sampler's other transient
    # tensors are not itemised. 25% is the honest tolerance of that part.
    assert gib(report, "activations") == pytest.approx(1.26, rel=0.25)
    # What matters to a user is the KV cache vLLM is left with: within 1% of the log's.
    assert gib(report, "kv_cache") == pytest.approx(53.29, rel=0.01)
    assert report.per_gpu == pytest.approx(0.9 * 79.22 * GIB)


def test_vllm_issue_10511_at_tp2():
    report = estimate_memory("llama3-8b", **{**ISSUE_10511, "tp": 2})
    assert gib(report, "weights") == pytest.approx(7.48, abs=0.005)
    assert gib(report, "non_torch") == pytest.approx(3.58)


def test_capacity_is_whole_blocks_and_concurrency_is_over_the_context():
    report = estimate_memory("llama3-8b", **ISSUE_10511)
    per_token = 2 * 32 * 8 * 128 * 2  # K and V, 32 layers, 8 KV heads of 128, bf16
    assert report.capacity_tokens % 16 == 0
    assert report.capacity_tokens * per_token <= report.part("kv_cache").per_gpu
    assert (report.capacity_tokens + 16) * per_token > report.part("kv_cache").per_gpu
    assert report.max_concurrency == report.capacity_tokens / 8192
    two = estimate_memory("llama3-8b", **{**ISSUE_10511, "tp": 2})
    assert two.capacity_tokens > 2 * report.capacity_tokens  # each GPU holds half of every token's K/V heads


def test_vllm_batch_defaults_follow_the_card():
    assert vllm_batch_defaults(80 * GIB, "h100-80gb") == (8192, 256)
    assert vllm_batch_defaults(80 * GIB, "a100-80gb") == (2048, 256)  # vLLM keeps A100s at 2048 (its PR #17885)
    assert vllm_batch_defaults(48 * GIB, "l40s") == (2048, 256)


def test_a_step_processes_at_most_max_batched_tokens():
    # Llama 4 Scout at its 10M-token context: the old estimate kept a 10M-token prefill's tensors (760 GiB).
    scout = estimate_memory("llama4-scout")
    assert scout.part("activations").per_gpu < 1 * GIB
    assert scout.settings["max_batched_tokens"] == 8192
    small = [estimate_memory("llama3-8b", context=1024, batch=b).part("activations").bytes for b in (1, 2, 8, 16)]
    logits = 128256 * 4  # fp32 logits of each sequence's last token
    # below the cap the working set grows with batch x context, at the cap it stops (only the logits still grow)
    assert small[1] - 2 * logits == pytest.approx(2 * (small[0] - logits))
    assert small[3] - small[2] == pytest.approx(8 * logits)


def test_json_interface_for_vllm():
    out = CliRunner().invoke(cli, ["memory", "llama3-8b", "--mode", "serve", "--engine", "vllm", "--gpu", "h100-80gb",
                                   "--gpu-util", "0.9", "--tp", "1", "--json"]).output
    model = json.loads(out)["models"][0]
    assert isinstance(model["kv_cache"]["capacity_tokens"], int) and model["kv_cache"]["capacity_tokens"] > 0
    assert model["max_concurrency"] == model["kv_cache"]["capacity_tokens"] / 8192
    assert [p["name"] for p in model["parts"]] == ["weights", "non_torch", "activations", "cuda_graphs", "kv_cache"]


@pytest.mark.parametrize("args, message", [
    (["--gpu-util", "0.8"], "--gpu-util applies to --engine vllm only"),
    (["--gpu", "h100-80gb"], "--gpu applies to --engine vllm only"),
    (["--engine", "vllm", "--gpu", "h100-80gb", "--batch", "4"], "--batch does not apply to --engine vllm"),
    (["--mode", "training", "--engine", "vllm"], "--engine applies to --mode serve only"),
])
def test_engine_options_only_with_an_engine(args, message):
    result = CliRunner().invoke(cli, ["memory", "llama3-8b", *args])
    assert result.exit_code == 2 and f"error: {message}" in result.output


def test_vllm_needs_a_gpu():
    result = CliRunner().invoke(cli, ["memory", "llama3-8b", "--engine", "vllm"])
    assert result.exit_code == 2 and "give the GPU (--gpu or --gpu-mem)" in result.output


def test_fit_keeps_the_engines_share_of_the_card():
    def fit(*args):
        out = CliRunner().invoke(cli, ["fit", "llama3-8b", "--gpu", "l40s", "--context", "8192", *args, "--json"])
        return json.loads(out.output)["models"][0]

    default, tight = fit(), fit("--gpu-util", "0.5")
    assert default["gpu_util"] == 0.9 and default["reserved_per_gpu_bytes"] == pytest.approx(1.79 * GIB)
    assert default["per_gpu_bytes"] + default["reserved_per_gpu_bytes"] <= 0.9 * 48 * GIB
    assert tight["largest_batch"] < default["largest_batch"]


# llama.cpp's log for Mistral-7B-Instruct-v0.2 (fedora-copr/logdetective PR #106; the model file named in PR #111),
# flash attention off, n_ubatch 512: KV 256 / 4,096 MiB and compute buffer 164 / 2,144 MiB at n_ctx 2,048 / 32,768.
# v0.2 has no sliding window and a 32k context: the built-in v0.1 spec with those two keys changed.
MISTRAL_V02 = ["attention.sliding_window=null", "context_length=32768"]


@pytest.mark.parametrize("n_ctx, kv_mib, compute_mib", [(2048, 256, 164), (32768, 4096, 2144)])
def test_llamacpp_log_of_mistral_7b_v02(n_ctx, kv_mib, compute_mib):
    out = CliRunner().invoke(cli, ["memory", "mistral-7b", *[a for s in MISTRAL_V02 for a in ("--set", s)],
                                   "--mode", "serve", "--engine", "llamacpp", "--context", str(n_ctx), "--ubatch",
                                   "512", "--flash-attn", "off", "--json"]).output
    parts = {p["name"]: p["per_gpu"] for p in json.loads(out)["models"][0]["parts"]}
    assert parts["kv_cache"] == kv_mib * 2**20  # exact: 32 layers x 8 KV heads x 128 x K and V x f16
    # The graph of that (2024) llama.cpp: every head's K x Q, the mask, four n_embd activations. Today's graph also
    # keeps the micro-batch's f32 Q, K and V beside them (measured below): 512 x (4,096 + 2 x 1,024) x 4 bytes = 12 MiB
    # more, exactly.
    qkv = 512 * (4096 + 2 * 1024) * 4
    assert parts["compute_buffer"] - qkv == compute_mib * 2**20
    assert parts["output_buffer"] == 32000 * 4


# llama.cpp's compute buffer as it prints it ("CPU compute buffer size = ... MiB"), measured here with llama.cpp
# 0c1e570 (the copy llama-cpp-python 0.3.36 vendors, built for the CPU) on GGUF files of two layers with these models'
# widths and vocabularies (random f16 weights; a third layer changes nothing: the allocator reuses the second's
# memory): a context made with llama_init_from_model at each n_ctx, n_ubatch (= n_batch) and flash attention setting.
# (n_ctx, n_ubatch, flash attention) -> MiB
LLAMACPP_MEASURED = {
    "llama3-8b": {(2048, 512, False): 266.50, (2048, 2048, False): 1066.01, (8192, 512, False): 572.01,
                  (8192, 2048, False): 2288.04, (32768, 512, False): 2156.01, (32768, 2048, False): 8624.04,
                  (2048, 512, True): 266.50, (2048, 2048, True): 1066.01, (8192, 512, True): 266.50,
                  (8192, 2048, True): 1066.01, (32768, 512, True): 266.50, (32768, 2048, True): 1066.01},
    "mistral-7b": {(2048, 128, False): 44.00, (2048, 512, False): 176.01, (4096, 512, False): 308.01,
                   (16384, 512, False): 1100.01, (32768, 128, False): 539.00, (32768, 512, False): 2156.01,
                   (1024, 128, True): 29.25, (1024, 512, True): 117.01, (2048, 512, True): 118.01,
                   (4096, 512, True): 120.01, (16384, 512, True): 132.01, (32768, 128, True): 37.00,
                   (32768, 512, True): 148.01},
}


@pytest.mark.parametrize("name, setting", [(n, k) for n, table in LLAMACPP_MEASURED.items() for k in table])
def test_llamacpp_compute_buffer_as_measured(name, setting):
    n_ctx, n_ubatch, flash = setting
    report = estimate_memory(name, engine="llamacpp", context=n_ctx, ubatch=n_ubatch, flash_attn=flash)
    # to the 0.01 MiB llama.cpp prints (its few KiB above a whole MiB are alignment padding)
    assert report.part("compute_buffer").per_gpu / 2**20 == pytest.approx(LLAMACPP_MEASURED[name][setting], abs=0.05)


def test_llamacpp_flash_attention_keeps_no_kq_product():
    def compute(flash, n_ctx):
        report = estimate_memory("mistral-7b", engine="llamacpp", context=n_ctx, flash_attn=flash)
        return report.part("compute_buffer").per_gpu

    assert compute(True, 32768) < compute(False, 32768) / 10
    assert compute(False, 32768) - compute(False, 16384) == pytest.approx(32 * 512 * 16384 * 4 + 512 * 16384 * 4)


def test_llamacpp_options_need_their_engine():
    result = CliRunner().invoke(cli, ["memory", "llama3-8b", "--ubatch", "256"])
    assert result.exit_code == 2 and "--ubatch applies to --engine llamacpp only" in result.output
    result = CliRunner().invoke(cli, ["memory", "llama3-8b", "--engine", "llamacpp", "--batch", "2"])
    assert result.exit_code == 2 and "--batch does not apply to --engine llamacpp" in result.output


def test_vllm_cuda_graphs_come_off_the_kv_cache():
    def vllm(**options):
        return estimate_memory("llama3-8b", engine="vllm", gpu_memory=80 * 2**30, context=8192, **options)

    plain, graphs = vllm(), vllm(cuda_graph_memory=2**29)
    assert plain.part("cuda_graphs").per_gpu == 0 and "after sizing the KV cache" in plain.part("cuda_graphs").note
    assert plain.part("kv_cache").per_gpu - graphs.part("kv_cache").per_gpu == 2**29
    assert plain.capacity_tokens - graphs.capacity_tokens == 2**29 // (131072 * 16) * 16
    # vLLM 0.27's log (gpustack/runner PR #251): "Estimated CUDA graph memory: 0.36 GiB total ... The current
    # --gpu-memory-utilization=0.8200 is equivalent to --gpu-memory-utilization=0.8048 without CUDA graph memory
    # profiling": the graphs' bytes come off the budget as a share of the card would
    card = round(0.36 * 2**30 / (0.8200 - 0.8048))
    with_graphs = estimate_memory("llama3-8b", engine="vllm", gpu_memory=card, gpu_util=0.82, context=1024,
                                  cuda_graph_memory=round(0.36 * 2**30))
    without = estimate_memory("llama3-8b", engine="vllm", gpu_memory=card, gpu_util=0.8048, context=1024)
    assert with_graphs.part("kv_cache").per_gpu == pytest.approx(without.part("kv_cache").per_gpu, abs=1)
    with pytest.raises(LlmcalcError, match="cuda_graph_memory"):
        estimate_memory("llama3-8b", cuda_graph_memory=2**29)


# llama.cpp's Q4_K_M and Q5_K_M recipes, measured: llama-quantize of llama.cpp 0c1e570 (llama-cpp-python 0.3.36's copy,
# built here) run on f16 GGUF files of a Llama layer stack (d_model 256, 4 heads, 2 KV heads of 64, vocabulary 512),
# the quantized files read back with gguf-py: every tensor's type matched formulas.formats.recipe_types, and the
# tensors' bytes were these. (layers, d_ff, tied) -> {recipe: bytes}; d_ff 640 is no multiple of 256, so ffn_down
# falls back to Q5_0 / Q8_0 (tensor_type_fallback); 80 layers with grouped KV heads are llama.cpp's "70B" Llama type,
# whose attn_v tensors outside use_more_bits take Q5_K instead of Q4_K. MoE, MLA and the Q2_K and Q3_K_M mixes:
# tests/test_gguf_recipes.py.
RECIPE_MEASURED = {(16, 768, False): {"q4_k_m": 7_766_016, "q5_k_m": 9_125_888},
                   (80, 768, False): {"q4_k_m": 38_264_832},
                   (16, 768, True): {"q4_k_m": 7_692_288, "q5_k_m": 9_035_776},
                   (12, 640, False): {"q4_k_m": 5_516_800, "q5_k_m": 6_356_480}}


@pytest.mark.parametrize("shape, recipe", [(s, r) for s, table in RECIPE_MEASURED.items() for r in table])
def test_gguf_recipes_as_llama_quantize_writes_them(shape, recipe):
    layers, d_ff, tied = shape
    overrides = [f"n_layers={layers}", "d_model=256", "attention.n_heads=4", "attention.n_kv_heads=2",
                 "attention.d_head=64", f"mlp.d_ff={d_ff}", "vocab_size=512", f"tied_embeddings={str(tied).lower()}"]
    model = llmcalc.load("llama3-8b", overrides)
    report = estimate_memory(model, dtype=recipe, context=64)
    assert report.part("weights").per_gpu == RECIPE_MEASURED[shape][recipe]


def test_q4_k_m_gives_q6_k_where_use_more_bits_says():
    from llmcalc.formulas.recipes import recipe_types

    model = llmcalc.load("llama3-8b", ["n_layers=16"])
    six = {(c, i) for c, i, kind, _ in recipe_types(model, "q4_k_m") if kind == "q6_k"}
    layers = [0, 1, 4, 7, 10, 13, 14, 15]  # as the quantized 16-layer file has them, for attn_v and ffn_down alike
    assert six == {(c, i) for c in ("attn.v", "mlp.down") for i in layers} | {("lm_head", None)}


# Pipeline-parallel serving (formulas/stages.py): contiguous stages, the embedding on the first, the head on the last.
@pytest.mark.parametrize("name, dtype", [("llama3-8b", "bf16"), ("llama3-8b", "int4"), ("mixtral-8x7b", "fp8"),
                                         ("deepseek-v3", "mxfp4"), ("llama3-8b", "q4_k_m")])
def test_the_stages_hold_every_weight_once(name, dtype):
    from llmcalc.formulas.memory import model_weight_bytes
    from llmcalc.formulas.params import count_params
    from llmcalc.formulas.stages import stage_weight_bytes

    params = count_params(llmcalc.load(name))
    whole = model_weight_bytes(params, dtype)[0]
    assert stage_weight_bytes(params, dtype, 1) == [pytest.approx(whole, abs=1)]
    assert sum(stage_weight_bytes(params, dtype, 4)) == pytest.approx(whole, abs=4)


def test_a_stage_holds_its_layers_and_the_ends_the_embedding_and_head():
    """Llama 3 8B, 32 layers over 4 stages of 8; GPT-2 small (tied embeddings) keeps a copy of the embedding matrix
    on its last stage for the head, as vLLM's last rank builds embed_tokens when tie_word_embeddings."""
    from llmcalc.formulas.params import count_params
    from llmcalc.formulas.stages import stage_weight_bytes

    params = count_params(llmcalc.load("llama3-8b"))
    layer = sum(r.per_layer for r in params.rows if r.group == "layers") * 2
    embed, head = 128256 * 4096 * 2, 128256 * 4096 * 2 + 4096 * 2
    assert stage_weight_bytes(params, "bf16", 4) == [8 * layer + embed, 8 * layer, 8 * layer, 8 * layer + head]
    gpt2 = count_params(llmcalc.load("gpt2-small"))
    first, last = stage_weight_bytes(gpt2, "bf16", 2)
    layer = sum(r.per_layer for r in gpt2.rows if r.group == "layers") * 2
    assert first == 6 * layer + (50257 + 1024) * 768 * 2
    assert last == 6 * layer + 2 * 768 * 2 + 50257 * 768 * 2  # final LayerNorm, the head's copy of the embedding


def test_pipeline_serving_memory_is_the_most_loaded_stage():
    one = llmcalc.estimate_memory("llama3-70b", context=8192, batch=16, tp=4)
    two = llmcalc.estimate_memory("llama3-70b", context=8192, batch=16, tp=4, pp=2)
    assert two.n_gpus == 8 and two.settings["pp"] == 2
    assert two.part("kv_cache").per_gpu == one.part("kv_cache").per_gpu / 2  # 40 of the 80 layers
    assert one.part("weights").per_gpu / 2 < two.part("weights").per_gpu < one.part("weights").per_gpu / 2 * 1.03
    # untied: the embedding on stage 1 and the head, as large, with the final norm on stage 2, which holds more
    assert "stage 2 of 2" in two.part("weights").note
    assert two.part("activations") == one.part("activations")


@pytest.mark.parametrize("kwargs, words", [
    (dict(engine="vllm", gpu_memory=80 * 2**30, pp=2), "pp: pipeline parallelism is modelled without an engine"),
    (dict(engine="llamacpp", pp=2), "allowed with engine llamacpp: pp 1"),
    (dict(pp=200), "pp: 200 pipeline stages for 80 layers"),
])
def test_pipeline_serving_refuses_what_it_does_not_model(kwargs, words):
    with pytest.raises(LlmcalcError, match=words):
        llmcalc.estimate_memory("llama3-70b", **kwargs)


def test_expert_parallel_serving_splits_the_routed_experts_and_the_sequences():
    """EP 8 with data-parallel attention (vLLM --enable-expert-parallel, DeepSeek-V3 sec. 3.4): each GPU holds
    everything but the routed experts whole, 1/8 of those, and the KV cache of its 8 of the 64 sequences."""
    from llmcalc.formulas.params import count_params

    params = count_params(llmcalc.load("mixtral-8x7b"))
    experts = sum(r.total for r in params.rows if r.component == "moe.experts")
    report = estimate_memory("mixtral-8x7b", context=4096, batch=64, ep=8)
    assert report.n_gpus == 8 and report.settings["ep"] == 8
    assert report.part("weights").per_gpu == 2 * (params.total - experts) + 2 * experts / 8
    assert report.part("kv_cache").per_gpu == estimate_memory("mixtral-8x7b", context=4096,
                                                              batch=8).part("kv_cache").per_gpu


@pytest.mark.parametrize("kwargs, words", [
    (dict(ep=2), "ep: llama3-8b has no experts"),
])
def test_expert_parallel_serving_needs_experts(kwargs, words):
    with pytest.raises(LlmcalcError, match=words):
        estimate_memory("llama3-8b", **kwargs)


@pytest.mark.parametrize("kwargs, words", [
    (dict(ep=8, tp=2), "allowed with it: tp 1 and pp 1"),
    (dict(ep=3), "ep: 3 does not divide the 8 experts"),
    (dict(ep=8, engine="vllm", gpu_memory=80 * 2**30), "ep: expert parallelism is modelled without an engine"),
])
def test_expert_parallel_serving_refuses_what_it_does_not_model(kwargs, words):
    with pytest.raises(LlmcalcError, match=words):
        estimate_memory("mixtral-8x7b", **kwargs)
