"""The `transformers` activation profile against what transformers really saves for backward (optional: needs torch
and transformers; CI runs it with the pinned versions).

A training step's forward of a small random config runs on the CPU in bf16 (dropout 0, labels given so the loss is
part of the graph) under torch.autograd.graph.saved_tensors_hooks; every saved tensor still held when the forward
ends is counted once by its storage, parameters left out. A tensor saved by a branch of the graph that dies during
the forward (DeepSeek-V3's router picks its expert groups with topk and masked_fill whose values nothing uses) is
freed before backward and not counted; its memory may be reused by a later saved tensor, which keying storages by
address while they were saved would then miss. llmcalc's transformers profile must give the same bytes, exactly,
for each covered family, attention implementation, batch and sequence length, and with gradient checkpointing.
"""

from __future__ import annotations

import json
import weakref

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import llmcalc  # noqa: E402
from llmcalc.formulas.activations import training_activations  # noqa: E402
from llmcalc.formulas.hf_activations import unsupported  # noqa: E402

SMALL = {"vocab_size": 320, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3,
         "num_attention_heads": 4, "num_key_value_heads": 2, "attention_dropout": 0.0}
NEOX = {"vocab_size": 320, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3,
        "num_attention_heads": 4, "rotary_pct": 0.25, "attention_dropout": 0.0, "hidden_dropout": 0.0}
PHI = {"vocab_size": 320, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3, "num_attention_heads": 4,
       "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attention_dropout": 0.0}
BIGCODE = {"vocab_size": 320, "n_embd": 64, "n_layer": 3, "n_head": 4, "n_positions": 64, "resid_pdrop": 0.0,
           "embd_pdrop": 0.0, "attn_pdrop": 0.0, "bos_token_id": 0, "eos_token_id": 0}
FALCON = {"vocab_size": 320, "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4, "hidden_dropout": 0.0,
          "attention_dropout": 0.0, "bos_token_id": 0, "eos_token_id": 0}
