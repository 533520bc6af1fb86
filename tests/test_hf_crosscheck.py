"""Optional cross-check of the config.json import against Hugging Face transformers itself.

Skipped when torch or transformers is missing (CI pins torch 2.13.0, transformers 5.23.0). For every
supported model_type, seeded random small configs (widths, head counts, kv heads, head_dim overrides, tied and
untied embeddings, biases, expert counts and top-k, shared experts, dense prefixes, sparse-layer steps, MoE and
RoPE layer lists, layer_types patterns, windows), the default config of each model_type and the published
configs of tests/data/hf_configs are imported by llmcalc and built by transformers on the meta device; the
parameter counts must be equal (and the q/k norm weights per component). gemma3 is built as its text model
(Gemma3ForCausalLM, tied as the top level says), and once whole (Gemma3ForConditionalGeneration, without its
vision tower and projector). The vision-language models (llava with CLIP or SigLIP towers, qwen2_5_vl nested or flat,
qwen3_5 and qwen3_5_moe, mllama, mistral3) are built whole (AutoModelForImageTextToText: vision tower, projector and language
model); their text forward passes give the FLOPs and cache checks (mllama's skip its cross-attention layers, as
llmcalc does without images), and get_image_features under FlopCounterMode checks the FLOPs of encoding images
(mllama's forward passes with images, prefill and decode, and its cache of the images' K and V: test_mllama.py).
gemma4 is built as its text model (Gemma4ForCausalLM, tied as the top level says), and once whole without
towers (test_gemma4_counts_its_text_model): its vision and audio towers are not counted by llmcalc, so not compared.

FLOPs: a tiny real model (eager attention, eager experts) runs a forward pass under torch's FlopCounterMode,
which must equal llmcalc's matmul FLOPs under --attention full (eager code scores every query-key pair, masks
included) and --sparse-attention dense (DeepSeek-V3.2's eager attention runs over every key, the indexer's top-k
folded into the mask; its top-k convention is counted by hand and by construction in test_dsa.py). Not checked: llama4 / llama4_text, whose transformers MoE runs every token through every expert
(Llama4TextMoe multiplies the non-selected experts' outputs by zero), so its FLOPs are not top-k routing.

KV cache: a forward pass with use_cache; the cache's key and value tensors must hold exactly the bytes of
llmcalc.formulas.kv.kv_cache at that context (fp32 models, fp32 cache). DeepSeek (MLA): transformers 5.23.0 caches
the compressed latent (kv_lora_rank) and the shared RoPE key (qk_rope_head_dim), not per-head K and V, so it
is compared with mla_cache="latent"; DeepSeek-V3.2's cache also holds its indexer's keys (DynamicIndexedLayer.indexer_keys,
index_head_dim per token per layer), counted in both. Falcon's new decoder architecture: transformers 5.23.0 caches its K and V
heads broadcast to every query head, so its cache is n_heads / num_kv_heads times llmcalc's (which counts the
num_kv_heads the architecture needs, as serving engines cache them). Sliding-window and chunked layers: transformers keeps the last W - 1
tokens between steps (the next token makes W) where llmcalc counts a window of W (Mistral's rolling buffer),
so below the window the bytes are equal and from W on the test asserts exactly one token per windowed layer
less. Mamba layers (mamba, mamba2, and the hybrids: jamba, bamba, granitemoehybrid, falcon_h1, whose layers run
attention and a Mamba-2 mixer side by side): the conv and SSM states of the cache, constant per sequence. A hybrid
whose layers are all Mamba layers is not checked: transformers 5.23.0 asks its cache for a sequence length only an
attention layer holds, and raises. Not checked: openai-gpt, which has no KV cache in transformers.

transformers 5.23.0 refuses two published files as they stand (Llama 4 Scout's attn_temperature_tuning 4,
DBRX's moe_normalize_expert_weights 1: strict types); `hf_config` passes true and 1.0, which count nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import random
from pathlib import Path

import pytest

import llmcalc
from llmcalc.importers import hf
from llmcalc.formulas.flops import count_flops
from llmcalc.formulas.kv import cached_tokens, kv_cache, kv_elements_per_token
from llmcalc.formulas.params import count_params

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()
pytestmark = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")  # a 0-wide shared expert

DATA = Path(__file__).parent / "data" / "hf_configs"
N_RANDOM = 15  # random configs per model_type for the parameter counts
N_FORWARD = 5  # random tiny models per model_type for the FLOP and the KV-cache checks
NO_FLOPS = {"llama4", "llama4_text"}  # every token through every expert in transformers
NO_CACHE = {"openai-gpt"}
HYBRIDS = {"jamba", "bamba", "granitemoehybrid", "nemotron_h"}  # attention and Mamba layers, one DynamicCache for both
# recurrent and attention layers in one DynamicCache
RECURRENT_HYBRIDS = HYBRIDS | {"lfm2", "lfm2_moe", "qwen3_next", "minimax", "qwen3_5_text", "qwen3_5_moe_text",
                               "qwen3_5", "qwen3_5_moe"}


def hf_config(config: dict):
    """The transformers config of a config.json mapping (the text model of gemma4's wrapper)."""
    config = copy.deepcopy(config)
    text = config.get("text_config")
    if config["model_type"] == "llama4" and isinstance(text, dict) and \
            text.get("attn_temperature_tuning") not in (None, True, False):  # Scout's 4 (see the module docstring)
        text["attn_temperature_tuning"] = bool(text["attn_temperature_tuning"])
    if config["model_type"] in VISION:
        return transformers.AutoConfig.for_model(**config)
    config.pop("quantization_config", None)
    config.pop("quantization", None)  # MLX's
    model_type = config.pop("model_type")
    if model_type == "gemma3":  # the text model, tied as the top level says (see test_gemma3_counts_its_text_model)
        config = {**(config.get("text_config") or {}), "tie_word_embeddings": config.get("tie_word_embeddings", True)}
        model_type = "gemma3_text"
    if model_type == "gemma4":  # the text model, tied as the top level says (see test_gemma4_counts_its_text_model)
        config = {**(config.get("text_config") or {}), "tie_word_embeddings": config.get("tie_word_embeddings", True)}
        model_type = "gemma4_text"
    if model_type == "llama4_text" and config.get("attn_temperature_tuning") not in (None, True, False):
        config["attn_temperature_tuning"] = bool(config["attn_temperature_tuning"])
    ffn = config.get("ffn_config")
    if isinstance(ffn, dict) and isinstance(ffn.get("moe_normalize_expert_weights"), int):
        config["ffn_config"] = {**ffn, "moe_normalize_expert_weights": float(ffn["moe_normalize_expert_weights"])}
    config.pop("model_type", None)
    return transformers.AutoConfig.for_model(model_type, **config)


def auto_class(config: dict):
    return transformers.AutoModelForImageTextToText if config["model_type"] in VISION else \
        transformers.AutoModelForCausalLM


def hf_param_count(config: dict) -> int:
    with torch.device("meta"):
        model = auto_class(config).from_config(hf_config(config))
    return model.num_parameters()


def imported(config: dict, tmp_path: Path, name: str = "config.json"):
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return llmcalc.load(str(path))


# ----------------------------------------------------------------------------- random configs


def _heads(rng: random.Random, head_dim: bool = True) -> dict:
    """Attention heads, kv heads dividing them, a hidden size they divide, maybe a head_dim override."""
    n_kv = rng.choice([1, 2, 4])
    n_heads = n_kv * rng.choice([1, 2, 3])
    out = {"num_attention_heads": n_heads, "num_key_value_heads": n_kv,
           "hidden_size": n_heads * rng.choice([4, 8, 12])}
    if head_dim and rng.random() < 0.5:
        out["head_dim"] = rng.choice([4, 8, 12, 16])
    return out


def _common(rng: random.Random, n_layers: tuple[int, int] = (1, 4)) -> dict:
    out = {"vocab_size": rng.randint(40, 300), "num_hidden_layers": rng.randint(*n_layers),
           "intermediate_size": rng.randint(8, 80), "max_position_embeddings": 512}
    if rng.random() < 0.5:
        out["tie_word_embeddings"] = rng.random() < 0.5
    return out


def _types(rng: random.Random, n: int, kinds: tuple[str, str]) -> list[str]:
    return [rng.choice(kinds) for _ in range(n)]


def gen_gpt2(rng):
    heads = rng.choice([1, 2, 4])
    cfg = {"model_type": "gpt2", "vocab_size": rng.randint(40, 300), "n_embd": heads * rng.choice([4, 8]),
           "n_head": heads, "n_layer": rng.randint(1, 3), "n_positions": rng.choice([16, 64]),
           "activation_function": rng.choice(["gelu_new", "gelu", "relu"]),
           "tie_word_embeddings": rng.random() < 0.7}
    if rng.random() < 0.6:
        cfg["n_inner"] = rng.randint(4, 80)
    return cfg


def gen_gpt_bigcode(rng):
    cfg = gen_gpt2(rng)
    cfg.update(model_type="gpt_bigcode", multi_query=rng.random() < 0.7,
               activation_function=rng.choice(["gelu_pytorch_tanh", "gelu", "relu"]))
    return cfg


def gen_bloom(rng):
    heads = rng.choice([1, 2, 4])
    return {"model_type": "bloom", "vocab_size": rng.randint(40, 300), "hidden_size": heads * rng.choice([4, 8]),
            "n_head": heads, "n_layer": rng.randint(1, 3), "tie_word_embeddings": rng.random() < 0.7}


def gen_openai_gpt(rng):
    heads = rng.choice([1, 2, 4])
    return {"model_type": "openai-gpt", "vocab_size": rng.randint(40, 300), "n_embd": heads * rng.choice([4, 8]),
            "n_head": heads, "n_layer": rng.randint(1, 3), "n_positions": rng.choice([16, 64]),
            "afn": rng.choice(["gelu", "relu", "silu"]), "tie_word_embeddings": rng.random() < 0.7}


def gen_llama(rng):
    heads = _heads(rng)
    if "head_dim" not in heads:
        heads["hidden_size"] = heads["num_attention_heads"] * rng.choice([4, 8])
    return {"model_type": "llama", **_common(rng), **heads, "attention_bias": rng.random() < 0.5,
            "mlp_bias": rng.random() < 0.5}


def gen_mistral(rng):
    return {"model_type": "mistral", **_common(rng), **_heads(rng), "sliding_window": rng.choice([None, 3, 6])}


def gen_ministral(rng):
    """Ministral's layer_types mixing sliding and full layers (by default all sliding); head_dim always given, as
    MinistralAttention 5.23.0 takes a null one as is, and a window always set, as MinistralModel builds the sliding
    mask whatever the layer_types."""
    cfg = {"model_type": "ministral", **_common(rng), **_heads(rng), "sliding_window": rng.choice([3, 6])}
    cfg.setdefault("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    if rng.random() < 0.7:
        cfg["layer_types"] = _types(rng, cfg["num_hidden_layers"], ("sliding_attention", "full_attention"))
    return cfg


def gen_ministral3(rng):
    return {"model_type": "ministral3", **_common(rng), **_heads(rng), "sliding_window": rng.choice([None, 3, 6])}


def gen_mixtral(rng):
    n_experts = rng.randint(1, 6)
    return {"model_type": "mixtral", **_common(rng), **_heads(rng), "num_local_experts": n_experts,
            "num_experts_per_tok": rng.randint(1, n_experts), "sliding_window": rng.choice([None, None, 4])}


def _qwen_windows(rng, cfg: dict, layer_types: bool = True) -> dict:
    if rng.random() < 0.6:
        cfg["use_sliding_window"] = True
        cfg["sliding_window"] = rng.choice([3, 5, 8])
        cfg["max_window_layers"] = rng.randint(0, cfg["num_hidden_layers"])
        if layer_types and rng.random() < 0.4:
            cfg["layer_types"] = _types(rng, cfg["num_hidden_layers"], ("full_attention", "sliding_attention"))
    return cfg


def gen_qwen2(rng):
    return _qwen_windows(rng, {"model_type": "qwen2", **_common(rng), **_heads(rng)})


def gen_qwen3(rng):
    cfg = {"model_type": "qwen3", **_common(rng), **_heads(rng), "attention_bias": rng.random() < 0.4}
    cfg.setdefault("head_dim", rng.choice([4, 8]))  # Qwen3Config's own default (128) would be needlessly big
    return _qwen_windows(rng, cfg)


def _qwen_moe(rng, cfg: dict) -> dict:
    n_layers = cfg["num_hidden_layers"]
    n_experts = rng.choice([0, 1, 3, 4, 6]) if cfg["model_type"] == "qwen2_moe" else rng.randint(1, 6)
    cfg.update(num_experts=n_experts, num_experts_per_tok=rng.randint(1, max(n_experts, 1)),
               moe_intermediate_size=rng.randint(4, 32), decoder_sparse_step=rng.randint(1, 3))
    if rng.random() < 0.5:
        cfg["mlp_only_layers"] = sorted(rng.sample(range(n_layers), rng.randint(0, n_layers)))
    return cfg


def gen_qwen2_moe(rng):
    cfg = _qwen_moe(rng, {"model_type": "qwen2_moe", **_common(rng, (1, 5)), **_heads(rng),
                          "shared_expert_intermediate_size": rng.choice([0, 8, 24]), "qkv_bias": rng.random() < 0.7})
    return _qwen_windows(rng, cfg)


def gen_qwen3_moe(rng):
    cfg = _qwen_moe(rng, {"model_type": "qwen3_moe", **_common(rng, (1, 5)), **_heads(rng),
                          "attention_bias": rng.random() < 0.3})
    if rng.random() < 0.5:  # the name transformers 5 writes
        cfg["num_local_experts"] = cfg.pop("num_experts")
    return _qwen_windows(rng, cfg, layer_types=False)


def _deepseek(rng, model_type: str) -> dict:
    n_heads = rng.choice([1, 2, 4])
    n_layers = rng.randint(1, 5)
    n_experts = rng.randint(2, 8)
    cfg = {"model_type": model_type, **_common(rng, (n_layers, n_layers)), "num_attention_heads": n_heads,
           "num_key_value_heads": n_heads, "hidden_size": n_heads * rng.choice([4, 8, 12]),
           # kv_lora_rank even: V2's complex RoPE views the latent's row in pairs
           "kv_lora_rank": 2 * rng.randint(1, 12), "q_lora_rank": rng.choice([None, rng.randint(2, 24)]),
           "qk_nope_head_dim": rng.choice([2, 4, 8]), "qk_rope_head_dim": rng.choice([2, 4]),
           "v_head_dim": rng.choice([2, 4, 6]), "n_routed_experts": n_experts,
           "num_experts_per_tok": rng.randint(1, n_experts), "n_shared_experts": rng.randint(0, 2),
           "moe_intermediate_size": rng.randint(4, 24), "first_k_dense_replace": rng.randint(0, n_layers),
           "n_group": 1, "topk_group": 1}
    if model_type == "deepseek_v3":
        cfg["num_nextn_predict_layers"] = rng.randint(0, 2)
    return cfg


def gen_deepseek_v2(rng):
    return _deepseek(rng, "deepseek_v2")


def gen_deepseek_v3(rng):
    return _deepseek(rng, "deepseek_v3")


def gen_deepseek_v32(rng):
    """V3's with q always compressed, and the indexer: heads, a head size from the RoPE part up, a top-k below and
    above the forward passes' lengths; the MoE layers by mlp_layer_types now and then, MTP modules or none."""
    cfg = _deepseek(rng, "deepseek_v3")
    n_layers = cfg["num_hidden_layers"]
    cfg.update(model_type="deepseek_v32", q_lora_rank=rng.randint(2, 24), index_n_heads=rng.choice([1, 2, 3, 4]),
               index_head_dim=cfg["qk_rope_head_dim"] + rng.choice([0, 2, 4, 6]), index_topk=rng.randint(1, 14))
    if rng.random() < 0.4:
        cfg.pop("first_k_dense_replace")
        cfg["mlp_layer_types"] = _types(rng, n_layers, ("dense", "sparse"))
    if rng.random() < 0.5:
        cfg.pop("num_nextn_predict_layers")
    return cfg


def gen_gpt_oss(rng):
    n_experts = rng.randint(1, 6)
    cfg = {"model_type": "gpt_oss", **_common(rng), **_heads(rng), "num_local_experts": n_experts,
           "num_experts_per_tok": rng.randint(1, n_experts), "sliding_window": rng.choice([2, 4, 7]),
           "attention_bias": rng.random() < 0.7}
    cfg.setdefault("head_dim", rng.choice([4, 8]))
    if rng.random() < 0.5:
        cfg["layer_types"] = _types(rng, cfg["num_hidden_layers"], ("full_attention", "sliding_attention"))
    return cfg


def gen_gemma2(rng):
    cfg = {"model_type": "gemma2", **_common(rng), **_heads(rng), "sliding_window": rng.choice([2, 5, 9]),
           "attention_bias": rng.random() < 0.3}
    cfg.setdefault("head_dim", rng.choice([4, 8]))
    if rng.random() < 0.5:
        cfg["layer_types"] = _types(rng, cfg["num_hidden_layers"], ("full_attention", "sliding_attention"))
    return cfg


def _llama4_text(rng) -> dict:
    n_layers = rng.randint(1, 6)
    n_experts = rng.randint(1, 6)
    cfg = {**_common(rng, (n_layers, n_layers)), **_heads(rng), "intermediate_size_mlp": rng.randint(8, 80),
           "num_local_experts": n_experts, "num_experts_per_tok": rng.randint(1, n_experts),
           "use_qk_norm": rng.random() < 0.5, "attention_bias": rng.random() < 0.3,
           "attention_chunk_size": rng.choice([2, 4, 16])}
    cfg.setdefault("head_dim", rng.choice([4, 8]))
    if rng.random() < 0.5:
        cfg["moe_layers"] = sorted(rng.sample(range(n_layers), rng.randint(0, n_layers)))
    else:
        cfg["interleave_moe_layer_step"] = rng.randint(1, 3)
    if rng.random() < 0.5:
        cfg["no_rope_layers"] = [rng.randint(0, 1) for _ in range(n_layers)]
    else:
        cfg["no_rope_layer_interval"] = rng.randint(1, 3)
    return cfg


def gen_llama4_text(rng):
    return {"model_type": "llama4_text", **_llama4_text(rng)}


def gen_llama4(rng):
    """Llama 4's text model and a vision tower whose widths chain (as every published one): pixel shuffle by 1/2 or
    not at all, the adapter's and projector's widths one random width."""
    heads, merge = rng.choice([1, 2]), rng.choice([1, 2, 2])
    d = heads * rng.choice([4, 8])
    out = rng.choice([8, 12, 20])
    vision = {"hidden_size": d, "num_attention_heads": heads, "num_hidden_layers": rng.randint(0, 2),
              "intermediate_size": d * merge * merge, "pixel_shuffle_ratio": 1 / merge, "patch_size": 4,
              "image_size": 4 * merge * rng.randint(1, 3), "projector_input_dim": out, "projector_output_dim": out,
              "vision_output_dim": out}
    return {"model_type": "llama4", "text_config": _llama4_text(rng), "vision_config": vision,
            "image_token_index": 3}


def gen_phi3(rng):
    cfg = {"model_type": "phi3", **_common(rng), **_heads(rng, head_dim=False),
           "sliding_window": rng.choice([None, 3, 7]), "pad_token_id": 0}  # its default 32000 is past the vocab
    if rng.random() < 0.3:
        cfg["head_dim"] = rng.choice([4, 8])  # no Phi3Config field, but modeling_phi3 reads it
    return cfg


def gen_dbrx(rng):
    n_kv = rng.choice([1, 2])
    n_heads = n_kv * rng.choice([1, 2, 3])
    n_experts = rng.randint(1, 6)
    return {"model_type": "dbrx", "vocab_size": rng.randint(40, 300), "d_model": n_heads * rng.choice([4, 8]),
            "n_heads": n_heads, "n_layers": rng.randint(1, 3), "max_seq_len": 64,
            # DbrxAttention reads rope_theta and clamps by clip_qkv unconditionally: their defaults would crash
            "attn_config": {"kv_n_heads": n_kv, "rope_theta": 10000, "clip_qkv": 8.0},
            "ffn_config": {"ffn_hidden_size": rng.randint(4, 40), "moe_num_experts": n_experts,
                           "moe_top_k": rng.randint(1, n_experts)}}


def _llama_like(rng, model_type: str, head_dim: bool = True, small_head: bool = False, **extra) -> dict:
    """A random config of a Llama-shaped type, each bias key (extra: key -> None) a coin toss; small_head: always
    a head_dim (the type's own default would be needlessly big)."""
    cfg = {"model_type": model_type, **_common(rng), **_heads(rng, head_dim), "pad_token_id": 0}  # in the vocab
    cfg.update({key: rng.random() < 0.4 if value is None else value for key, value in extra.items()})
    if small_head:
        cfg.setdefault("head_dim", rng.choice([4, 8]))
    return cfg


def _sliding(rng, cfg: dict, windows=(2, 5, 9)) -> dict:
    cfg["sliding_window"] = rng.choice(windows)
    if rng.random() < 0.5:
        cfg["layer_types"] = _types(rng, cfg["num_hidden_layers"], ("full_attention", "sliding_attention"))
    return cfg


def gen_smollm3(rng):
    cfg = _llama_like(rng, "smollm3", attention_bias=None, mlp_bias=None)
    n_layers = cfg["num_hidden_layers"]
    if rng.random() < 0.5:
        cfg["no_rope_layers"] = [rng.randint(0, 1) for _ in range(n_layers)]
    else:
        cfg["no_rope_layer_interval"] = rng.randint(1, 3)
    if rng.random() < 0.6:
        cfg["use_sliding_window"] = True
        _sliding(rng, cfg)
    return cfg


def gen_internlm3(rng):
    bias = rng.random() < 0.5
    cfg = _llama_like(rng, "internlm3", qkv_bias=bias, bias=bias)
    cfg["hidden_size"] = cfg["num_attention_heads"] * rng.choice([4, 8])  # InternLM3Config checks the division
    cfg.setdefault("head_dim", rng.choice([4, 8]))
    return cfg


def gen_helium(rng):
    cfg = _llama_like(rng, "helium", head_dim=False, attention_bias=None, mlp_bias=None)
    cfg["head_dim"] = cfg["hidden_size"] // cfg["num_attention_heads"]  # o_proj is hidden_size wide
    return cfg


def gen_seed_oss(rng):
    return _llama_like(rng, "seed_oss", small_head=True, attention_bias=None, attention_out_bias=None, mlp_bias=None)


def gen_ernie4_5(rng):
    return _llama_like(rng, "ernie4_5", small_head=True, use_bias=None)


def gen_hunyuan_v1_dense(rng):
    return _llama_like(rng, "hunyuan_v1_dense", small_head=True, attention_bias=None)


def gen_arcee(rng):
    cfg = _llama_like(rng, "arcee", small_head=True, attention_bias=None, mlp_bias=None)
    cfg["hidden_act"] = rng.choice(["relu2", "relu", "silu", "gelu"])  # up and down only, whichever activation
    return cfg


def gen_olmo(rng):
    cfg = _llama_like(rng, "olmo", attention_bias=None)
    if rng.random() < 0.5:
        cfg["clip_qkv"] = 8.0
    return cfg


def gen_gemma(rng):
    return _llama_like(rng, "gemma", small_head=True, attention_bias=None)


def _gemma3_text(rng) -> dict:
    cfg = _llama_like(rng, "gemma3_text", small_head=True, attention_bias=None)
    cfg.pop("model_type")
    _sliding(rng, cfg)
    if "layer_types" not in cfg and rng.random() < 0.5:
        cfg["sliding_window_pattern"] = rng.randint(1, 3)
    return cfg


def gen_gemma3_text(rng):
    return {"model_type": "gemma3_text", **_gemma3_text(rng)}


def gen_gemma3(rng):
    """Gemma 3's text model, a SigLIP tower and a pooling kernel that divides the patch grid or does not (kernel 1:
    no pooling; a grid the tokens' side does not divide: AvgPool2d's floor)."""
    text = _gemma3_text(rng)
    tied = text.pop("tie_word_embeddings", rng.random() < 0.5)
    vision = _vit(rng, "siglip_vision_model")
    vision.pop("model_type")
    vision["image_size"] = vision["patch_size"] * rng.randint(2, 7)
    grid = vision["image_size"] // vision["patch_size"]
    return {"model_type": "gemma3", "text_config": text, "tie_word_embeddings": tied, "vision_config": vision,
            "mm_tokens_per_image": rng.randint(1, grid) ** 2}


def _gemma4_text(rng) -> dict:
    """Gemma 4's features in combination: sliding and full layers of their own head size (and kv heads under
    attention_k_eq_v, whose full layers have no v_proj), the last layers reusing K and V (as many as leave every
    layer type a producer), double-wide MLPs there, experts beside the dense MLP, per-layer inputs (a table at least
    as long as the vocabulary, as the released ones, so every token id has a row) or none."""
    cfg = _llama_like(rng, "gemma4_text", small_head=True, attention_bias=None)
    cfg.pop("model_type")
    n_layers = cfg["num_hidden_layers"] = rng.randint(1, 6)
    cfg["global_head_dim"] = rng.choice([4, 8, 12])
    _sliding(rng, cfg)
    if rng.random() < 0.4:  # sliding and full layers taking turns, the last two producing K and V for the rest
        n_layers = cfg["num_hidden_layers"] = rng.choice([4, 6])
        cfg["layer_types"] = ["full_attention" if i % 2 else "sliding_attention" for i in range(n_layers)]
    elif "layer_types" not in cfg and rng.random() < 0.6:  # the default pattern shares no K and V below 7 layers
        cfg["layer_types"] = ["sliding_attention" if rng.random() < 0.6 else "full_attention" for _ in range(n_layers)]
    types = list(cfg.get("layer_types") or ["full_attention" if (i + 1) % 6 == 0 else "sliding_attention"
                                            for i in range(n_layers)])
    types[-1] = "full_attention"
    cfg["attention_k_eq_v"] = rng.random() < 0.5
    if rng.random() < 0.5:
        cfg["num_global_key_value_heads"] = rng.choice([1, cfg["num_key_value_heads"]])
    shared = [n for n in range(n_layers) if set(types[:n_layers - n]) == set(types)]
    cfg["num_kv_shared_layers"] = max(shared) if rng.random() < 0.7 else rng.choice(shared)
    cfg["use_double_wide_mlp"] = rng.random() < 0.7
    if rng.random() < 0.7:
        cfg["hidden_size_per_layer_input"] = rng.choice([2, 4, 8])
        cfg["vocab_size_per_layer_input"] = cfg["vocab_size"] + rng.randint(0, 20)
    else:
        cfg["hidden_size_per_layer_input"] = 0
    if rng.random() < 0.5:
        cfg.update(enable_moe_block=True, num_experts=rng.randint(1, 4), moe_intermediate_size=rng.randint(4, 16))
        cfg["top_k_experts"] = rng.randint(1, cfg["num_experts"])
    return cfg


def gen_gemma4_text(rng):
    return {"model_type": "gemma4_text", **_gemma4_text(rng)}


def gen_gemma4(rng):
    text = _gemma4_text(rng)
    tied = text.pop("tie_word_embeddings", rng.random() < 0.5)
    return {"model_type": "gemma4", "text_config": text, "tie_word_embeddings": tied}


def gen_granite(rng):
    return _llama_like(rng, "granite", attention_bias=None, mlp_bias=None, residual_multiplier=0.5,
                       embedding_multiplier=2.0)


def gen_granitemoe(rng, model_type="granitemoe"):
    n_experts = rng.randint(1, 6)
    return _llama_like(rng, model_type, attention_bias=None, num_local_experts=n_experts,
                       num_experts_per_tok=rng.randint(1, n_experts))


def gen_granitemoeshared(rng):
    return {**gen_granitemoe(rng, "granitemoeshared"), "shared_intermediate_size": rng.choice([0, 8, 20])}


def gen_olmo2(rng):
    return _llama_like(rng, "olmo2", attention_bias=None)


def gen_olmo3(rng):
    return _sliding(rng, _llama_like(rng, "olmo3", attention_bias=None))


def gen_olmoe(rng):
    n_experts = rng.randint(1, 6)
    return _llama_like(rng, "olmoe", head_dim=False, attention_bias=None, num_experts=n_experts,
                       num_experts_per_tok=rng.randint(1, n_experts))


def gen_glm4(rng):
    return _llama_like(rng, "glm4", small_head=True, attention_bias=None)


def gen_glm4_moe(rng):
    n_layers = rng.randint(1, 5)
    n_experts = rng.randint(2, 6)  # the group routing takes the top 2 scores of each group
    cfg = _llama_like(rng, "glm4_moe", attention_bias=None, use_qk_norm=None, n_routed_experts=n_experts,
                      num_experts_per_tok=rng.randint(1, n_experts), n_shared_experts=rng.randint(0, 2),
                      moe_intermediate_size=rng.randint(4, 24), first_k_dense_replace=rng.randint(0, n_layers),
                      num_hidden_layers=n_layers, num_nextn_predict_layers=rng.randint(0, 1))
    return cfg


def gen_starcoder2(rng):
    cfg = _llama_like(rng, "starcoder2", use_bias=None, hidden_act=rng.choice(["gelu_pytorch_tanh", "gelu", "relu"]))
    cfg["sliding_window"] = rng.choice([None, 3, 6])
    cfg.pop("head_dim", None)  # no Starcoder2Config field (modeling reads it when set)
    return cfg


def gen_exaone4(rng):
    cfg = _sliding(rng, _llama_like(rng, "exaone4"))
    if "layer_types" not in cfg:
        cfg["sliding_window_pattern"] = rng.randint(1, 4)
    return cfg


def _rotary(rng, cfg: dict, key: str, fractions=(0.25, 0.5, 0.75, 1.0)) -> dict:
    """A partial-rotary fraction, at the top level or inside rope_parameters (which transformers reads first)."""
    fraction = rng.choice(fractions)
    if rng.random() < 0.3:
        cfg["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": fraction}
    else:
        cfg[key] = fraction
    return cfg


def gen_gpt_neox(rng):
    heads = rng.choice([1, 2, 4])
    cfg = {"model_type": "gpt_neox", **_common(rng), "num_attention_heads": heads,
           "hidden_size": heads * rng.choice([8, 16]),  # every fraction then rotates an even number of dims
           "use_parallel_residual": rng.random() < 0.6, "attention_bias": rng.random() < 0.6,
           "hidden_act": rng.choice(["gelu", "gelu_new", "relu"])}
    return _rotary(rng, cfg, "rotary_pct")


def gen_gptj(rng):
    heads, head = rng.choice([1, 2, 4]), rng.choice([8, 16])
    cfg = {"model_type": "gptj", "vocab_size": rng.randint(40, 300), "n_embd": heads * head, "n_head": heads,
           "n_layer": rng.randint(1, 3), "n_positions": 64, "rotary_dim": rng.choice([2, 4, head]),
           "activation_function": rng.choice(["gelu_new", "gelu", "relu"])}
    if rng.random() < 0.5:
        cfg["n_inner"] = rng.randint(4, 80)
    if rng.random() < 0.5:
        cfg["tie_word_embeddings"] = rng.random() < 0.5
    return cfg


def gen_phi(rng):
    n_kv = rng.choice([1, 2, 4])
    n_heads = n_kv * rng.choice([1, 2, 3])
    cfg = {"model_type": "phi", **_common(rng), "num_attention_heads": n_heads, "num_key_value_heads": n_kv,
           "hidden_size": n_heads * rng.choice([8, 16]), "qk_layernorm": rng.random() < 0.5,
           "hidden_act": rng.choice(["gelu_new", "gelu", "relu"])}
    return _rotary(rng, cfg, "partial_rotary_factor")


def gen_cohere(rng):
    return {"model_type": "cohere", **_common(rng), **_heads(rng, head_dim=False), "use_qk_norm": rng.random() < 0.5,
            "attention_bias": rng.random() < 0.4}


def gen_cohere2(rng):
    cfg = _sliding(rng, {"model_type": "cohere2", **_common(rng), **_heads(rng, head_dim=False),
                         "attention_bias": rng.random() < 0.4})
    if "layer_types" not in cfg and rng.random() < 0.5:
        cfg["sliding_window_pattern"] = rng.randint(1, 4)
    return cfg


def gen_falcon(rng):
    """The new decoder architecture (num_kv_heads; one norm or two), the original one with multi-query attention or
    a K/V per head, in parallel or not; ALiBi or RoPE; biases or none."""
    n_kv = rng.choice([1, 2])
    n_heads = n_kv * rng.choice([1, 2, 3])
    cfg = {"model_type": "falcon", "vocab_size": rng.randint(40, 300), "num_attention_heads": n_heads,
           "hidden_size": n_heads * rng.choice([4, 8]), "num_hidden_layers": rng.randint(1, 3),
           "max_position_embeddings": 512, "alibi": rng.random() < 0.4, "bias": rng.random() < 0.5,
           "activation": rng.choice(["gelu", "relu"])}
    kind = rng.choice(["new", "multi_query", "per_head"])
    if kind == "new":
        cfg.update(new_decoder_architecture=True, num_kv_heads=n_kv,
                   num_ln_in_parallel_attn=rng.choice([None, 1, 2]))
    else:
        cfg.update(multi_query=kind == "multi_query", parallel_attn=rng.random() < 0.6)
    if rng.random() < 0.5:
        cfg["ffn_hidden_size"] = rng.randint(4, 80)
    if rng.random() < 0.5:
        cfg["tie_word_embeddings"] = rng.random() < 0.5
    return cfg


def gen_mamba(rng, model_type="mamba"):
    """Widths, state sizes, expansions, conv widths, a dt rank given or "auto", biases, tied or not."""
    cfg = {"model_type": model_type, "vocab_size": rng.randint(40, 300), "hidden_size": rng.choice([4, 8, 12, 16, 20]),
           "num_hidden_layers": rng.randint(1, 3), "state_size": rng.choice([1, 2, 4, 8]),
           "expand": rng.choice([1, 2, 3]), "conv_kernel": rng.choice([2, 3, 4]),
           "use_bias": rng.random() < 0.5, "use_conv_bias": rng.random() < 0.7}
    if rng.random() < 0.5:
        cfg["time_step_rank"] = rng.randint(1, 6)
    return _maybe_tied(rng, cfg)


def _maybe_tied(rng, cfg: dict) -> dict:
    """Half the time, tie_word_embeddings set either way; else the model_type's default."""
    if rng.random() < 0.5:
        cfg["tie_word_embeddings"] = rng.random() < 0.5
    return cfg


def gen_mamba2(rng):
    """Heads x head_dim = expand x hidden_size, groups dividing the heads, chunks shorter and longer than the
    forward passes' sequences (so the padding to whole chunks is exercised), biases, tied or not."""
    hidden, expand = rng.choice([4, 8, 12]), rng.choice([1, 2])
    heads = rng.choice([h for h in (1, 2, 3, 4, 6) if hidden * expand % h == 0])
    cfg = {"model_type": "mamba2", "vocab_size": rng.randint(40, 300), "hidden_size": hidden, "expand": expand,
           "num_heads": heads, "head_dim": hidden * expand // heads, "num_hidden_layers": rng.randint(1, 3),
           "state_size": rng.choice([1, 2, 4, 8]), "n_groups": rng.choice([g for g in (1, 2, 3) if heads % g == 0]),
           "conv_kernel": rng.choice([2, 3, 4]), "chunk_size": rng.choice([2, 3, 4, 8, 16]),
           "use_bias": rng.random() < 0.5, "use_conv_bias": rng.random() < 0.7}
    return _maybe_tied(rng, cfg)


def gen_jamba(rng):
    """Attention every attn_layer_period layers from an offset, Mamba layers (with dt/B/C norms) between, experts
    every expert_layer_period layers (one expert: all dense), GQA heads and a head_dim override, biases, ties."""
    attn_period, expert_period = rng.choice([1, 2, 3, 4]), rng.choice([1, 2, 3])
    n_experts = rng.choice([1, 2, 4])
    cfg = {"model_type": "jamba", **_common(rng, (1, 6)), **_heads(rng),
           "attn_layer_period": attn_period, "attn_layer_offset": rng.randrange(attn_period),
           "expert_layer_period": expert_period, "expert_layer_offset": rng.randrange(expert_period),
           "num_experts": n_experts, "num_experts_per_tok": rng.randint(1, n_experts),
           "mamba_d_state": rng.choice([1, 2, 4, 8]), "mamba_d_conv": rng.choice([2, 3, 4]),
           "mamba_expand": rng.choice([1, 2]), "mamba_conv_bias": rng.random() < 0.7,
           "mamba_proj_bias": rng.random() < 0.5}
    if rng.random() < 0.5:
        cfg["mamba_dt_rank"] = rng.randint(1, 6)
    return cfg


def _mixer_layers(rng, cfg: dict, kinds: tuple[str, str], indices_key: str | None, interval_key: str | None) -> dict:
    """Which layers attend: layer_types, or the model_type's own key (LFM2's full_attn_idxs, Qwen3-Next's
    full_attention_interval), or its default."""
    n_layers, draw = cfg["num_hidden_layers"], rng.random()
    if draw < 0.4:
        cfg["layer_types"] = _types(rng, n_layers, kinds)
    elif draw < 0.7 and indices_key:
        cfg[indices_key] = sorted(rng.sample(range(n_layers), rng.randint(0, n_layers)))
    elif draw < 0.7 and interval_key:
        cfg[interval_key] = rng.randint(1, 3)
    return cfg


def gen_lfm2(rng):
    """Short-conv and attention layers (layer_types, full_attn_idxs or all attention), conv taps and biases, the MLP
    width adjusted or not (multipliers, multiples), GQA heads and a head_dim override, tied or not."""
    n_kv = rng.choice([1, 2])
    n_heads = n_kv * rng.choice([1, 2, 3])
    cfg = {"model_type": "lfm2", **_common(rng), "num_attention_heads": n_heads, "num_key_value_heads": n_kv,
           "hidden_size": n_heads * rng.choice([4, 8]), "conv_L_cache": rng.choice([2, 3, 4]),
           "conv_bias": rng.random() < 0.5, "block_auto_adjust_ff_dim": rng.random() < 0.7,
           "block_multiple_of": rng.choice([1, 8, 16]), "block_ffn_dim_multiplier": rng.choice([1.0, 1.5, 2])}
    cfg["intermediate_size"] += 12  # 2/3 of it leaves the MLP at least 8 wide
    if rng.random() < 0.3:
        cfg["head_dim"] = rng.choice([4, 8])  # no Lfm2Config field, but Lfm2Attention reads it
    return _mixer_layers(rng, cfg, ("conv", "full_attention"), "full_attn_idxs", None)


def gen_lfm2_moe(rng):
    """LFM2's layers (layer_types, which Lfm2MoeConfig requires), a dense prefix of any length, experts with or
    without the expert bias (a buffer), GQA heads and a head_dim override, tied or not."""
    n_kv = rng.choice([1, 2])
    n_heads = n_kv * rng.choice([1, 2, 3])
    n_experts = rng.randint(1, 6)
    cfg = {"model_type": "lfm2_moe", **_common(rng), "num_attention_heads": n_heads, "num_key_value_heads": n_kv,
           "hidden_size": n_heads * rng.choice([4, 8]), "conv_L_cache": rng.choice([2, 3, 4]),
           "conv_bias": rng.random() < 0.5, "num_experts": n_experts, "num_experts_per_tok": rng.randint(1, n_experts),
           "moe_intermediate_size": rng.randint(4, 32), "use_expert_bias": rng.random() < 0.6}
    cfg["num_dense_layers"] = rng.randint(0, cfg["num_hidden_layers"])
    cfg["layer_types"] = _types(rng, cfg["num_hidden_layers"], ("conv", "full_attention"))
    if rng.random() < 0.3:
        cfg["head_dim"] = rng.choice([4, 8])
    return cfg


def gen_minimax(rng):
    """Lightning and softmax attention layers (layer_types or MiniMax's alternation), blocks shorter and longer than
    the forward passes' sequences (so partial blocks are exercised), GQA heads and a head_dim override, a sliding
    window or none, experts on every layer, tied or not."""
    n_experts = rng.randint(1, 6)
    cfg = {"model_type": "minimax", **_common(rng), **_heads(rng), "num_local_experts": n_experts,
           "num_experts_per_tok": rng.randint(1, n_experts), "block_size": rng.choice([2, 3, 5, 8, 256]),
           "sliding_window": rng.choice([None, None, 3, 6])}
    return _mixer_layers(rng, cfg, ("linear_attention", "full_attention"), None, None)


def gen_qwen3_next(rng):
    """Gated DeltaNet and gated attention layers (layer_types, full_attention_interval), key heads serving one to
    three value heads, conv taps, partial RoPE, experts with a shared expert (or 0 wide), sparse steps and dense
    layers (mlp_only_layers, num_experts 0), attention biases, tied or not."""
    n_key = rng.choice([1, 2])
    n_experts = rng.choice([0, 1, 3, 4, 6])
    cfg = {"model_type": "qwen3_next", **_common(rng, (1, 5)), **_heads(rng, head_dim=False),
           "head_dim": rng.choice([8, 16]), "attention_bias": rng.random() < 0.3,
           "linear_num_key_heads": n_key, "linear_num_value_heads": n_key * rng.choice([1, 2, 3]),
           "linear_key_head_dim": rng.choice([2, 4, 8]), "linear_value_head_dim": rng.choice([2, 4, 6]),
           "linear_conv_kernel_dim": rng.choice([2, 3, 4]), "num_experts": n_experts,
           "num_experts_per_tok": rng.randint(1, max(n_experts, 1)), "moe_intermediate_size": rng.randint(4, 32),
           "shared_expert_intermediate_size": rng.choice([0, 8, 24]), "decoder_sparse_step": rng.randint(1, 3)}
    if rng.random() < 0.5:
        cfg["mlp_only_layers"] = sorted(rng.sample(range(cfg["num_hidden_layers"]),
                                                   rng.randint(0, cfg["num_hidden_layers"])))
    _rotary(rng, cfg, "partial_rotary_factor", fractions=(0.25, 0.5, 1.0))
    return _mixer_layers(rng, cfg, ("linear_attention", "full_attention"), None, "full_attention_interval")


def gen_qwen3_5_text(rng, moe: bool = False):
    """Qwen3-Next's layers (layer_types, full_attention_interval), partial M-RoPE (mrope_section in rope_parameters or
    not), attention biases, tied or not; a dense MLP on every layer, or experts with a shared expert on every layer."""
    n_key = rng.choice([1, 2])
    cfg = {"model_type": "qwen3_5_moe_text" if moe else "qwen3_5_text", **_common(rng, (1, 5)),
           **_heads(rng, head_dim=False), "head_dim": rng.choice([8, 16]), "attention_bias": rng.random() < 0.3,
           "linear_num_key_heads": n_key, "linear_num_value_heads": n_key * rng.choice([1, 2, 3]),
           "linear_key_head_dim": rng.choice([2, 4, 8]), "linear_value_head_dim": rng.choice([2, 4, 6]),
           "linear_conv_kernel_dim": rng.choice([2, 3, 4])}
    if moe:
        n_experts = rng.randint(1, 6)
        del cfg["intermediate_size"]
        cfg.update(num_experts=n_experts, num_experts_per_tok=rng.randint(1, n_experts),
                   moe_intermediate_size=rng.randint(4, 32), shared_expert_intermediate_size=rng.choice([4, 8, 24]))
    _rotary(rng, cfg, "partial_rotary_factor", fractions=(0.25, 0.5, 1.0))
    if "rope_parameters" in cfg and rng.random() < 0.5:
        half = int(cfg["head_dim"] * cfg["rope_parameters"]["partial_rotary_factor"]) // 2
        cfg["rope_parameters"].update(mrope_interleaved=True, mrope_section=[half - 2 * (half // 3), half // 3,
                                                                             half // 3])
    return _mixer_layers(rng, cfg, ("linear_attention", "full_attention"), None, "full_attention_interval")


def gen_qwen3_5_moe_text(rng):
    return gen_qwen3_5_text(rng, moe=True)


def _mamba2_keys(rng, hidden: int, inner_key: str = "mamba_expand") -> dict:
    """The mamba_* keys of a hybrid's Mamba-2 mixer: heads dividing the inner width (mamba_d_head given or "auto"),
    groups dividing the heads, state sizes, conv widths, chunks shorter and longer than the forward passes, biases."""
    expand = rng.choice([1, 2])
    inner = expand * hidden
    heads = rng.choice([h for h in (1, 2, 3, 4, 6) if inner % h == 0])
    out = {"mamba_expand": expand, "mamba_n_heads": heads, "mamba_n_groups": rng.choice([g for g in (1, 2, 3)
                                                                                          if heads % g == 0]),
           "mamba_d_state": rng.choice([1, 2, 4, 8]), "mamba_d_conv": rng.choice([2, 3, 4]),
           "mamba_chunk_size": rng.choice([2, 3, 4, 8, 16]), "mamba_conv_bias": rng.random() < 0.7,
           "mamba_proj_bias": rng.random() < 0.5}
    if rng.random() < 0.5:
        out["mamba_d_head"] = inner // heads
    return out


def gen_bamba(rng):
    """Attention on a random set of attn_layer_indices (none: Mamba-2 layers only), GQA heads and a head_dim
    override, partial RoPE (BambaConfig's 0.5 or a rope_parameters fraction), attention and MLP biases, ties."""
    cfg = {"model_type": "bamba", **_common(rng, (1, 6)), **_heads(rng), "attention_bias": rng.random() < 0.3,
           "mlp_bias": rng.random() < 0.3}
    cfg.update(_mamba2_keys(rng, cfg["hidden_size"]))
    n_layers = cfg["num_hidden_layers"]
    if rng.random() < 0.85:
        cfg["attn_layer_indices"] = sorted(rng.sample(range(n_layers), rng.randint(1, n_layers)))
    if rng.random() < 0.3:
        cfg["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0,
                                  "partial_rotary_factor": rng.choice([0.25, 1.0])}
    return cfg


def gen_granitemoehybrid(rng):
    """layer_types of mamba and attention (legacy names or new ones), RoPE or none, experts (none: the shared MLP
    alone) beside a shared MLP (0 wide with experts), GQA heads and a head_dim override, attention biases, ties."""
    n_experts = rng.choice([0, 1, 2, 4])
    cfg = {"model_type": "granitemoehybrid", **_common(rng, (1, 6)), **_heads(rng),
           "attention_bias": rng.random() < 0.3, "num_local_experts": n_experts,
           "num_experts_per_tok": rng.randint(1, max(n_experts, 1)),
           "shared_intermediate_size": rng.choice([0, 8, 24]) if n_experts else rng.choice([8, 24]),
           "position_embedding_type": rng.choice([None, "rope", "nope"]),
           "embedding_multiplier": 12.0, "residual_multiplier": 0.22, "attention_multiplier": 0.0078125,
           "logits_scaling": 8.0}
    cfg.update(_mamba2_keys(rng, cfg["hidden_size"]))
    if rng.random() < 0.8:
        names = rng.choice([("mamba", "attention"), ("linear_attention", "full_attention")])
        cfg["layer_types"] = _types(rng, cfg["num_hidden_layers"], names)
    return cfg


def gen_falcon_h1(rng):
    """Attention and a Mamba-2 mixer on every layer: mamba_d_ssm given (any width the heads divide) or null (from
    mamba_expand), the gated norm or the gate alone, in_proj and out_proj biases apart, GQA heads and a head_dim
    override, attention and MLP biases, muP multipliers, ties."""
    cfg = {"model_type": "falcon_h1", **_common(rng), **_heads(rng), "attention_bias": rng.random() < 0.3,
           "mlp_bias": rng.random() < 0.3, "mamba_rms_norm": rng.random() < 0.5,
           "mamba_norm_before_gate": rng.random() < 0.5, "projectors_bias": rng.random() < 0.5,
           "key_multiplier": 0.5, "ssm_multipliers": [0.5, 1.0, 2.0, 1.0, 0.25], "mlp_multipliers": [0.5, 2.0]}
    cfg.update(_mamba2_keys(rng, cfg["hidden_size"]))
    if rng.random() < 0.7:
        heads = cfg["mamba_n_heads"]
        cfg["mamba_d_ssm"] = heads * rng.choice([2, 4, 6])
        cfg.pop("mamba_d_head", None)
        if rng.random() < 0.5:
            cfg["mamba_d_head"] = cfg["mamba_d_ssm"] // heads
    else:
        cfg["mamba_d_ssm"] = None
    return cfg


def gen_nemotron_h(rng):
    """Blocks of Mamba-2 (M), experts (E), attention (*) and MLPs (-), one attention block at least (see
    test_kv_cache_bytes_match_the_cache), as hybrid_override_pattern or layers_block_type (legacy names or new ones);
    the mixer's width from its heads, groups dividing them, biases; squared-ReLU (or other plain) MLPs and experts with
    a shared MLP (0 wide or not); tie_word_embeddings either way (never tied)."""
    heads = rng.choice([1, 2, 4, 6])
    n_experts = rng.choice([2, 3, 4])  # the router takes the top 2 of each group: 2 experts at least
    blocks = [rng.choice("MMEE*--") for _ in range(rng.randint(0, 5))]
    blocks.insert(rng.randint(0, len(blocks)), "*")
    cfg = {"model_type": "nemotron_h", "vocab_size": rng.randint(40, 300), **_heads(rng, head_dim=False),
           "head_dim": rng.choice([4, 8]), "max_position_embeddings": 512, "intermediate_size": rng.randint(8, 80),
           "mlp_hidden_act": rng.choice(["relu2", "relu2", "silu", "gelu"]),
           "mlp_bias": "E" not in blocks and rng.random() < 0.5,  # llmcalc refuses it beside experts
           "mamba_num_heads": heads, "mamba_head_dim": rng.choice([2, 4, 8]),
           "n_groups": rng.choice([g for g in (1, 2, 3) if heads % g == 0]), "ssm_state_size": rng.choice([1, 2, 4, 8]),
           "conv_kernel": rng.choice([2, 3, 4]), "chunk_size": rng.choice([2, 3, 4, 8, 16]),
           "use_bias": rng.random() < 0.4, "use_conv_bias": rng.random() < 0.7, "n_routed_experts": n_experts,
           "num_experts_per_tok": rng.randint(1, n_experts), "moe_intermediate_size": rng.randint(4, 40),
           "moe_shared_expert_intermediate_size": rng.choice([0, 6, 24]), "tie_word_embeddings": rng.random() < 0.5}
    if rng.random() < 0.5:
        cfg["hybrid_override_pattern"] = "".join(blocks)
    else:
        names = rng.choice([{"M": "mamba", "*": "attention"}, {"M": "linear_attention", "*": "full_attention"}])
        cfg["layers_block_type"] = [names.get(b, {"E": "moe", "-": "mlp"}.get(b)) for b in blocks]
    return cfg


def _vit(rng, model_type: str) -> dict:
    heads = rng.choice([1, 2, 4])
    patch = rng.choice([2, 3, 4])
    cfg = {"model_type": model_type, "hidden_size": heads * rng.choice([4, 8]), "num_attention_heads": heads,
           "num_hidden_layers": rng.randint(1, 3), "intermediate_size": rng.randint(4, 40), "patch_size": patch,
           "image_size": patch * rng.randint(1, 4), "hidden_act": rng.choice(["gelu", "quick_gelu", "relu"])}
    if model_type == "siglip_vision_model":
        cfg["vision_use_head"] = rng.random() < 0.5
    if rng.random() < 0.3:
        cfg["num_channels"] = rng.choice([1, 3, 4])
    return cfg


def gen_llava(rng):
    text = gen_llama(rng) if rng.random() < 0.5 else gen_mistral(rng)
    text["tie_word_embeddings"] = rng.random() < 0.3
    cfg = {"model_type": "llava", "text_config": text,
           "vision_config": _vit(rng, rng.choice(["clip_vision_model", "siglip_vision_model"])),
           "vision_feature_select_strategy": rng.choice(["default", "full"]),
           "vision_feature_layer": rng.choice([-1, -2, [-2, -1]]),
           "multimodal_projector_bias": rng.random() < 0.6,
           "projector_hidden_act": rng.choice(["gelu", "relu", "silu"])}
    if rng.random() < 0.3:
        cfg["tie_word_embeddings"] = True
    return cfg


def gen_qwen2_5_vl(rng):
    text = _qwen_windows(rng, {**_common(rng), **_heads(rng, head_dim=False)})
    half = text["hidden_size"] // text["num_attention_heads"] // 2  # M-RoPE's sections (t, h, w) sum to it
    text["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0,
                               "mrope_section": [half - 2 * (half // 3), half // 3, half // 3]}
    heads, merge, patch = rng.choice([1, 2, 4]), rng.choice([1, 2]), rng.choice([2, 3])
    depth = rng.randint(1, 4)
    vision = {"depth": depth, "hidden_size": heads * rng.choice([4, 8]), "num_heads": heads,
              "intermediate_size": rng.randint(4, 40), "patch_size": patch, "spatial_merge_size": merge,
              "temporal_patch_size": rng.choice([1, 2]), "window_size": merge * patch * rng.randint(1, 3),
              "out_hidden_size": rng.choice([text["hidden_size"], 24]),
              "fullatt_block_indexes": sorted(rng.sample(range(depth), rng.randint(0, depth))),
              "hidden_act": rng.choice(["silu", "gelu"])}
    if rng.random() < 0.5:  # the Hub's flat form: the text keys at the top level
        return {"model_type": "qwen2_5_vl", **text, "vision_config": vision}
    return {"model_type": "qwen2_5_vl", "text_config": text, "vision_config": vision,
            "tie_word_embeddings": rng.random() < 0.3}


def gen_qwen3_5(rng, moe: bool = False):
    """Qwen3.5's text model (text_config) tied by the top level or not, and its vision tower: heads, widths, depth,
    patch and merge sizes, one or two frames per patch, position tables of any size, channels, activations, the
    merger's output as wide as the text model or not; the vision_config's model_type as the Hub writes it or not."""
    text = gen_qwen3_5_text(rng, moe)
    heads, merge, patch = rng.choice([1, 2]), rng.choice([1, 2]), rng.choice([2, 3])
    vision = {"depth": rng.randint(1, 3), "hidden_size": heads * rng.choice([4, 8]), "num_heads": heads,
              "intermediate_size": rng.randint(4, 40), "patch_size": patch, "spatial_merge_size": merge,
              "temporal_patch_size": rng.choice([1, 2]), "num_position_embeddings": rng.choice([4, 9, 16, 20]),
              "out_hidden_size": rng.choice([text["hidden_size"], 24]),
              "hidden_act": rng.choice(["gelu_pytorch_tanh", "gelu", "silu"])}
    if rng.random() < 0.3:
        vision["in_channels"] = rng.choice([1, 3])
    if rng.random() < 0.3:
        vision["model_type"] = "qwen3_5"  # the Hub's configs name it so; Qwen3_5Config renames it
    model_type = "qwen3_5_moe" if moe else "qwen3_5"
    tied = text.pop("tie_word_embeddings", rng.random() < 0.3)
    if rng.random() < 0.5:
        text["tie_word_embeddings"] = tied  # said again in text_config, as the Hub's configs do
    return {"model_type": model_type, "text_config": text, "vision_config": vision, "tie_word_embeddings": tied}


def gen_qwen3_5_moe(rng):
    return gen_qwen3_5(rng, moe=True)


def gen_mistral3(rng):
    """Mistral 3: a Mistral or Ministral 3 language model tied by the top level (set either way, or left to its
    default), a Pixtral tower (heads, widths, depth, patch size, channels, activations, head_dim as configs write it,
    ignored), patches merged 1 or 2 a side, the projector's biases and activation, one feature layer."""
    text = gen_mistral(rng) if rng.random() < 0.5 else gen_ministral3(rng)
    heads, patch = rng.choice([1, 2, 4]), rng.choice([2, 3, 4])
    d = heads * rng.choice([4, 8])
    vision = {"model_type": "pixtral", "hidden_size": d, "num_attention_heads": heads,
              "num_hidden_layers": rng.randint(1, 3), "intermediate_size": rng.randint(4, 40), "patch_size": patch,
              "image_size": patch * rng.randint(2, 12), "hidden_act": rng.choice(["gelu", "silu"])}
    if rng.random() < 0.3:
        vision["num_channels"] = rng.choice([1, 3, 4])
    if rng.random() < 0.5:
        vision["head_dim"] = rng.choice([d // heads, 64])
    cfg = {"model_type": "mistral3", "text_config": text, "vision_config": vision,
           "spatial_merge_size": rng.choice([1, 2]), "multimodal_projector_bias": rng.random() < 0.5,
           "projector_hidden_act": rng.choice(["gelu", "relu", "silu"]),
           "vision_feature_layer": rng.choice([-1, -2, [-1], 0])}
    if rng.random() < 0.7:
        cfg["tie_word_embeddings"] = rng.random() < 0.5
    return cfg


def gen_opt(rng):
    """Pre- or post-LN, a word embedding narrower or wider than the model (project_in / project_out) or as wide,
    biases or none, LayerNorms with or without parameters, the final norm removed, tied or not."""
    heads = rng.choice([1, 2, 4])
    hidden = heads * rng.choice([4, 8])
    cfg = {"model_type": "opt", "vocab_size": rng.randint(40, 300), "hidden_size": hidden, "num_attention_heads": heads,
           "num_hidden_layers": rng.randint(1, 3), "ffn_dim": rng.randint(4, 80), "max_position_embeddings": 64,
           "do_layer_norm_before": rng.random() < 0.6, "enable_bias": rng.random() < 0.6,
           "layer_norm_elementwise_affine": rng.random() < 0.7, "_remove_final_layer_norm": rng.random() < 0.2,
           "activation_function": rng.choice(["relu", "gelu", "gelu_new"])}
    if rng.random() < 0.6:
        cfg["word_embed_proj_dim"] = rng.choice([4, 8, 12, hidden])
    return _maybe_tied(rng, cfg)


def gen_ernie4_5_moe(rng):
    """MoE layers from a start to an end index (-1: the last layer) every interval, shared experts (none, one, or
    one MLP of several), use_bias (everything but the routed experts), the attribute_map's names or the config's."""
    n_layers = rng.randint(1, 5)
    n_experts = rng.randint(1, 6)
    cfg = _llama_like(rng, "ernie4_5_moe", small_head=True, use_bias=rng.random() < 0.5, num_hidden_layers=n_layers,
                      moe_num_experts=n_experts, moe_k=rng.randint(1, n_experts),
                      moe_intermediate_size=rng.randint(4, 24), moe_num_shared_experts=rng.randint(0, 3),
                      moe_layer_start_index=rng.randint(0, n_layers if rng.random() < 0.2 else n_layers - 1),
                      moe_layer_interval=rng.randint(1, 3),
                      moe_layer_end_index=rng.choice([-1, rng.randint(0, n_layers - 1)]))
    if rng.random() < 0.3:
        cfg["num_experts"], cfg["num_experts_per_tok"] = cfg.pop("moe_num_experts"), cfg.pop("moe_k")
    return cfg


def gen_minimax_m2(rng):
    """Routed experts only (the routing bias a buffer), q/k norms over the projections, RoPE whole or partial
    through the released configs' rotary_dim or a partial_rotary_factor."""
    n_experts = rng.randint(1, 6)
    cfg = _llama_like(rng, "minimax_m2", small_head=True, num_local_experts=n_experts,
                      num_experts_per_tok=rng.randint(1, n_experts))
    kind = rng.choice(["none", "rotary_dim", "factor"])
    if kind == "rotary_dim":
        cfg["rotary_dim"] = rng.choice([2, cfg["head_dim"] // 2, cfg["head_dim"]])
    elif kind == "factor":
        _rotary(rng, cfg, "partial_rotary_factor", fractions=(0.5, 1.0))
    return cfg


def gen_hunyuan_v1_moe(rng):
    """Routed experts and the shared MLP on every layer, one top-k or one per layer, q/k norms, biases or none."""
    n_experts = rng.randint(1, 6)
    cfg = _llama_like(rng, "hunyuan_v1_moe", small_head=True, attention_bias=None, num_experts=n_experts,
                      num_hidden_layers=rng.randint(1, 5))
    n_layers = cfg["num_hidden_layers"]
    cfg["moe_topk"] = [rng.randint(1, n_experts) for _ in range(n_layers)] if rng.random() < 0.5 else \
        rng.randint(1, n_experts)
    return cfg


def gen_mllama(rng):
    """A Llama whose cross_attention_layers (one or more, an index past the stack now and then) attend to the images;
    a tower of local and global layers (none, some), tiles and tile layouts, intermediate features from any layers
    (negative indices too), plain activations, tie_word_embeddings set either way (it ties nothing)."""
    n_layers = rng.randint(1, 5)
    text = {**_common(rng, (n_layers, n_layers)), **_heads(rng, head_dim=False), "pad_token_id": 0,
            "hidden_act": rng.choice(["silu", "gelu"]),
            "cross_attention_layers": sorted(rng.sample(range(n_layers), rng.randint(1, n_layers)))
            + ([n_layers + 2] if rng.random() < 0.2 else [])}
    heads, n_vision, patch = rng.choice([1, 2, 4]), rng.randint(1, 3), rng.choice([2, 3, 4])
    tiles = rng.randint(1, 4)
    layouts = [[a, b] for a in range(1, tiles + 1) for b in range(1, tiles + 1) if a * b <= tiles]
    indices = rng.sample(range(-n_vision, n_vision), rng.randint(1, 2))
    d = heads * rng.choice([4, 8])
    vision = {"hidden_size": d, "attention_heads": heads, "num_hidden_layers": n_vision,
              "num_global_layers": rng.randint(0, 2), "intermediate_size": rng.randint(4, 40), "patch_size": patch,
              "image_size": patch * rng.randint(1, 3), "max_num_tiles": tiles,
              "supported_aspect_ratios": rng.sample(layouts, rng.randint(1, len(layouts))),
              "intermediate_layers_indices": indices, "vision_output_dim": d * (1 + len(indices)),
              "hidden_act": rng.choice(["gelu", "quick_gelu", "relu"])}
    if rng.random() < 0.3:
        vision["num_channels"] = rng.choice([1, 3, 4])
    return {"model_type": "mllama", "text_config": text, "vision_config": vision}


GENERATORS = {
    "gpt2": gen_gpt2, "gpt_bigcode": gen_gpt_bigcode, "bloom": gen_bloom, "openai-gpt": gen_openai_gpt, "llama": gen_llama, "mistral": gen_mistral,
    "mixtral": gen_mixtral, "qwen2": gen_qwen2, "qwen2_moe": gen_qwen2_moe, "qwen3": gen_qwen3,
    "qwen3_moe": gen_qwen3_moe, "deepseek_v2": gen_deepseek_v2, "deepseek_v3": gen_deepseek_v3,
    "deepseek_v32": gen_deepseek_v32,
    "gpt_oss": gen_gpt_oss, "gemma2": gen_gemma2, "llama4_text": gen_llama4_text, "llama4": gen_llama4,
    "phi3": gen_phi3, "dbrx": gen_dbrx, "smollm3": gen_smollm3, "internlm3": gen_internlm3, "helium": gen_helium,
    "seed_oss": gen_seed_oss, "ernie4_5": gen_ernie4_5, "hunyuan_v1_dense": gen_hunyuan_v1_dense, "arcee": gen_arcee, "olmo": gen_olmo, "gemma": gen_gemma,
    "gemma3_text": gen_gemma3_text, "gemma3": gen_gemma3, "granite": gen_granite, "granitemoe": gen_granitemoe,
    "granitemoeshared": gen_granitemoeshared, "olmo2": gen_olmo2, "olmo3": gen_olmo3, "olmoe": gen_olmoe,
    "glm4": gen_glm4, "glm4_moe": gen_glm4_moe, "starcoder2": gen_starcoder2, "exaone4": gen_exaone4,
    "gpt_neox": gen_gpt_neox, "gptj": gen_gptj, "phi": gen_phi, "cohere": gen_cohere, "cohere2": gen_cohere2,
    "falcon": gen_falcon, "mamba": gen_mamba, "mamba2": gen_mamba2,
    "falcon_mamba": lambda rng: gen_mamba(rng, "falcon_mamba"), "ministral": gen_ministral,
    "ministral3": gen_ministral3,
    "jamba": gen_jamba, "llava": gen_llava, "qwen2_5_vl": gen_qwen2_5_vl, "opt": gen_opt, "mllama": gen_mllama,
    "ernie4_5_moe": gen_ernie4_5_moe, "minimax_m2": gen_minimax_m2, "hunyuan_v1_moe": gen_hunyuan_v1_moe,
    "lfm2": gen_lfm2, "lfm2_moe": gen_lfm2_moe, "qwen3_next": gen_qwen3_next, "minimax": gen_minimax,
    "bamba": gen_bamba, "granitemoehybrid": gen_granitemoehybrid, "falcon_h1": gen_falcon_h1,
    "nemotron_h": gen_nemotron_h, "qwen3_5_text": gen_qwen3_5_text, "qwen3_5_moe_text": gen_qwen3_5_moe_text,
    "qwen3_5": gen_qwen3_5, "qwen3_5_moe": gen_qwen3_5_moe,
    "gemma4_text": gen_gemma4_text, "gemma4": gen_gemma4, "mistral3": gen_mistral3,
}
# built whole by AutoModelForImageTextToText (vision tower and projector counted)
VISION = {"llava", "qwen2_5_vl", "mllama", "gemma3", "llama4", "qwen3_5", "qwen3_5_moe", "mistral3"}


def random_configs(model_type: str, n: int, salt: str = "") -> list[dict]:
    rng = random.Random(f"llmcalc-hf-{model_type}{salt}")
    return [GENERATORS[model_type](rng) for _ in range(n)]


# ----------------------------------------------------------------------------- parameter counts


def test_every_supported_model_type_has_a_generator():
    assert set(GENERATORS) == set(hf.SUPPORTED)


@pytest.mark.parametrize("model_type", hf.SUPPORTED)
def test_random_configs_count_like_transformers(model_type, tmp_path):
    for case, config in enumerate(random_configs(model_type, N_RANDOM)):
        model = imported(config, tmp_path, f"{model_type}-{case}.json")
        assert count_params(model).total == hf_param_count(config), json.dumps(config)


def test_random_configs_reach_the_stack_features(tmp_path):
    """The generators do exercise heterogeneous stacks, windows, chunks, shared experts, MTP and dense layers."""
    seen = set()
    for model_type in hf.SUPPORTED:
        for case, config in enumerate(random_configs(model_type, N_RANDOM)):
            model = imported(config, tmp_path, f"{model_type}-{case}.json")
            layers = model.layers
            seen |= {f"{model_type}:groups>1"} if len(model.groups) > 1 else set()
            for layer in layers:
                att, moe = layer.attention, layer.moe
                if att and att.sliding_window:
                    seen.add(f"{model_type}:window")
                if att and att.chunk_size:
                    seen.add(f"{model_type}:chunk")
                if moe is None and model.is_moe:
                    seen.add(f"{model_type}:dense-in-moe")
                if moe and moe.n_shared_experts:
                    seen.add(f"{model_type}:shared")
            if model.mtp_modules:
                seen.add(f"{model_type}:mtp")
            seen.add(f"{model_type}:{model.residual}" + (":shared" if model.norm.shared else ""))
            if model.rotary_dim:
                seen.add(f"{model_type}:rotary")
            if model.position == "alibi":
                seen.add(f"{model_type}:alibi")
            if model.tied_embeddings:
                seen.add(f"{model_type}:tied")
            if model.projected:
                seen.add(f"{model_type}:projected")
            if model.norm.placement == "post":
                seen.add(f"{model_type}:post")
            elif not model.norm.final:
                seen.add(f"{model_type}:{model.norm.placement}:no-final")
            if any(layer.moe and layer.moe.expert_bias is False and layer.mlp.bias for layer in layers):
                seen.add(f"{model_type}:bare-experts")
            if model.is_recurrent and not any(layer.attention for layer in layers):
                seen.add(f"{model_type}:mamba-only")
            mixers = [layer.mixer for layer in layers if layer.mixer]
            if any(layer.mixer and layer.attention for layer in layers):
                seen.add(f"{model_type}:side-by-side")
            if any(m.kind == "mamba2" and not m.gated_norm for m in mixers):
                seen.add(f"{model_type}:gate-only")
            if any(m.kind.startswith("mamba") and m.bias != m.out_bias for m in mixers):
                seen.add(f"{model_type}:out-bias-apart")
            if any(layer.mlp and not (layer.attention or layer.mixer) for layer in layers):
                seen.add(f"{model_type}:mlp-block")
            if any(layer.attention and not layer.mlp for layer in layers):
                seen.add(f"{model_type}:attention-block")
            if model.position == "none":
                seen.add(f"{model_type}:nope")
    for feature in ("qwen2:window", "qwen2:groups>1", "qwen2_moe:dense-in-moe", "qwen2_moe:shared",
                    "qwen2_moe:window", "qwen3:groups>1", "qwen3_moe:dense-in-moe", "qwen3_moe:window",
                    "deepseek_v2:dense-in-moe", "deepseek_v2:shared", "deepseek_v3:mtp", "deepseek_v3:groups>1", "deepseek_v32:mtp", "deepseek_v32:dense-in-moe",
                    "gpt_oss:groups>1", "gemma2:groups>1", "gemma2:tied", "llama4_text:chunk",
                    "llama4_text:dense-in-moe", "llama4:groups>1", "mistral:window", "mixtral:window",
                    "phi3:window", "gpt2:tied", "llama:tied", "smollm3:window", "smollm3:groups>1",
                    "gemma3_text:groups>1", "gemma3:groups>1", "gemma3:tied", "olmo3:window", "exaone4:groups>1",
                    "starcoder2:window", "glm4_moe:dense-in-moe", "glm4_moe:shared", "glm4_moe:mtp",
                    "granitemoeshared:shared", "gemma:tied", "gpt_neox:parallel", "gpt_neox:sequential",
                    "gpt_neox:rotary", "gptj:parallel:shared", "gptj:rotary", "gptj:tied", "phi:parallel:shared",
                    "phi:rotary", "cohere:parallel:shared", "cohere2:groups>1", "cohere2:window", "falcon:parallel",
                    "falcon:parallel:shared", "falcon:sequential", "falcon:alibi", "falcon:tied", "mamba:tied",
                    "jamba:groups>1", "jamba:dense-in-moe", "jamba:tied", "opt:projected", "opt:post",
                    "opt:pre:no-final", "opt:tied", "ernie4_5_moe:groups>1", "ernie4_5_moe:dense-in-moe",
                    "ernie4_5_moe:shared", "ernie4_5_moe:bare-experts", "ernie4_5_moe:tied", "minimax_m2:rotary",
                    "hunyuan_v1_moe:groups>1", "hunyuan_v1_moe:shared",
                    "lfm2:groups>1", "lfm2:tied", "lfm2_moe:dense-in-moe", "qwen3_next:groups>1", "qwen3_next:rotary",
                    "qwen3_next:shared", "qwen3_next:dense-in-moe", "qwen3_5_text:groups>1", "qwen3_5_text:rotary",
                    "qwen3_5_text:tied", "qwen3_5_moe_text:groups>1", "qwen3_5_moe_text:shared",
                    "qwen3_5_moe_text:rotary",
                    "bamba:groups>1", "bamba:rotary",
                    "bamba:mamba-only", "bamba:tied", "granitemoehybrid:groups>1", "granitemoehybrid:shared",
                    "granitemoehybrid:nope", "granitemoehybrid:tied", "granitemoehybrid:mamba-only",
                    "falcon_h1:side-by-side", "falcon_h1:gate-only", "falcon_h1:out-bias-apart", "falcon_h1:tied",
                    "nemotron_h:groups>1", "nemotron_h:shared", "nemotron_h:mlp-block", "nemotron_h:attention-block",
                    "gemma4_text:groups>1", "gemma4_text:window", "gemma4_text:shared", "gemma4_text:tied",
                    "gemma4:groups>1", "gemma4:tied"):
        assert feature in seen


@pytest.mark.parametrize("model_type", sorted(RECURRENT_HYBRIDS))
def test_forward_and_cache_cases_mix_recurrent_and_attention_layers(model_type, tmp_path):
    """The FLOP, decode and cache checks of each hybrid model_type meet a stack holding both kinds of layer, so the
    recurrent state is compared beside K and V (a stack of recurrent layers only cannot be cached by transformers)."""
    for kind in ("flops", "kv", "decode"):
        mixed = 0
        for case, config in enumerate(random_configs(model_type, N_FORWARD, salt=f"-{kind}")):
            layers = imported(_small(config), tmp_path, f"{model_type}-{case}.json").layers
            mixed += any(layer.mixer for layer in layers) and any(layer.attention for layer in layers)
        assert mixed, kind


# Defaults transformers cannot build: HunYuanDenseV1Config's and HunYuanMoEV1Config's head_dim and
# DeepseekV2Config's num_experts_per_tok are null, DbrxAttentionConfig has no rope_theta, Lfm2MoeConfig has no
# layer_types (llmcalc refuses all but dbrx's)
@pytest.mark.parametrize("model_type", hf.SUPPORTED)
def test_configs_transformers_writes_import_strictly(model_type, tmp_path):
    """The config.json transformers itself writes (PreTrainedConfig.to_json_file, every attribute and only the
    non-defaults) of random configs: llmcalc knows every key it writes, derived and private ones included (strict
    import: an unknown key is an error), and counts the model transformers builds."""
    for case, config in enumerate(random_configs(model_type, 3, salt="-written")):
        expected = hf_param_count(config)
        for use_diff in (False, True):
            path = tmp_path / f"{model_type}-{case}-{use_diff}.json"
            hf_config(config).to_json_file(str(path), use_diff=use_diff)
            assert count_params(llmcalc.load(str(path), strict=True)).total == expected, (use_diff, json.dumps(config))


# MinistralConfig() leaves head_dim null, which MinistralAttention 5.23.0 cannot build with (llmcalc takes
# hidden_size // heads, as a config without the key would)
# Llama4VisionConfig()'s widths do not chain (its model cannot encode an image): llmcalc counts Llama4Config()'s text
# model and says why (test_hf_import.py)
NO_DEFAULT = {"hunyuan_v1_dense", "hunyuan_v1_moe", "deepseek_v2", "dbrx", "lfm2_moe", "ministral", "llama4"}


@pytest.mark.parametrize("model_type", [t for t in hf.SUPPORTED if t not in NO_DEFAULT])
def test_default_configs_count_like_transformers(model_type, tmp_path):
    """A config.json naming only its model_type: every key takes the transformers default on both sides."""
    config = {"model_type": model_type}
    assert count_params(imported(config, tmp_path)).total == hf_param_count(config)


QK_NORM_NAMES = (".q_norm.", ".k_norm.", ".query_layernorm.", ".key_layernorm.", ".q_layernorm.", ".k_layernorm.")


@pytest.mark.parametrize("model_type", ["qwen3", "olmo2", "olmo3", "olmoe", "exaone4", "gemma3_text",
                                        "hunyuan_v1_dense", "glm4_moe", "phi", "cohere", "minimax_m2",
                                        "hunyuan_v1_moe", "lfm2", "lfm2_moe",
                                        "qwen3_next", "qwen3_5_text", "qwen3_5_moe_text", "gemma4_text"])
def test_qk_norm_weights_per_component(model_type, tmp_path):
    """attn.qk_norm: per head (Qwen3, EXAONE 4, Gemma 3, Hunyuan, GLM-4.5; Gemma 4's q norm alone on a layer reusing
    K and V) or over the whole projections
    (rmsnorm_full: OLMo 2 and 3, OLMoE), a LayerNorm of the head size with its bias (Phi) or a weight per head
    (Cohere), against the q/k norm weights transformers builds."""
    for case, config in enumerate(random_configs(model_type, N_RANDOM)):
        model = imported(config, tmp_path, f"{model_type}-{case}.json")
        ours = sum(r.total for r in count_params(model).rows if r.component == "attn.qk_norm")
        with torch.device("meta"):
            hf_model = transformers.AutoModelForCausalLM.from_config(hf_config(config))
        theirs = sum(p.numel() for name, p in hf_model.named_parameters() if any(n in name for n in QK_NORM_NAMES))
        assert ours == theirs, json.dumps(config)


ROTARY_DIMS = {  # the dims of each head transformers rotates, as its attention module holds them
    "gpt_neox": lambda hf_model: hf_model.gpt_neox.layers[0].attention.rotary_ndims,
    "phi": lambda hf_model: hf_model.model.layers[0].self_attn.rotary_ndims,
    "gptj": lambda hf_model: hf_model.transformer.h[0].attn.rotary_dim,
    # MiniMax-M2 rotates cos.shape[-1] dims: twice the rotary embedding's inverse frequencies
    "minimax_m2": lambda hf_model: 2 * hf_model.model.rotary_emb.inv_freq.numel(),
}


@pytest.mark.parametrize("model_type", sorted(ROTARY_DIMS))
def test_partial_rotary_dims_like_transformers(model_type, tmp_path):
    """rotary_dim (all of d_head when unset, none with position none) against the attention transformers builds."""
    for case, config in enumerate(random_configs(model_type, N_RANDOM)):
        model = imported(config, tmp_path, f"{model_type}-{case}.json")
        ours = 0 if model.position == "none" else model.rotary_dim or model.layers[0].attention.d_head
        with torch.device("meta"):
            hf_model = transformers.AutoModelForCausalLM.from_config(hf_config(config))
        assert ours == ROTARY_DIMS[model_type](hf_model), json.dumps(config)


def test_gemma3_groups_are_its_tower_projector_and_text_model(tmp_path):
    """Gemma3ForConditionalGeneration, on the meta device: llmcalc's vision rows are its SigLIP tower's parameters,
    its projector rows Gemma3MultiModalProjector's (the norm and the projection), and the rest the language model
    with the LM head tied by the top-level tie_word_embeddings."""
    _groups_like_transformers("gemma3", tmp_path, lambda name: (
        "vision" if name.startswith("model.vision_tower.") else
        "projector" if name.startswith("model.multi_modal_projector.") else "text"))


def _groups_like_transformers(model_type: str, tmp_path: Path, part_of) -> None:
    """Six random configs of a vision-language model_type built whole on the meta device: llmcalc's vision and
    projector groups and the rest against transformers' parameters split by `part_of(name)`."""
    for case, config in enumerate(random_configs(model_type, 6, salt="-wrapper")):
        with torch.device("meta"):
            model = transformers.AutoModelForImageTextToText.from_config(hf_config(config))
        theirs = {"vision": 0, "projector": 0, "text": 0}
        for name, p in model.named_parameters():
            theirs[part_of(name)] += p.numel()
        counted = count_params(imported(config, tmp_path, f"{model_type}-{case}.json"))
        ours = {part: sum(r.total for r in counted.rows if r.group == part) for part in ("vision", "projector")}
        ours["text"] = counted.total - ours["vision"] - ours["projector"]
        assert ours == theirs, json.dumps(config)


def test_mistral3_groups_are_its_tower_projector_and_text_model(tmp_path):
    """Mistral3ForConditionalGeneration, on the meta device: llmcalc's vision rows are its Pixtral tower's parameters,
    its projector rows Mistral3MultiModalProjector's (the norm, the patch merger, linear_1 and linear_2), and the rest
    the language model, its LM head tied as the top-level tie_word_embeddings says."""
    _groups_like_transformers("mistral3", tmp_path, lambda name: (
        "vision" if name.startswith("model.vision_tower.") else
        "projector" if name.startswith("model.multi_modal_projector.") else "text"))


@pytest.mark.parametrize("model_type", ["qwen3_5", "qwen3_5_moe"])
def test_qwen3_5_groups_are_its_tower_merger_and_text_model(model_type, tmp_path):
    """Qwen3_5ForConditionalGeneration and Qwen3_5MoeForConditionalGeneration, on the meta device: llmcalc's vision
    rows are model.visual's parameters but its merger's (patch embedding, the interpolated position table, the
    blocks), its projector rows the merger's (Qwen3_5VisionPatchMerger), and the rest the language model."""
    _groups_like_transformers(model_type, tmp_path, lambda name: (
        "projector" if name.startswith("model.visual.merger.") else
        "vision" if name.startswith("model.visual.") else "text"))


def test_gemma4_counts_its_text_model(tmp_path):
    """Gemma4ForConditionalGeneration without towers (vision_config and audio_config are optional, None here), on
    the meta device: its parameters are llmcalc's count of the text model, its LM head tied as the top-level
    tie_word_embeddings says whatever text_config says. With towers they would add parameters llmcalc does not count
    (said in the notes): not compared."""
    for case, config in enumerate(random_configs("gemma4", 6, salt="-wrapper")):
        config["text_config"]["tie_word_embeddings"] = not config["tie_word_embeddings"]
        with torch.device("meta"):
            model = transformers.AutoModelForImageTextToText.from_config(transformers.AutoConfig.for_model(
                **copy.deepcopy(config)))
        assert count_params(imported(config, tmp_path, f"gemma4-{case}.json")).total == model.num_parameters()


@pytest.mark.parametrize("kind", ["flops", "kv"])
def test_gemma4_forward_cases_reach_its_features(kind, tmp_path):
    """The FLOP and cache checks of gemma4_text meet every feature: layers reusing K and V (a windowed one among
    them), full layers without v_proj, per-layer inputs, experts beside the MLP, double-wide MLPs."""
    seen = set()
    for case, config in enumerate(random_configs("gemma4_text", N_FORWARD, salt=f"-{kind}")):
        model = imported(_small(config), tmp_path, f"gemma4-{case}.json")
        for layer in model.layers:
            att = layer.attention
            seen |= {name for name, on in (("shared", att.kv_shared), ("k_eq_v", att.k_eq_v),
                                           ("shared-window", att.kv_shared and att.sliding_window),
                                           ("ple", layer.per_layer_input), ("moe", layer.moe),
                                           ("wide", layer.mlp.d_ff > config["intermediate_size"])) if on}
    assert seen == {"shared", "k_eq_v", "shared-window", "ple", "moe", "wide"}


@pytest.mark.parametrize("path", sorted(DATA.glob("*.json")), ids=lambda p: p.stem)
def test_published_configs_count_like_transformers(path):
    assert count_params(llmcalc.load(str(path))).total == hf_param_count(json.loads(path.read_text()))


# ----------------------------------------------------------------------------- FLOPs and KV cache


def tiny_model(config: dict):
    torch.manual_seed(0)
    kwargs = {"attn_implementation": "eager", "experts_implementation": "eager", "dtype": torch.float32}
    model = auto_class(config).from_config(hf_config(config), **kwargs).eval()
    # No parameter needs a gradient: FlopCounterMode's module tracker would otherwise hook tensors that DBRX's
    # expert loop slices from its weights under no_grad (requires_grad but no grad_fn), and fail.
    return model.requires_grad_(False)


def _small(config: dict) -> dict:
    """Keep the real forward passes cheap: a small vocabulary (and text config)."""
    config = copy.deepcopy(config)
    target = config.get("text_config", config)
    target["vocab_size"] = min(target.get("vocab_size", 64), 64)
    return config


def forward_cases(model_type: str, kind: str, tmp_path: Path):
    """N_FORWARD small random configs of a model_type: (config, llmcalc's model, seq, batch, the tiny transformers
    model, input ids), seeded by `kind`."""
    rng = random.Random(f"llmcalc-hf-{kind}-{model_type}")
    for case, config in enumerate(random_configs(model_type, N_FORWARD, salt=f"-{kind}")):
        config = _small(config)
        model = imported(config, tmp_path, f"{model_type}-{case}.json")
        seq, batch = rng.randint(1, 12), rng.choice([1, 2])
        hf_model = tiny_model(config)
        ids = torch.randint(0, model.vocab_size, (batch, seq))
        if _gemma4_cannot_run(config, seq, hf_model, ids):
            continue
        yield config, model, seq, batch, hf_model, ids


def _gemma4_cannot_run(config: dict, seq: int, hf_model=None, ids=None) -> bool:
    """Gemma 4 with layers reusing K and V but no per-layer inputs (hidden_size_per_layer_input 0): transformers
    5.23.0's Gemma4TextModel._maybe_slice_kv_shared_inputs slices per_layer_inputs, None there, whenever more than
    one token enters those layers, and raises; such a config's parameters are compared, its forward pass cannot be
    (the test asserts that it still raises)."""
    text = config.get("text_config", config)
    if not (config["model_type"] in ("gemma4", "gemma4_text") and text.get("num_kv_shared_layers")
            and not text.get("hidden_size_per_layer_input", 256) and seq > 1):
        return False
    if hf_model is None:
        hf_model = tiny_model(config)
        ids = torch.zeros((1, seq), dtype=torch.long)
    with torch.no_grad(), pytest.raises(TypeError, match="not subscriptable"):
        hf_model(ids)
    return True


@pytest.mark.parametrize("model_type", [t for t in hf.SUPPORTED if t not in NO_FLOPS])
def test_forward_matmul_flops_match_flop_counter(model_type, tmp_path):
    from torch.utils.flop_counter import FlopCounterMode

    for config, model, seq, batch, hf_model, ids in forward_cases(model_type, "flops", tmp_path):
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            hf_model(ids, use_cache=False)
        ours = count_flops(model, seq, batch, attention="full", include_other=False, sparse="dense").matmul
        assert ours - _unseen_contractions(model, seq, batch) == counter.get_total_flops(), (seq, batch, json.dumps(config))


def _unseen_contractions(model, seq: int, batch: int, decode: bool = False) -> int:
    """Matmul FLOPs llmcalc counts, as any other contraction, that FlopCounterMode does not see:
    - Mamba-2's chunked scan with state_size 1: torch.einsum contracts the state dimension of C.B^T and of C times the
      states by an elementwise product, not an aten.bmm (2cQ^2H and 2cQHP per layer and sequence, c chunks of Q);
    - Gated DeltaNet's two triangular solves per chunk (torch.linalg.solve_triangular: FlopCounterMode has no formula
      for it), and at a decode step its recurrent delta rule, which torch_recurrent_gated_delta_rule writes as
      elementwise products and sums (linear_mixers.triangular_solves and recurrent_delta_rule, independent of the
      chunked matmuls the counter does see)."""
    from llmcalc.formulas.linear_mixers import recurrent_delta_rule, triangular_solves

    total = 0
    for layer in model.layers:
        mixer = layer.mixer
        if mixer and mixer.kind == "mamba2" and mixer.d_state == 1 and not decode:
            chunks, q = -(-seq // mixer.chunk_size), mixer.chunk_size
            total += 2 * chunks * q * mixer.n_heads * (q + mixer.head_dim)
        if mixer and mixer.kind == "gated_deltanet":
            total += recurrent_delta_rule(mixer, 1) if decode else triangular_solves(mixer, seq)
    return batch * total


@pytest.mark.parametrize("model_type", sorted(VISION - {"mllama"}))  # mllama's: test_mllama_forward_with_images_*
def test_image_encoding_flops_match_flop_counter(model_type, tmp_path):
    """Encoding images (vision tower and projector: get_image_features) on tiny eager models under FlopCounterMode
    equals llmcalc's matmul FLOPs of vision_flop_rows per image: LLaVA's and Gemma 3's image_size squares (Gemma 3's
    projection on the pooled tokens); Qwen2.5-VL's and Qwen3.5's patch grids
    of any shape (smart_resize left out: min_pixels 1, so the grid is the one given), windowed layers included."""
    from torch.utils.flop_counter import FlopCounterMode

    from llmcalc.formulas.vision import vision_flop_rows, window_pairs

    rng = random.Random(f"llmcalc-hf-vision-{model_type}")
    windowed = 0  # cases whose windows are smaller than the image
    for case, config in enumerate(random_configs(model_type, N_FORWARD, salt="-vision")):
        config = _small(config)
        tower = imported(config, tmp_path, f"{model_type}-{case}.json").vision
        n_images, patch = rng.randint(1, 2), tower.patch_size
        if model_type in ("llava", "gemma3", "llama4"):
            rows = cols = tower.grid
            kwargs = {"pixel_values": torch.randn(n_images, tower.channels, tower.image_size, tower.image_size)}
        elif model_type == "mistral3":  # images already at their processed size (image_size: no resize)
            merge = tower.projector.merge
            rows, cols = merge * rng.randint(1, 7), merge * rng.randint(1, 7)
            tower = dataclasses.replace(tower, image_size=patch * max(rows, cols))
            kwargs = {"pixel_values": torch.randn(n_images, tower.channels, rows * patch, cols * patch),
                      "image_sizes": torch.tensor([[rows * patch, cols * patch]] * n_images)}
        else:
            merge = tower.projector.merge
            rows, cols = merge * rng.randint(1, 7), merge * rng.randint(1, 7)
            tower = dataclasses.replace(tower, min_pixels=1)
            per_patch = tower.channels * tower.temporal_patch * patch * patch
            kwargs = {"pixel_values": torch.randn(n_images * rows * cols, per_patch),
                      "image_grid_thw": torch.tensor([[1, rows, cols]] * n_images)}
        hf_model = tiny_model(config)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            base = getattr(hf_model, "model", hf_model)  # Llama4ForConditionalGeneration holds its parts itself
            features = base.get_image_features(**kwargs)
            if model_type == "llama4":  # its projector's last linear runs in the model's forward
                base.multi_modal_projector(features.last_hidden_state)
        ours = sum(layers * matmul for _, _, layers, matmul, _ in vision_flop_rows(tower, rows * patch, cols * patch))
        if model_type == "mistral3":  # PixtralVisionModel's eager attention runs the images as one sequence under a
            # block-diagonal mask (its flash-attention path runs each image alone, as llmcalc counts): the pairs of
            # patches of different images, scores and values (2 x 2 x width each), on every layer, are added here
            cross = n_images * (n_images - 1) * (rows * cols) ** 2
            ours_all = n_images * ours + tower.n_layers * 4 * tower.d_model * cross
            assert ours_all == counter.get_total_flops(), (rows, cols, json.dumps(config))
            continue
        assert n_images * ours == counter.get_total_flops(), (rows, cols, json.dumps(config))
        windowed += bool(tower.window and window_pairs(tower, rows, cols) < (rows * cols) ** 2)
    assert windowed or model_type in ("llava", "gemma3", "llama4", "qwen3_5", "qwen3_5_moe", "mistral3")


def test_image_tokens_follow_the_image_processors(tmp_path):
    """llmcalc's image_tokens against transformers 5.23.0's preprocessing: Qwen2-VL's smart_resize itself (its PIL processor's copy) on 300
    random sizes and Qwen2VLImageProcessorPil's image_grid_thw (tokens = t x h x w / merge^2) on 12 random images,
    for Qwen2.5-VL's default config, and on 12 more with Qwen3.5's preprocessor settings for its default config;
    LLaVA's default is (336 / 14)^2 = 576, LlavaConfig's image_seq_length."""
    import numpy as np
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as theirs

    from llmcalc.formulas.vision import image_tokens, smart_resize

    rng = random.Random("llmcalc-image-tokens")
    for _ in range(300):
        height, width = rng.randint(28, 5000), rng.randint(28, 5000)
        if max(height, width) / min(height, width) <= 200:
            assert smart_resize(height, width, 28, 56 * 56, 28 * 28 * 1280) == theirs(height, width), (height, width)
    tower = imported({"model_type": "qwen2_5_vl"}, tmp_path).vision
    processor = Qwen2VLImageProcessorPil()
    for _ in range(12):
        height, width = rng.randint(20, 2500), rng.randint(20, 2500)
        grid = processor(images=[np.zeros((height, width, 3), dtype=np.uint8)], return_tensors="np")["image_grid_thw"]
        assert image_tokens(tower, height, width) == int(grid.prod()) // 4, (height, width)
    # Qwen3.5: the same processor with its preprocessor_config.json (Qwen/Qwen3.5-2B-Base's: patches of 16, merged 2)
    tower = imported({"model_type": "qwen3_5"}, tmp_path, "qwen3_5.json").vision
    processor = Qwen2VLImageProcessorPil(size={"shortest_edge": 65536, "longest_edge": 16777216}, patch_size=16,
                                         merge_size=2)
    for _ in range(12):
        height, width = rng.randint(20, 5000), rng.randint(20, 5000)
        grid = processor(images=[np.zeros((height, width, 3), dtype=np.uint8)], return_tensors="np")["image_grid_thw"]
        assert image_tokens(tower, height, width) == int(grid.prod()) // 4, (height, width)
    llava = imported({"model_type": "llava"}, tmp_path, "llava.json").vision
    assert image_tokens(llava) == transformers.LlavaConfig().image_seq_length == 576
    _mistral3_image_tokens(rng, tmp_path)


def _mistral3_image_tokens(rng: random.Random, tmp_path: Path) -> None:
    """Mistral 3 (Mistral3Config()'s tower: patches of 14, merged 2, image_size 1540, the longest_edge of Mistral
    Small 3.1's preprocessor_config.json): the resize, pixtral/image_processing_pil_pixtral.py's
    get_resize_output_image_size with PixtralProcessor's patch_size x spatial_merge_size (28), on 300 random sizes,
    and PixtralImageProcessorPil's image_sizes on 12 random images; the tokens are rows x (cols + 1) of those sizes
    over 28, as PixtralProcessor.replace_image_token writes them (an [IMG] per merged patch, [IMG_BREAK] after each
    row, the last one [IMG_END]: processing_pixtral.py, not imported here: it needs torchvision)."""
    import numpy as np
    from transformers.models.pixtral.image_processing_pil_pixtral import PixtralImageProcessorPil
    from transformers.models.pixtral.image_processing_pil_pixtral import get_resize_output_image_size as theirs

    from llmcalc.formulas.vision import image_tokens, longest_edge_resize

    for _ in range(300):
        height, width = rng.randint(1, 9000), rng.randint(1, 9000)
        image = np.empty((height, width, 3), dtype=np.uint8)  # only its shape is read
        assert longest_edge_resize(height, width, 1540, 28) == theirs(image, (1540, 1540), (28, 28)), (height, width)
    tower = imported({"model_type": "mistral3"}, tmp_path, "mistral3.json").vision
    processor = PixtralImageProcessorPil(size={"longest_edge": 1540}, patch_size={"height": 28, "width": 28})
    for _ in range(12):
        height, width = rng.randint(20, 4000), rng.randint(20, 4000)
        sizes = processor(images=[np.zeros((height, width, 3), dtype=np.uint8)], return_tensors="np")["image_sizes"]
        rows, cols = int(sizes[0][0]) // 28, int(sizes[0][1]) // 28
        assert image_tokens(tower, height, width) == rows * (cols + 1), (height, width)
    assert image_tokens(tower) == 55 * 56  # no size given: the 1540-pixel square
    gemma = {"model_type": "gemma3", "vision_config": {"image_size": 896, "patch_size": 14}}  # Gemma 3's tower
    assert image_tokens(imported(gemma, tmp_path, "gemma3.json").vision) == transformers.Gemma3Config().mm_tokens_per_image


def hf_cache_bytes(config: dict, seq: int, batch: int) -> int:
    model = tiny_model(config)
    ids = torch.randint(0, model.config.get_text_config().vocab_size, (batch, seq))
    with torch.no_grad():
        output = model(ids, use_cache=True)
    cache = getattr(output, "past_key_values", None) or output.cache_params  # Mamba's outputs name it cache_params
    # an attention layer's keys and values; a recurrent layer's conv and SSM states (LinearAttentionLayer)
    tensors = [t for layer in cache.layers for t in (getattr(layer, "keys", None), getattr(layer, "values", None))
               if t is not None]
    tensors += [t for layer in cache.layers for states in (getattr(layer, "conv_states", {}),
                                                            getattr(layer, "recurrent_states", {}))
                for t in states.values() if t is not None]  # LFM2's short conv keeps no recurrent state
    tensors += [t for t in getattr(cache, "linear_cache", []) if isinstance(t, torch.Tensor)]  # MiniMax's K^T V
    tensors += [layer.indexer_keys for layer in cache.layers if getattr(layer, "indexer_keys", None) is not None]
    return sum(t.numel() * t.element_size() for t in tensors)


@pytest.mark.parametrize("model_type", [t for t in hf.SUPPORTED if t not in NO_CACHE])
def test_kv_cache_bytes_match_the_cache(model_type, tmp_path):
    rng = random.Random(f"llmcalc-hf-kv-{model_type}")
    for case, config in enumerate(random_configs(model_type, N_FORWARD, salt="-kv")):
        config = _small(config)
        model = imported(config, tmp_path, f"{model_type}-{case}.json")
        seq, batch = rng.randint(1, 12), rng.choice([1, 2])
        ours = kv_cache(model, context=seq, batch=batch, dtype="fp32", mla_cache="latent")
        # transformers keeps W - 1 tokens of a W-token window once the sequence has reached W
        full_windows = sum(kv_elements_per_token(layer.attention, "latent") for layer in model.layers
                           if layer.attention and layer.attention.local_span and seq >= layer.attention.local_span)
        expected = ours.bytes - 4 * batch * full_windows
        if config["model_type"] == "minimax":
            # MiniMaxCache is a DynamicCache built without the config: its attention layers keep every token, sliding
            # window or not (llmcalc's windowed layers keep W, as Mistral's rolling buffer)
            expected = ours.bytes + 4 * batch * sum(
                kv_elements_per_token(layer.attention, "latent") * (seq - cached_tokens(seq, layer.attention))
                for layer in model.layers if layer.attention)
        if config["model_type"] == "falcon" and config.get("new_decoder_architecture"):
            # FalconAttention._split_heads broadcasts the K/V heads to every query head before they are cached
            attention = model.layers[0].attention
            expected = expected * attention.n_heads // attention.n_kv_heads
        if config["model_type"] in RECURRENT_HYBRIDS - {"minimax"} and not any(layer.attention for layer in model.layers):
            # a hybrid of recurrent layers only: transformers 5.23.0 asks its cache for the sequence length, which
            # only an attention layer holds, and raises; such a state is checked where an attention layer holds it
            # (and on the mamba model_type); MiniMaxCache holds such a stack
            with pytest.raises(ValueError, match="only contain LinearAttention layers"):
                hf_cache_bytes(config, seq, batch)
            continue
        if _gemma4_cannot_run(config, seq):
            continue
        assert hf_cache_bytes(config, seq, batch) == expected, (seq, json.dumps(config))


def test_kv_cache_checks_reach_windows_below_and_above(tmp_path):
    """The windowed cases above include sequences shorter than the window and sequences past it."""
    below = above = 0
    for model_type in ("mistral", "gemma2", "gpt_oss", "qwen2", "phi3", "llama4_text"):
        rng = random.Random(f"llmcalc-hf-kv-{model_type}")
        for case, config in enumerate(random_configs(model_type, N_FORWARD, salt="-kv")):
            model = imported(_small(config), tmp_path, f"{model_type}-{case}.json")
            seq, _ = rng.randint(1, 12), rng.choice([1, 2])
            spans = [layer.attention.local_span for layer in model.layers if layer.attention.local_span]
            below += any(seq < s for s in spans)
            above += any(seq >= s for s in spans)
    assert below and above


@pytest.mark.parametrize("name", ["DeepSeek-V2-Lite", "Mixtral-8x7B-v0.1", "gemma-2-2b"])
def test_published_kv_cache_per_token(name, tmp_path):
    """Bytes per token of published configs, against a one-layer slice built by transformers."""
    config = json.loads((DATA / f"{name}.json").read_text())
    config.update(num_hidden_layers=2, vocab_size=64, hidden_size=config["hidden_size"] // 16,
                  intermediate_size=16)
    if name == "Mixtral-8x7B-v0.1":
        config.update(num_attention_heads=4, num_key_value_heads=1)
    if name == "gemma-2-2b":
        config.update(num_attention_heads=2, num_key_value_heads=1, head_dim=8, sliding_window=4)
    if name == "DeepSeek-V2-Lite":
        config.update(num_attention_heads=2, num_key_value_heads=2, moe_intermediate_size=8, kv_lora_rank=16,
                      qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=8, n_routed_experts=4,
                      num_experts_per_tok=2)
    model = imported(config, tmp_path, f"{name}.json")
    seq = 3
    assert hf_cache_bytes(config, seq, 1) == kv_cache(model, context=seq, dtype="fp32", mla_cache="latent").bytes


MAMBA_PARTS = {  # transformers' parameter names (MambaMixer, Mamba2Mixer) -> llmcalc's components
    "in_proj.weight": "mamba.in_proj", "in_proj.bias": "mamba.bias", "out_proj.bias": "mamba.bias",
    "conv1d.weight": "mamba.conv", "conv1d.bias": "mamba.conv", "x_proj.weight": "mamba.x_proj",
    "dt_proj.weight": "mamba.dt_proj", "dt_proj.bias": "mamba.dt_bias", "dt_bias": "mamba.dt_bias",
    "A_log": "mamba.A_log", "D": "mamba.D", "norm.weight": "mamba.norm", "out_proj.weight": "mamba.out_proj",
    "dt_layernorm.weight": "mamba.inner_norms", "b_layernorm.weight": "mamba.inner_norms",
    "c_layernorm.weight": "mamba.inner_norms",
}
MIXER_MODULES = {"mamba": ".mixer.", "falcon_mamba": ".mixer.", "mamba2": ".mixer.", "jamba": ".mamba.", "bamba": ".mamba.",  # where each keeps
                 "granitemoehybrid": ".mamba.", "falcon_h1": ".mamba."}  # its mixer (nemotron_h: .mixer. holds
# every block, checked whole in test_random_configs_count_like_transformers)


@pytest.mark.parametrize("model_type", sorted(MIXER_MODULES))
def test_mamba_parameters_per_component(model_type, tmp_path):
    """Every mixer component of 15 random configs against the parameters of the mixer transformers builds."""
    for case, config in enumerate(random_configs(model_type, N_RANDOM)):
        model = imported(config, tmp_path, f"{model_type}-{case}.json")
        ours: dict[str, int] = {}
        for row in count_params(model).rows:
            if row.component.startswith("mamba."):
                ours[row.component] = ours.get(row.component, 0) + row.total
        with torch.device("meta"):
            hf_model = transformers.AutoModelForCausalLM.from_config(hf_config(config))
        theirs: dict[str, int] = {}
        module = MIXER_MODULES[model_type]
        for name, p in hf_model.named_parameters():
            if module in name:
                part = MAMBA_PARTS[name.split(module, 1)[1]]
                theirs[part] = theirs.get(part, 0) + p.numel()
        assert ours == theirs, json.dumps(config)


@pytest.mark.parametrize("model_type", ["mamba", "falcon_mamba", "mamba2"])
def test_mamba_state_is_constant_per_sequence(model_type, tmp_path):
    """The cache of a Mamba model after a forward pass of 3 tokens and of 11 holds the same bytes, llmcalc's state."""
    config = _small(random_configs(model_type, 1, salt="-state")[0])
    model = imported(config, tmp_path)
    for seq in (3, 11):
        cache = kv_cache(model, context=seq, batch=2, dtype="fp32")
        assert cache.bytes_per_token == 0
        assert hf_cache_bytes(config, seq, 2) == cache.bytes == 2 * cache.state_bytes_per_sequence > 0


@pytest.mark.parametrize("model_type", ["mamba", "falcon_mamba", "mamba2"] + sorted(HYBRIDS | {"falcon_h1"}))
def test_mamba_decode_step_flops_match_flop_counter(model_type, tmp_path):
    """One decode step after a prompt, with the cache: the conv over the conv state and the new token
    (causal_conv1d_update), the state update and its readout (the recurrent form of the scan), the projections; a
    hybrid's attention layers, one query over the prompt's keys and its own. Hybrids without an attention layer are
    left out (transformers 5.23.0 cannot cache them: see test_kv_cache_bytes_match_the_cache)."""
    from torch.utils.flop_counter import FlopCounterMode

    checked = 0
    for config, model, seq, batch, hf_model, ids in forward_cases(model_type, "decode", tmp_path):
        if model_type not in ("mamba", "falcon_mamba", "mamba2") and not any(layer.attention for layer in model.layers):
            continue
        with torch.no_grad():
            output = hf_model(ids, use_cache=True)
            cache = {"cache_params": output.cache_params} if model_type in ("mamba", "falcon_mamba", "mamba2") else \
                {"past_key_values": output.past_key_values}
            with FlopCounterMode(display=False) as counter:
                hf_model(ids[:, -1:], use_cache=True, **cache)
        ours = count_flops(model, seq, batch, decode=True, include_other=False).matmul
        assert ours == counter.get_total_flops(), (seq, batch, json.dumps(config))
        checked += 1
    assert checked


@pytest.mark.parametrize("model_type", ["lfm2", "lfm2_moe", "qwen3_next", "minimax", "qwen3_5_text",
                                        "qwen3_5_moe_text"])
def test_hybrid_decode_step_flops_match_flop_counter(model_type, tmp_path):
    """One decode step after a prompt, with the cache: the short conv's or Gated DeltaNet's conv over its conv state
    and the new token (causal_conv1d_update), Gated DeltaNet's recurrent delta rule (elementwise in transformers, so
    unseen by FlopCounterMode: _unseen_contractions), lightning attention's state update and read, the attention
    layers over every cached key (eager: --attention full), the projections. Stacks of recurrent layers only are left
    out where transformers 5.23.0 cannot cache them (see the cache test)."""
    from torch.utils.flop_counter import FlopCounterMode

    checked = 0
    for config, model, seq, batch, hf_model, ids in forward_cases(model_type, "decode", tmp_path):
        if model_type != "minimax" and not any(layer.attention for layer in model.layers):
            continue
        with torch.no_grad():
            output = hf_model(ids, use_cache=True)
            with FlopCounterMode(display=False) as counter:
                hf_model(ids[:, -1:], use_cache=True, past_key_values=output.past_key_values)
        ours = count_flops(model, seq, batch, attention="full", decode=True, include_other=False).matmul
        assert ours - _unseen_contractions(model, seq, batch, decode=True) == counter.get_total_flops(), (
            seq, batch, json.dumps(config))
        checked += 1
    assert checked


LINEAR_MIXER_PARTS = {  # model_type -> (where transformers keeps the mixer, its parameter names -> llmcalc's components)
    "lfm2": (".conv.", {"in_proj.weight": "shortconv.in_proj", "in_proj.bias": "shortconv.bias",
                        "conv.weight": "shortconv.conv", "conv.bias": "shortconv.conv",
                        "out_proj.weight": "shortconv.out_proj", "out_proj.bias": "shortconv.bias"}),
    "qwen3_next": (".linear_attn.", {"in_proj_qkvz.weight": "deltanet.in_proj_qkvz",
                                     "in_proj_ba.weight": "deltanet.in_proj_ba", "conv1d.weight": "deltanet.conv",
                                     "dt_bias": "deltanet.dt_bias", "A_log": "deltanet.A_log",
                                     "norm.weight": "deltanet.norm", "out_proj.weight": "deltanet.out_proj"}),
}
LINEAR_MIXER_PARTS["lfm2_moe"] = LINEAR_MIXER_PARTS["lfm2"]
# Qwen3_5GatedDeltaNet: in_proj_qkvz and in_proj_ba split into in_proj_qkv and in_proj_z, in_proj_b and in_proj_a
LINEAR_MIXER_PARTS["qwen3_5_text"] = (".linear_attn.", {
    **LINEAR_MIXER_PARTS["qwen3_next"][1], "in_proj_qkv.weight": "deltanet.in_proj_qkvz",
    "in_proj_z.weight": "deltanet.in_proj_qkvz", "in_proj_b.weight": "deltanet.in_proj_ba",
    "in_proj_a.weight": "deltanet.in_proj_ba"})
LINEAR_MIXER_PARTS["qwen3_5_moe_text"] = LINEAR_MIXER_PARTS["qwen3_5_text"]
LINEAR_MIXER_PARTS["minimax"] = (".self_attn.", {
    "qkv_proj.weight": "lightning.qkv_proj", "output_gate.weight": "lightning.output_gate",
    "norm.weight": "lightning.norm", "out_proj.weight": "lightning.out_proj", "q_proj.weight": "attn.q_proj",
    "k_proj.weight": "attn.kv", "v_proj.weight": "attn.kv", "o_proj.weight": "attn.o"})


@pytest.mark.parametrize("model_type", sorted(LINEAR_MIXER_PARTS))
def test_linear_mixer_parameters_per_component(model_type, tmp_path):
    """Every short-conv, Gated DeltaNet and lightning-attention component of 15 random configs, and Qwen3-Next's
    output gate (q_proj's second half), against the parameters transformers builds."""
    module, parts = LINEAR_MIXER_PARTS[model_type]
    for case, config in enumerate(random_configs(model_type, N_RANDOM)):
        model = imported(config, tmp_path, f"{model_type}-{case}.json")
        ours: dict[str, int] = {}
        for row in count_params(model).rows:
            key = {"attn.q": "attn.q_proj", "attn.gate": "attn.q_proj", "attn.k": "attn.kv", "attn.v": "attn.kv",
                   "attn.o": "attn.o"}.get(row.component, row.component)
            if key in set(parts.values()) | {"attn.q_proj"}:
                ours[key] = ours.get(key, 0) + row.total
        for layer in model.layers:  # q's own bias, in attn.bias with k's, v's and o's
            if layer.attention and layer.attention.bias_q:
                ours["attn.q_proj"] += layer.attention.n_heads * layer.attention.d_head
        with torch.device("meta"):
            hf_model = transformers.AutoModelForCausalLM.from_config(hf_config(config))
        theirs: dict[str, int] = {}
        for name, p in hf_model.named_parameters():
            part = parts.get(name.split(module, 1)[1]) if module in name else \
                "attn.q_proj" if ".self_attn.q_proj." in name else None
            if part:
                theirs[part] = theirs.get(part, 0) + p.numel()
        assert ours == theirs, json.dumps(config)
