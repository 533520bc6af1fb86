"""Optional independent check: Hugging Face transformers builds the same model and counts its parameters.

Skipped when torch or transformers is missing. Models are built on the meta device, so even the 405B
model costs no memory. For each built-in spec (and random small configs), the spec is translated into
the transformers config of the same architecture and model.num_parameters() must equal our total.
"""

from __future__ import annotations

import random
import textwrap

import pytest

import llmcalc
from llmcalc.model import ModelSpec
from llmcalc.flops import count_flops
from llmcalc.params import count_params

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def hf_config(model: ModelSpec):
    """The transformers config of the same architecture (raises for one transformers cannot express)."""
    layer = model.layers[0]
    att, mlp, moe = layer.attention, layer.mlp, layer.moe
    assert len(model.groups) == 1, "heterogeneous stacks are not translated here"
    if model.position == "learned":
        common = dict(vocab_size=model.vocab_size, n_positions=model.context_length, n_embd=model.d_model,
                      n_layer=model.n_layers, n_head=att.n_heads)
        assert att.n_heads * att.d_head == model.d_model and att.n_kv_heads == att.n_heads
        if model.norm.placement == "post":
            assert mlp.d_ff == 4 * model.d_model  # openai-gpt has no n_inner
            return transformers.OpenAIGPTConfig(**common)
        return transformers.GPT2Config(n_inner=mlp.d_ff, **common)
    if att.mla:
        mla = att.mla
        assert moe is None, "MLA + MoE is translated with the DeepSeek specs"
        return transformers.DeepseekV3Config(
            vocab_size=model.vocab_size, hidden_size=model.d_model, num_hidden_layers=model.n_layers,
            num_attention_heads=att.n_heads, num_key_value_heads=att.n_heads, q_lora_rank=mla.q_lora_rank,
            kv_lora_rank=mla.kv_lora_rank, qk_nope_head_dim=mla.qk_nope_head_dim,
            qk_rope_head_dim=mla.qk_rope_head_dim, v_head_dim=mla.v_head_dim, intermediate_size=mlp.d_ff,
            first_k_dense_replace=model.n_layers, max_position_embeddings=model.context_length,
            tie_word_embeddings=model.tied_embeddings, rope_scaling=None)
    common = dict(
        vocab_size=model.vocab_size, hidden_size=model.d_model, num_hidden_layers=model.n_layers,
        num_attention_heads=att.n_heads, num_key_value_heads=att.n_kv_heads, head_dim=att.d_head,
        max_position_embeddings=model.context_length, tie_word_embeddings=model.tied_embeddings,
    )
    if moe is not None:
        return transformers.MixtralConfig(intermediate_size=moe.d_ff, num_local_experts=moe.n_experts,
                                          num_experts_per_tok=moe.top_k, **common)
    if att.sliding_window:
        return transformers.MistralConfig(intermediate_size=mlp.d_ff, sliding_window=att.sliding_window, **common)
    return transformers.LlamaConfig(intermediate_size=mlp.d_ff, **common)


def hf_count(config) -> int:
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
    return model.num_parameters()


@pytest.mark.parametrize("name", llmcalc.builtin_names())
def test_builtin_specs_match_transformers(name):
    model = llmcalc.load(name)
    assert count_params(model).total == hf_count(hf_config(model))


def random_spec(rng: random.Random, kind: str) -> str:
    n_kv = rng.choice([1, 2, 4])
    n_heads = n_kv * rng.choice([1, 2, 3])
    d_head = rng.choice([8, 16, 24])
    d_model = n_heads * rng.choice([8, 12, 16])  # transformers insists d_model % n_heads == 0; d_head may differ
    lines = {
        "vocab_size": rng.randint(50, 700), "d_model": d_model, "n_layers": rng.randint(1, 4),
        "context_length": rng.choice([64, 128, 256]),
    }
    text = "\n".join(f"{k}: {v}" for k, v in lines.items()) + "\n"
    if kind == "gpt2":
        heads = rng.choice([2, 4, 8])
        return text + textwrap.dedent(f"""\
            position: learned
            tied_embeddings: true
            norm: {{kind: layernorm}}
            attention: {{n_heads: {heads}, bias: true}}
            mlp: {{activation: gelu_tanh, d_ff: {rng.randint(16, 200)}, bias: true}}
            """)
    text += textwrap.dedent(f"""\
        position: rope
        tied_embeddings: {str(rng.random() < 0.5).lower()}
        norm: {{kind: rmsnorm}}
        attention: {{n_heads: {n_heads}, n_kv_heads: {n_kv}, d_head: {d_head}}}
        mlp: {{activation: swiglu, d_ff: {rng.randint(8, 200)}}}
        """)
    if kind == "mixtral":
        n_experts = rng.randint(1, 8)
        text += f"moe: {{n_experts: {n_experts}, top_k: {rng.randint(1, n_experts)}}}\n"
    if kind == "mla":
        q_lora = f"q_lora_rank: {rng.randint(4, 40)}, " if rng.random() < 0.5 else ""
        mla = (f"{{{q_lora}kv_lora_rank: {rng.randint(4, 40)}, qk_nope_head_dim: {rng.choice([4, 8, 16])}, "
               f"qk_rope_head_dim: {rng.choice([2, 4, 8])}, v_head_dim: {rng.choice([4, 8, 12])}}}")
        text = text.replace(f"n_kv_heads: {n_kv}, d_head: {d_head}", f"mla: {mla}")
    return text


@pytest.mark.parametrize("kind", ["gpt2", "llama", "mixtral", "mla"])
def test_random_configs_match_transformers(kind, tmp_path):
    rng = random.Random(f"llmcalc-{kind}")
    for case in range(15):
        path = tmp_path / f"{kind}-{case}.yaml"
        path.write_text(random_spec(rng, kind))
        model = llmcalc.load(str(path))
        assert count_params(model).total == hf_count(hf_config(model)), path.read_text()


def hf_forward_flops(config, seq: int) -> int:
    """torch's FlopCounterMode over the transformers model in eager mode (real weights, CPU)."""
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    kwargs = {"attn_implementation": "eager"}
    if isinstance(config, transformers.MixtralConfig):
        kwargs["experts_implementation"] = "eager"
    model = transformers.AutoModelForCausalLM.from_config(config, **kwargs).eval()
    ids = torch.randint(0, config.vocab_size, (1, seq))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(ids, use_cache=False)
    return counter.get_total_flops()


@pytest.mark.parametrize("kind", ["gpt2", "llama", "mixtral", "mla"])
def test_forward_matmul_flops_match_flop_counter(kind, tmp_path):
    # Eager attention computes every S x S score, so the comparison is under --attention full.
    rng = random.Random(f"llmcalc-flops-{kind}")
    for case in range(4):
        path = tmp_path / f"{kind}-{case}.yaml"
        path.write_text(random_spec(rng, kind))
        model = llmcalc.load(str(path))
        seq = rng.randint(1, 40)
        ours = count_flops(model, seq, attention="full").matmul
        assert ours == hf_forward_flops(hf_config(model), seq), path.read_text()