CONFIGS = {
    "llama": {"model_type": "llama", **SMALL},
    "llama-mha": {"model_type": "llama", **SMALL, "num_key_value_heads": 4, "head_dim": 24},
    "mistral": {"model_type": "mistral", **SMALL, "sliding_window": None},
    "qwen2": {"model_type": "qwen2", **SMALL},
    "qwen3": {"model_type": "qwen3", **SMALL, "head_dim": 16},
    "mistral-window": {"model_type": "mistral", **SMALL, "sliding_window": 20},  # a mask at seq 24, none at 16
    "mixtral": {"model_type": "mixtral", **SMALL, "num_local_experts": 4, "num_experts_per_tok": 2},
    "qwen2_moe": {"model_type": "qwen2_moe", **SMALL, "num_experts": 4, "num_experts_per_tok": 2,
                  "moe_intermediate_size": 32, "shared_expert_intermediate_size": 48, "mlp_only_layers": [1]},
    "qwen2_moe-dense-first": {"model_type": "qwen2_moe", **SMALL, "num_experts": 4, "num_experts_per_tok": 2,
                              "moe_intermediate_size": 32, "shared_expert_intermediate_size": 48,
                              "mlp_only_layers": [0]},
    "qwen3_moe": {"model_type": "qwen3_moe", **SMALL, "head_dim": 16, "num_experts": 4, "num_experts_per_tok": 2,
                  "moe_intermediate_size": 32, "norm_topk_prob": True},
    "phi3": {"model_type": "phi3", **SMALL, "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0},
    "olmo2": {"model_type": "olmo2", **SMALL, "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0},
    # n_group, topk_group and norm_topk_prob as DeepSeek-V3's (the spec does not hold them); MTP is not run
    "deepseek_v3": {"model_type": "deepseek_v3", **SMALL, "num_key_value_heads": 4, "first_k_dense_replace": 1,
                    "n_routed_experts": 16, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
                    "n_shared_experts": 1, "kv_lora_rank": 32, "q_lora_rank": 48, "qk_rope_head_dim": 8,
                    "qk_nope_head_dim": 16, "v_head_dim": 16, "num_nextn_predict_layers": 1, "pad_token_id": 0,
                    "bos_token_id": 0, "eos_token_id": 0},
    "deepseek_v3-no-q-lora": {"model_type": "deepseek_v3", **SMALL, "num_key_value_heads": 4,
                              "first_k_dense_replace": 1, "n_routed_experts": 16, "num_experts_per_tok": 2,
                              "moe_intermediate_size": 32, "n_shared_experts": 2, "kv_lora_rank": 32,
                              "q_lora_rank": None, "qk_rope_head_dim": 8, "qk_nope_head_dim": 16, "v_head_dim": 24,
                              "num_nextn_predict_layers": 0, "pad_token_id": 0, "bos_token_id": 0,
                              "eos_token_id": 0},
    "gpt2": {"model_type": "gpt2", "vocab_size": 320, "n_embd": 64, "n_layer": 3, "n_head": 4, "n_positions": 64,
             "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "bos_token_id": 0, "eos_token_id": 0},
    "gemma": {"model_type": "gemma", **SMALL, "head_dim": 16},
    "gemma2": {"model_type": "gemma2", **SMALL, "head_dim": 16, "sliding_window": 8},
    "gemma3_text": {"model_type": "gemma3_text", **SMALL, "head_dim": 16, "sliding_window": 20,
                    "layer_types": ["sliding_attention", "full_attention", "sliding_attention"]},
    # Granite's multipliers scale by Python floats: nothing more is saved
    "granite": {"model_type": "granite", **SMALL, "embedding_multiplier": 12.0, "logits_scaling": 8.0,
                "residual_multiplier": 0.22, "attention_multiplier": 0.0156},
    "smollm3": {"model_type": "smollm3", **SMALL, "no_rope_layer_interval": 2, "pad_token_id": 0},
    "internlm3": {"model_type": "internlm3", **SMALL, "head_dim": 16, "pad_token_id": 0},
    # RMSNorms after each sub-block, q/k norms per head, one full layer for two (a window's mask at seq 24)
    "exaone4": {"model_type": "exaone4", **SMALL, "sliding_window": 20, "sliding_window_pattern": 2,
                "pad_token_id": 0},
    # fp32 cos and sin made in every layer; biases on every projection (use_bias) keep nothing more
    "ernie4_5": {"model_type": "ernie4_5", **SMALL, "head_dim": 16, "pad_token_id": 0},
    "ernie4_5-bias": {"model_type": "ernie4_5", **SMALL, "use_bias": True, "pad_token_id": 0},
    "olmoe": {"model_type": "olmoe", **SMALL, "num_experts": 4, "num_experts_per_tok": 2, "pad_token_id": 0,
              "eos_token_id": 0},
    "granitemoe": {"model_type": "granitemoe", **SMALL, "num_local_experts": 4, "num_experts_per_tok": 2,
                   "embedding_multiplier": 12.0, "logits_scaling": 8.0, "residual_multiplier": 0.22,
                   "attention_multiplier": 0.0156},
    "glm4": {"model_type": "glm4", **SMALL, "head_dim": 16, "pad_token_id": 0, "eos_token_id": 0},
    "glm4-full-rope": {"model_type": "glm4", **SMALL, "partial_rotary_factor": 1.0, "pad_token_id": 0,
                       "eos_token_id": 0},
    # non-parametric fp32 LayerNorms; clip_qkv (not in the spec) taken as null, its default
    "olmo": {"model_type": "olmo", **SMALL, "pad_token_id": 0, "eos_token_id": 0},
    # nn.LayerNorm, biases everywhere, a plain gelu_pytorch_tanh MLP; with a window (a mask at seq 24 under sdpa)
    "starcoder2": {"model_type": "starcoder2", **SMALL, "pad_token_id": 0},
    "starcoder2-window": {"model_type": "starcoder2", **SMALL, "sliding_window": 20, "pad_token_id": 0},
    # parallel attention and MLP on one CohereLayerNorm's output; per-head q/k LayerNorms with use_qk_norm
    "cohere": {"model_type": "cohere", **SMALL, "pad_token_id": 0},
    "cohere-qk-norm": {"model_type": "cohere", **SMALL, "use_qk_norm": True, "pad_token_id": 0},
    # partial RoPE, a plain MLP; parallel with two LayerNorms of one input (Pythia's), or sequential
    "gpt_neox": {"model_type": "gpt_neox", **NEOX},
    "gpt_neox-sequential": {"model_type": "gpt_neox", **NEOX, "use_parallel_residual": False},
    # one LayerNorm for attention and MLP, partial RoPE, gelu_new; per-head q/k LayerNorms with qk_layernorm
    "phi": {"model_type": "phi", **PHI},
    "phi-qk-norm": {"model_type": "phi", **PHI, "num_key_value_heads": 2, "qk_layernorm": True},
    # one LayerNorm for attention and MLP, partial RoPE made per layer, fp32 q and k for the scores, gelu_new
    "gptj": {"model_type": "gptj", "vocab_size": 320, "n_embd": 64, "n_layer": 3, "n_head": 4, "rotary_dim": 8,
             "n_positions": 64, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "bos_token_id": 0,
             "eos_token_id": 0},
    # nn.LayerNorms, learned positions with an offset, a ReLU MLP
    "opt": {"model_type": "opt", "vocab_size": 320, "hidden_size": 64, "ffn_dim": 96, "num_hidden_layers": 3,
            "num_attention_heads": 4, "max_position_embeddings": 64, "word_embed_proj_dim": 64, "dropout": 0.0,
            "attention_dropout": 0.0, "activation_dropout": 0.0, "layerdrop": 0.0, "pad_token_id": 1,
            "bos_token_id": 0, "eos_token_id": 0},
    # GPT-2's block with nn.Linear, multi-query attention (or not), fp32 eager softmax, gelu_pytorch_tanh
    "gpt_bigcode": {"model_type": "gpt_bigcode", **BIGCODE},
    "gpt_bigcode-mha": {"model_type": "gpt_bigcode", **BIGCODE, "multi_query": False},
    # GPT-2's block with ALiBi, a LayerNorm on the embedding, fp32 eager softmax, GeLUFunction
    "bloom": {"model_type": "bloom", "vocab_size": 320, "hidden_size": 64, "n_layer": 3, "n_head": 4,
              "hidden_dropout": 0.0, "attention_dropout": 0.0, "bos_token_id": 0, "eos_token_id": 0},
    # Falcon-7B's multi-query architecture (one norm, parallel; a single K/V head broadcast by eager's matmul), the
    # new decoder architecture (K/V copied to every head) with two norms or one, multi-head, and sequential
    "falcon": {"model_type": "falcon", **FALCON},
    "falcon-new": {"model_type": "falcon", **FALCON, "num_kv_heads": 2, "new_decoder_architecture": True},
    "falcon-new-1ln": {"model_type": "falcon", **FALCON, "num_kv_heads": 2, "new_decoder_architecture": True,
                       "num_ln_in_parallel_attn": 1},
    "falcon-mha": {"model_type": "falcon", **FALCON, "multi_query": False},
    "falcon-sequential": {"model_type": "falcon", **FALCON, "multi_query": False, "parallel_attn": False},
    # OLMo 2's layer with windows (each layer type its own RoPE); Cohere's with windows; GraniteMoE's with a shared MLP
    "olmo3": {"model_type": "olmo3", **SMALL, "sliding_window": 20, "pad_token_id": 0, "eos_token_id": 0,
              "layer_types": ["sliding_attention", "full_attention", "sliding_attention"]},
    "cohere2": {"model_type": "cohere2", **SMALL, "sliding_window": 20, "pad_token_id": 0,
                "layer_types": ["sliding_attention", "full_attention", "sliding_attention"]},
    "granitemoeshared": {"model_type": "granitemoeshared", **SMALL, "num_local_experts": 4, "num_experts_per_tok": 2,
                         "shared_intermediate_size": 48},
}
# transformers offers Gemma 2 no sdpa (it cannot softcap the scores), nor GPT-J and BLOOM: the profile refuses them
# too; DeepSeek-V3's MLA (and Falcon-7B's single K/V head) under sdpa on the CPU takes PyTorch's fp32 math fallback,
# which a GPU would not: refused
IMPLS = {"gemma2": ("eager",), "gptj": ("eager",), "bloom": ("eager",), "falcon": ("eager",),
         "deepseek_v3": ("eager",), "deepseek_v3-no-q-lora": ("eager",)}
CASES = [(name, impl) for name in sorted(CONFIGS) for impl in IMPLS.get(name, ("sdpa", "eager"))]


def saved_bytes(config: dict, impl: str, batch: int, seq: int, checkpointing: bool = False,
                lora: tuple | None = None) -> int:
    torch.manual_seed(0)
    hf_config = transformers.AutoConfig.for_model(**config)
    model = transformers.AutoModelForCausalLM.from_config(hf_config, dtype=torch.bfloat16, attn_implementation=impl)
    if lora:  # PEFT's LoRA on the named projections, its adapters in fp32 (its default on a bf16 base) or bf16
        targets, rank, adapter_dtype = lora
        peft = pytest.importorskip("peft")
        modules = [name for t in targets if t != "router" for name in HF_NAMES[t]]
        router = "block_sparse_moe.router.weight" if config["model_type"] == "granitemoe" else "mlp.gate.weight"
        routers = [router] if "router" in targets else []  # not an nn.Linear: adapted as a parameter
        model = peft.get_peft_model(model, peft.LoraConfig(r=rank, target_modules=modules or None,
                                                           target_parameters=routers or None, lora_dropout=0.0),
                                    autocast_adapter_dtype=adapter_dtype == "fp32")
    model.train()
    if checkpointing:  # with transformers' default arguments (use_reentrant=False)
        model.activation_checkpointing_enable()
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: list[weakref.ref] = []

    def pack(tensor):
        saved.append(weakref.ref(tensor))  # the graph holds the tensor as long as the node that saved it lives
        return tensor

    ids = torch.randint(0, config["vocab_size"], (batch, seq))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        output = model(input_ids=ids, labels=ids)  # kept: the graph lives as long as the loss
    held = {}
    for ref in saved:
        tensor = ref()
        if tensor is not None and tensor.untyped_storage().data_ptr() not in parameters:
            held[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
    del output
    return sum(held.values())


def profile_bytes(config: dict, impl: str, batch: int, seq: int, tmp_path, recompute: str = "none") -> float:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    model = llmcalc.load(str(path))
    assert unsupported(model, impl) is None  # the profile covers it: the API would not refuse it
    return training_activations(model, seq, batch, attention_impl=impl, framework="transformers",
                                recompute=recompute).bytes


@pytest.mark.parametrize("name, impl", CASES)
@pytest.mark.parametrize("batch, seq", [(1, 16), (2, 24)])
def test_profile_equals_the_saved_tensors(name, impl, batch, seq, tmp_path):
    measured = saved_bytes(CONFIGS[name], impl, batch, seq)
    assert profile_bytes(CONFIGS[name], impl, batch, seq, tmp_path) == pytest.approx(measured, abs=0.5)


@pytest.mark.parametrize("name, impl", [("llama", "sdpa"), ("gemma2", "eager"), ("gemma3_text", "sdpa"),
                                        ("gpt2", "eager"), ("qwen3_moe", "sdpa"), ("deepseek_v3", "eager"),
                                        ("granite", "eager"), ("smollm3", "sdpa"), ("internlm3", "eager"),
                                        ("exaone4", "sdpa"), ("ernie4_5", "eager"), ("olmoe", "sdpa"),
                                        ("granitemoe", "eager"), ("glm4", "sdpa"), ("olmo", "eager"),
                                        ("starcoder2", "sdpa"), ("cohere", "eager"), ("gpt_neox", "sdpa"),
                                        ("phi", "eager"), ("gptj", "eager"), ("opt", "sdpa"),
                                        ("gpt_bigcode", "eager"), ("bloom", "eager"), ("falcon", "eager"),
                                        ("falcon-new", "sdpa"), ("olmo3", "sdpa"), ("cohere2", "eager"),
                                        ("granitemoeshared", "sdpa")])
@pytest.mark.parametrize("batch, seq", [(1, 16), (2, 24)])
def test_full_recomputation_equals_what_gradient_checkpointing_saves(name, impl, batch, seq, tmp_path):
    # the forward keeps each layer's input (and what is around the layers); the working set of the one layer being
    # recomputed at backward is not seen here, nor is what the checkpoints' closures hold (RoPE's cos and sin)
    measured = saved_bytes(CONFIGS[name], impl, batch, seq, checkpointing=True)
    assert profile_bytes(CONFIGS[name], impl, batch, seq, tmp_path, "full") == pytest.approx(measured, abs=0.5)


@pytest.mark.parametrize("name, reason", [("gemma2", "eager attention only"), ("deepseek_v3", "fp32 math fallback"),
                                          ("gptj", "eager attention only"), ("bloom", "eager attention only"),
                                          ("falcon", "fp32 math fallback")])
def test_sdpa_is_refused_where_it_is_not_measured_as_run(name, reason, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(CONFIGS[name]))
    with pytest.raises(llmcalc.LlmcalcError, match=reason):
        llmcalc.estimate_memory(str(path), mode="training", framework="transformers", attention_impl="sdpa")


def test_every_importable_model_type_is_measured_or_refused_by_name(tmp_path):
    # a model_type the Hugging Face import learns is not silently held to Llama's code: it gets its own Code (and a
    # config above) or joins UNMEASURED; a multimodal wrapper is its text model's family (LLaVA's default: llama)
    from llmcalc.formulas.hf_code import CODES, UNMEASURED, family_key
    from llmcalc.importers.hf.registry import TYPES, supported

    for model_type in supported():
        key = model_type.replace("-", "_")
        if key in CODES or key in UNMEASURED or TYPES[model_type].text_model is not None:
            continue
        path = tmp_path / f"{key}.json"
        path.write_text(json.dumps({"model_type": model_type}))
        assert family_key(llmcalc.load(str(path))) in CODES, model_type
    assert {key for key in CODES if key in {t.replace("-", "_") for t in supported()}} <= \
        {config["model_type"] for config in CONFIGS.values()}  # every model_type with a Code is measured


# LoRA (PEFT 0.21.2, no dropout) on a frozen bf16 base: what the Llama code and the adapters save (formulas/hf_lora.py)
HF_NAMES = {"q": ["q_proj"], "k": ["k_proj"], "v": ["v_proj"], "o": ["o_proj"], "gate": ["mlp.gate_proj"],
            "up": ["mlp.up_proj"], "down": ["mlp.down_proj"],
            "shared": ["shared_expert.gate_proj", "shared_expert.up_proj", "shared_expert.down_proj"]}
DENSE = ("q", "k", "v", "o", "gate", "up", "down")
LORA_CASES = [("llama", ("q", "v"), "fp32"), ("llama", ("q", "v"), "bf16"), ("llama", DENSE, "fp32"),
              ("llama", DENSE, "bf16"), ("llama", ("down",), "bf16"), ("llama", ("gate", "up"), "fp32"),
              ("llama", ("o",), "bf16"), ("llama", ("k",), "fp32"), ("llama-mha", ("q", "k", "v", "o"), "bf16"),
              ("qwen2", ("q", "v"), "fp32"), ("mistral", ("up", "down"), "fp32"), ("granite", ("q", "v"), "fp32"),
              ("granite", DENSE, "bf16"), ("smollm3", ("q", "k", "v", "o"), "fp32"),
              ("smollm3", ("k",), "bf16"), ("internlm3", DENSE, "fp32"),
              # per-head q/k RMSNorms (Qwen3); frozen MoE blocks, with adapters on the router (PEFT's target_parameters:
              # transformers' routers are not nn.Linear) and on Qwen2-MoE's shared expert; a first layer whose attention
              # no adapter feeds but whose router or shared expert has one
              ("qwen3", ("q", "v"), "fp32"), ("qwen3", ("k", "o"), "bf16"),
              ("mixtral", ("q", "v"), "fp32"), ("mixtral", ("q", "v"), "bf16"),
              ("mixtral", ("q", "k", "v", "o", "router"), "fp32"), ("mixtral", ("q", "k", "v", "o", "router"), "bf16"),
              ("mixtral", ("router",), "fp32"), ("mixtral", ("router",), "bf16"), ("mixtral", ("o",), "fp32"),
              ("qwen2_moe", ("q", "v"), "fp32"), ("qwen2_moe", ("q", "v"), "bf16"),
              ("qwen2_moe", ("q", "k", "v", "o", "router", "shared", "gate", "up", "down"), "fp32"),
              ("qwen2_moe", ("q", "k", "v", "o", "router", "shared", "gate", "up", "down"), "bf16"),
              ("qwen2_moe", ("router", "shared"), "fp32"), ("qwen2_moe", ("router", "shared"), "bf16"),
              ("qwen2_moe", ("shared",), "bf16"), ("qwen2_moe", ("router",), "fp32"),
              # adapters that skip the first layers: those keep nothing, the first adapted layer keeps what its own
              # adapters need
              ("qwen2_moe", ("gate", "up", "down"), "fp32"), ("qwen2_moe-dense-first", ("router",), "bf16"),
              ("qwen2_moe-dense-first", ("shared", "o"), "fp32"),
              ("qwen3_moe", ("q", "v"), "fp32"), ("qwen3_moe", ("q", "v"), "bf16"),
              ("qwen3_moe", ("q", "k", "v", "o", "router"), "fp32"),
              ("qwen3_moe", ("q", "k", "v", "o", "router"), "bf16"),
              ("qwen3_moe", ("k", "router"), "bf16"),
              # q/k RMSNorms over the whole projection (OLMoE); GraniteMoE's softmax over the top-k logits
              ("olmoe", ("q", "v"), "fp32"), ("olmoe", ("q", "k", "v", "o", "router"), "bf16"),
              ("olmoe", ("k", "router"), "fp32"), ("granitemoe", ("q", "v"), "bf16"),
              ("granitemoe", ("q", "k", "v", "o", "router"), "fp32"), ("granitemoe", ("router",), "bf16")]


@pytest.mark.parametrize("name, targets, adapter_dtype", LORA_CASES)
@pytest.mark.parametrize("batch, seq", [(1, 16), (2, 24)])
def test_lora_profile_equals_the_saved_tensors(name, targets, adapter_dtype, batch, seq, tmp_path):
    measured = saved_bytes(CONFIGS[name], "sdpa", batch, seq, lora=(targets, 4, adapter_dtype))
    path = tmp_path / "config.json"
    path.write_text(json.dumps(CONFIGS[name]))
    report = llmcalc.estimate_memory(str(path), "training", context=seq, batch=batch, framework="transformers",
                                     finetune="lora", lora_targets=",".join(targets), lora_rank=4,
                                     adapter_dtype=adapter_dtype)
    assert report.part("activations").bytes == pytest.approx(measured, abs=0.5)


def test_lora_on_the_routed_experts_is_refused(tmp_path):
    # transformers 5.23.0 fuses the experts into 3-D parameters: PEFT adapts them only through target_parameters
    path = tmp_path / "config.json"
    path.write_text(json.dumps(CONFIGS["mixtral"]))
    with pytest.raises(llmcalc.LlmcalcError, match="routed experts is not measured"):
        llmcalc.estimate_memory(str(path), "training", framework="transformers", finetune="lora",
                                lora_targets="q,v,experts")
