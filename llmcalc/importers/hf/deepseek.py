"""DeepSeek-V2, V3 and V3.2 (model_types deepseek_v2, deepseek_v3, deepseek_v32): multi-head latent attention,
dense first layers, routed + shared experts, V3's routing bias and multi-token prediction modules, V3.2's DeepSeek
Sparse Attention (a lightning indexer per layer)."""

from __future__ import annotations

from .blocks import GATED_ACTIVATIONS, base_spec, moe_entry, read_layer_types, stack
from .config import Config, got
from .config import show as _show
from .registry import register


def map_deepseek(c: Config) -> dict:
    """deepseek_v2 (modeling_deepseek_v2.py) and deepseek_v3 (modeling_deepseek_v3.py), transformers 5.23.0:
    MLA; MoE layers from first_k_dense_replace on with n_routed_experts experts of moe_intermediate_size and the
    shared experts as one MLP of n_shared_experts x moe_intermediate_size; V3 adds the routing bias (a buffer)
    and num_nextn_predict_layers MTP modules (counted apart). transformers ignores moe_layer_freq; DeepSeek's own
    modeling_deepseek.py makes layer i MoE only when i % moe_layer_freq == 0, and so does this import.
    deepseek_v32 (modeling_deepseek_v32.py): V3's, with q_lora_rank required (DeepseekV32Attention has no full q
    projection), mlp_layer_types (when given) deciding the MoE layers, and DeepseekV32Indexer on every layer
    (index_n_heads, index_head_dim, index_topk: mla.indexer); its MTP modules (num_nextn_predict_layers, no
    transformers field: DeepSeek's config.json writes it) counted apart as V3's."""
    mt = c.model_type
    for unused in ("num_key_value_heads", "head_dim"):  # MLA does not read them, but a value must still be sane
        if c.data.get(unused) is not None:
            c.integer(unused)
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    if c.boolean("attention_bias"):
        raise c.error("attention_bias", "biases on MLA's q_a, kv_a and o projections are not in the spec schema; "
                                        "allowed: false")
    mla = {"kv_lora_rank": c.integer("kv_lora_rank"), "qk_nope_head_dim": c.integer("qk_nope_head_dim"),
           "qk_rope_head_dim": c.integer("qk_rope_head_dim"), "v_head_dim": c.integer("v_head_dim")}
    derived = c.data.get("qk_head_dim")  # transformers writes it: nope + rope, derived, so it must agree
    if derived is not None and derived != mla["qk_nope_head_dim"] + mla["qk_rope_head_dim"]:
        raise c.error("qk_head_dim", f"{_show(derived)} is not qk_nope_head_dim + qk_rope_head_dim = "
                      f"{mla['qk_nope_head_dim'] + mla['qk_rope_head_dim']}, the value transformers derives; allowed: "
                      "that value, or leave it out")
    q_lora = c.optional_integer("q_lora_rank")
    if q_lora:
        mla = {"q_lora_rank": q_lora, **mla}
    if mt == "deepseek_v32":
        if not q_lora:
            raise c.error("q_lora_rank", "DeepseekV32Attention always compresses q (its indexer reads the latent); "
                                         "allowed: a whole number >= 1")
        mla["indexer"] = {"n_heads": c.integer("index_n_heads"), "head_dim": c.integer("index_head_dim"),
                          "topk": c.integer("index_topk")}
        if mla["indexer"]["head_dim"] < mla["qk_rope_head_dim"]:
            raise c.error("index_head_dim", f"{mla['indexer']['head_dim']} is less than qk_rope_head_dim="
                          f"{mla['qk_rope_head_dim']}, the dims the indexer rotates; allowed: that or more")
        read_layer_types(c, n_layers, [], ("indexed_attention",))  # every layer is DSA
    att = {"n_heads": c.integer("num_attention_heads"), "mla": mla}
    first_dense = c.integer("first_k_dense_replace", minimum=0)
    freq = c.data.get("moe_layer_freq", 1)  # DeepSeek's configuration_deepseek.py default; no transformers field
    if isinstance(freq, bool) or not isinstance(freq, int) or freq < 1:
        raise c.error("moe_layer_freq", f"must be a whole number >= 1, got {got(freq)}")
    is_moe = [i >= first_dense and i % freq == 0 for i in range(n_layers)]
    if mt == "deepseek_v32":  # DeepseekV32Config.mlp_layer_types: dense for the first first_k_dense_replace
        is_moe = [kind == "sparse" for kind in read_layer_types(
            c, n_layers, ["sparse" if m else "dense" for m in is_moe], ("dense", "sparse"), "mlp_layer_types")]
    mlp_bias = mt == "deepseek_v2" and c.boolean("mlp_bias")
    if mlp_bias and any(is_moe):
        raise c.error("mlp_bias", "with MoE layers the routed experts have no bias but the shared experts do, "
                                  "which the spec schema cannot say; allowed: false (or no MoE layers)")
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": c.integer("intermediate_size")}
    if mlp_bias:
        spec["mlp"]["bias"] = True
    moe = None
    if any(is_moe):
        top_k = c.raw("num_experts_per_tok")
        if top_k is None:
            raise c.error("num_experts_per_tok", "is needed to route the MoE layers (the transformers default is "
                                                 "null); allowed: a whole number >= 1")
        n_shared = c.raw("n_shared_experts")
        n_shared = 0 if n_shared is None else c.integer("n_shared_experts", minimum=0)
        moe = moe_entry(c.integer("n_routed_experts"), c.integer("num_experts_per_tok"),
                        c.integer("moe_intermediate_size"), c, "num_experts_per_tok", n_shared_experts=n_shared,
                        routing_bias=mt != "deepseek_v2")
    stack(spec, [att] * n_layers, [moe if m else None for m in is_moe])
    if mt != "deepseek_v2":
        n_mtp = c.integer("num_nextn_predict_layers", minimum=0)
        if n_mtp:
            spec["mtp"] = {"n_modules": n_mtp}
    return spec


