"""DBRX (model_type dbrx, with its nested attn_config and ffn_config): bias-free LayerNorms, fused Wqkv,
fine-grained GLU experts."""

from __future__ import annotations

from .blocks import GATED_ACTIVATIONS, attention_entry, base_spec, moe_entry, stack
from .config import Config, show
from .registry import register


def map_dbrx(c: Config) -> dict:
    """dbrx (modeling_dbrx.py), transformers 5.23.0: LayerNorms without bias, fused Wqkv of d_model + 2 x kv heads
    (attn_config.kv_n_heads) x head size, no biases, ffn_config.moe_num_experts GLU experts of ffn_hidden_size,
    top moe_top_k; embeddings never tied."""
    d = c.integer("d_model")
    n_heads = c.integer("n_heads")
    if d % n_heads:
        raise c.error("n_heads", f"{n_heads} does not divide d_model={d}; allowed: a divisor of {d}")
    if c.boolean("tie_word_embeddings"):
        raise c.error("tie_word_embeddings", "transformers refuses tied embeddings for DBRX; allowed: false")
    attn = c.child("attn_config", "dbrx.attn_config")
    ffn = c.child("ffn_config", "dbrx.ffn_config")
    n_kv = attn.integer("kv_n_heads")
    if n_heads % n_kv:
        raise attn.error("kv_n_heads", f"{n_kv} does not divide n_heads={n_heads}; allowed: a divisor of {n_heads}")
    derived = c.data.get("num_key_value_heads")  # transformers writes attn_config.kv_n_heads here too
    if derived is not None and derived != n_kv:
        raise c.error("num_key_value_heads", f"{show(derived)} contradicts attn_config.kv_n_heads={n_kv}, which "
                      "transformers copies it from; allowed: equal values, or leave it out")
    act = ffn.mapping("ffn_act_fn") or {"name": "silu"}
    if set(act) - {"name"}:
        raise ffn.error("ffn_act_fn", f"{show(act)} has keys llmcalc does not know; allowed: {{\"name\": ...}}")
    if act.get("name") not in GATED_ACTIVATIONS:
        raise ffn.error("ffn_act_fn", f"{show(act.get('name'))} is not an activation llmcalc knows here; "
                                      f"allowed: {', '.join(sorted(GATED_ACTIVATIONS))}")
    n_layers = c.integer("n_layers")
    spec = base_spec(c, "vocab_size", d, n_layers, "max_seq_len", tied=False)
    spec["norm"] = {"kind": "layernorm", "bias": False}
    d_ff = ffn.integer("ffn_hidden_size")
    spec["mlp"] = {"activation": GATED_ACTIVATIONS[act["name"]], "d_ff": d_ff}
    moe = moe_entry(ffn.integer("moe_num_experts"), ffn.integer("moe_top_k"), d_ff, ffn, "moe_top_k")
    stack(spec, [attention_entry(n_heads, n_kv, d // n_heads)] * n_layers, [moe] * n_layers)
    attn.check_keys()
    ffn.check_keys()
    c.defaults_used += [f"attn_config.{k}" for k in attn.defaults_used] + \
        [f"ffn_config.{k}" for k in ffn.defaults_used]
    return spec


register(
    "dbrx",  # configuration_dbrx.py (DbrxConfig; attn_config and ffn_config below)
    defaults={
        "d_model": 2048, "n_heads": 16, "n_layers": 24, "max_seq_len": 2048, "vocab_size": 32000,
        "tie_word_embeddings": False, "attn_config": None, "ffn_config": None,
    },
    mapper=map_dbrx,
    aliases={"num_attention_heads": "n_heads", "hidden_size": "d_model", "num_hidden_layers": "n_layers",
        "max_position_embeddings": "max_seq_len"},
    reads_also=("num_key_value_heads",),
)


register(
    "dbrx.attn_config",  # DbrxAttentionConfig
    defaults={"kv_n_heads": 1},
    ignored=frozenset(("attn_pdrop", "clip_qkv", "rope_theta", "tie_word_embeddings")),
)


register(
    "dbrx.ffn_config",  # DbrxFFNConfig
    defaults={
        "ffn_hidden_size": 3584, "moe_num_experts": 4, "moe_top_k": 1, "ffn_act_fn": None,
    },
    ignored=frozenset(("hidden_size", "moe_jitter_eps", "moe_loss_weight", "tie_word_embeddings",
        "moe_normalize_expert_weights", "uniform_expert_assignment")),
)