register(
    "deepseek_v2",  # configuration_deepseek_v2.py; moe_layer_freq is no field there (see _deepseek)
    defaults={
        "vocab_size": 102400, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
        "num_attention_heads": 32, "hidden_act": "silu", "max_position_embeddings": 2048,
        "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False, "first_k_dense_replace": 0,
        "kv_lora_rank": 512, "q_lora_rank": 1536, "n_routed_experts": 64, "n_shared_experts": 2,
        "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128, "num_experts_per_tok": None,
        "moe_intermediate_size": 1407,
    },
    mapper=map_deepseek,
    aliases={"num_experts": "n_routed_experts"},
    ignored=frozenset(("topk_method", "n_group", "topk_group", "routed_scaling_factor", "norm_topk_prob",
        "scoring_func", "aux_loss_alpha", "seq_aux", "ep_size", "head_dim",
        "num_key_value_heads")),
    reads_also=("moe_layer_freq", "qk_head_dim"),
)


# configuration_deepseek_v3.py's defaults (DeepSeek-V3), which configuration_deepseek_v32.py repeats but for the
# context and its own keys
V3_DEFAULTS = {
    "vocab_size": 129280, "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
    "num_hidden_layers": 61, "num_attention_heads": 128, "n_shared_experts": 1, "n_routed_experts": 256,
    "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64, "v_head_dim": 128,
    "qk_nope_head_dim": 128, "num_experts_per_tok": 8, "first_k_dense_replace": 3, "hidden_act": "silu",
    "max_position_embeddings": 4096, "tie_word_embeddings": False, "attention_bias": False,
    "num_nextn_predict_layers": 1,
}


register(
    "deepseek_v3",  # configuration_deepseek_v3.py (num_mtp_layers, alias num_nextn_predict_layers: 1)
    defaults=V3_DEFAULTS,
    mapper=map_deepseek,
    aliases={"num_local_experts": "n_routed_experts", "num_mtp_layers": "num_nextn_predict_layers"},
    ignored=frozenset(("topk_method", "n_group", "topk_group", "routed_scaling_factor", "norm_topk_prob",
        "scoring_func", "aux_loss_alpha", "seq_aux", "ep_size", "head_dim",
        "num_key_value_heads", "rope_interleave")),
    reads_also=("moe_layer_freq", "qk_head_dim"),
)


register(
    "deepseek_v32",  # configuration_deepseek_v32.py; num_nextn_predict_layers and moe_layer_freq are no fields there
    defaults={**V3_DEFAULTS, "max_position_embeddings": 163840, "index_topk": 2048, "index_head_dim": 128,
              "index_n_heads": 64, "mlp_layer_types": None, "layer_types": None, "num_nextn_predict_layers": 0},
    mapper=map_deepseek,
    aliases={"num_local_experts": "n_routed_experts", "num_experts": "n_routed_experts"},
    # DeepseekV32MLP builds its linears without bias whatever mlp_bias says; num_key_value_heads and head_dim are
    # not MLA's sizes (head_dim is set to qk_rope_head_dim); the rest route tokens, no count
    ignored=frozenset(("topk_method", "n_group", "topk_group", "routed_scaling_factor", "norm_topk_prob",
        "scoring_func", "aux_loss_alpha", "seq_aux", "ep_size", "head_dim", "num_key_value_heads", "mlp_bias",
        "rope_interleave")),
    reads_also=("moe_layer_freq", "qk_head_dim"),
)
