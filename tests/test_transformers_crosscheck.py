"""Optional independent check: Hugging Face transformers builds the same model and counts its parameters.

Skipped when torch or transformers is missing. Models are built on the meta device, so even the 405B
model costs no memory. For each built-in spec (and random small configs), the spec is translated into
the transformers config of the same architecture and model.num_parameters() must equal our total. Built-in
specs this translation cannot express (see untranslatable()) are skipped; their architectures are checked
from published config.json files through the importer in test_hf_crosscheck.py.
"""

from __future__ import annotations

import random
import textwrap

import pytest

import llmcalc
from llmcalc.model import ModelSpec
from llmcalc.formulas.flops import count_flops
from llmcalc.formulas.params import count_params

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def untranslatable(model: ModelSpec) -> str | None:
    """Why hf_config cannot express this spec (it is then skipped), or None.

    hf_config knows GPT-2 / GPT-1 (learned positions), GPT-NeoX (parallel blocks, a LayerNorm each), Llama /
    Mistral / Mixtral (one kind of layer) and DeepSeek-V3 (MLA, a dense prefix then identical MoE layers). Other built-in architectures (Gemma 2,
    gpt-oss, Llama 4, DBRX, Qwen-MoE, Switch...) are counted against transformers through their published
    config.json in test_hf_crosscheck.py.
    """
    layers = model.layers
    att, mlp, moe = layers[0].attention, layers[0].mlp, layers[0].moe
    if model.position not in ("learned", "rope"):
        return f"{model.position} positions"
    if model.position == "learned":
        if len(model.groups) > 1 or moe or att.n_kv_heads != att.n_heads or att.n_heads * att.d_head != model.d_model:
            return "GPT-style spec transformers' GPT classes cannot express"
        if (model.norm.kind, model.norm.bias) != ("layernorm", True) or not mlp.bias or mlp.gated:
            return "GPT-style spec transformers' GPT classes cannot express"
        if not all((att.bias_q, att.bias_k, att.bias_v, att.bias_o)):
            return "GPT-style spec transformers' GPT classes cannot express"
        if model.norm.placement == "post" and (model.norm.final or mlp.d_ff != 4 * model.d_model):
            return "post-norm spec unlike openai-gpt"
        if model.norm.placement == "sandwich":
            return "sandwich norms"
        return None
    if model.residual == "parallel":
        biases = {att.bias_q, att.bias_k, att.bias_v, att.bias_o}
        if (model.norm.kind, model.norm.bias, model.norm.shared, model.norm.final) != ("layernorm", True, False, True) \
                or len(model.groups) > 1 or moe or mlp.gated or not mlp.bias or len(biases) > 1 or model.lm_head_bias \
                or att.n_kv_heads != att.n_heads or att.n_heads * att.d_head != model.d_model \
                or att.sliding_window or att.qk_norm:
            return "parallel spec GPTNeoXConfig cannot express"
        return None
    if (model.norm.kind, model.norm.placement, model.norm.final) != ("rmsnorm", "pre", True):
        return f"{model.norm.kind} {model.norm.placement} norms"
    if mlp.activation != "swiglu":
        return f"{mlp.activation} MLP"
    if any(l.attention.qk_norm or l.attention.sinks or l.attention.chunk_size for l in layers):
        return "qk-norm, sinks or chunked attention"
    if att.mla:
        dense = [l.moe is None for l in layers]
        prefix = dense.index(False) if False in dense else len(layers)
        if any(dense[prefix:]) or len({l for l in layers[prefix:]}) > 1 or len({l for l in layers[:prefix]}) > 1:
            return "MLA stack other than a dense prefix then identical MoE layers"
        if any(l.attention.sliding_window for l in layers) or mlp.bias:
            return "MLA with windows or MLP biases"
        if moe and (moe.router_bias or moe.shared_gate or (moe.n_shared_experts and moe.d_ff_shared != moe.d_ff)):
            return "DeepSeek MoE variant DeepseekV3Config cannot express"
        return None
    if len(model.groups) > 1:
        return "heterogeneous stack"
    if moe and (moe.n_shared_experts or moe.shared_gate or moe.router_bias or moe.d_ff != mlp.d_ff or mlp.bias):
        return "MoE other than Mixtral's"
    if att.sliding_window and (mlp.bias or att.bias_q or att.bias_k or att.bias_v or att.bias_o):
        return "windowed attention with biases"
    if {att.bias_q, att.bias_k, att.bias_v, att.bias_o} == {True, False}:
        return "biases on some of q, k, v, o"
    return None


def hf_config(model: ModelSpec):
    """The transformers config of the same architecture (call untranslatable() first)."""
    layer = model.layers[0]
    att, mlp, moe = layer.attention, layer.mlp, layer.moe
    if model.position == "learned":
        common = dict(vocab_size=model.vocab_size, n_positions=model.context_length, n_embd=model.d_model,
                      n_layer=model.n_layers, n_head=att.n_heads, tie_word_embeddings=model.tied_embeddings)
        if model.norm.placement == "post":
            return transformers.OpenAIGPTConfig(**common)  # no n_inner: the MLP is 4 x n_embd
        return transformers.GPT2Config(n_inner=mlp.d_ff, **common)
    if model.residual == "parallel":
        return transformers.GPTNeoXConfig(
            vocab_size=model.vocab_size, hidden_size=model.d_model, num_hidden_layers=model.n_layers,
            num_attention_heads=att.n_heads, intermediate_size=mlp.d_ff, max_position_embeddings=model.context_length,
            hidden_act={"gelu_tanh": "gelu_new"}.get(mlp.activation, mlp.activation), use_parallel_residual=True,
            attention_bias=att.bias_q, tie_word_embeddings=model.tied_embeddings,
            rotary_pct=(model.rotary_dim or att.d_head) / att.d_head)
    if att.mla:
        mla = att.mla
        moe = next((l.moe for l in model.layers if l.moe), None)
        first_dense = next((i for i, l in enumerate(model.layers) if l.moe), model.n_layers)
        kwargs = {}
        if moe:
            kwargs = dict(n_routed_experts=moe.n_experts, num_experts_per_tok=moe.top_k,
                          moe_intermediate_size=moe.d_ff, n_shared_experts=moe.n_shared_experts)
        return transformers.DeepseekV3Config(
            vocab_size=model.vocab_size, hidden_size=model.d_model, num_hidden_layers=model.n_layers,
            num_attention_heads=att.n_heads, num_key_value_heads=att.n_heads, q_lora_rank=mla.q_lora_rank,
            kv_lora_rank=mla.kv_lora_rank, qk_nope_head_dim=mla.qk_nope_head_dim,
            qk_rope_head_dim=mla.qk_rope_head_dim, v_head_dim=mla.v_head_dim, intermediate_size=mlp.d_ff,
            first_k_dense_replace=first_dense, max_position_embeddings=model.context_length,
            tie_word_embeddings=model.tied_embeddings, rope_scaling=None, **kwargs)
    common = dict(
        vocab_size=model.vocab_size, hidden_size=model.d_model, num_hidden_layers=model.n_layers,
        num_attention_heads=att.n_heads, num_key_value_heads=att.n_kv_heads, head_dim=att.d_head,
        max_position_embeddings=model.context_length, tie_word_embeddings=model.tied_embeddings,
    )
    if moe is not None:
        return transformers.MixtralConfig(intermediate_size=moe.d_ff, num_local_experts=moe.n_experts,
                                          num_experts_per_tok=moe.top_k, sliding_window=att.sliding_window,
                                          **common)
    if att.sliding_window:
        return transformers.MistralConfig(intermediate_size=mlp.d_ff, sliding_window=att.sliding_window, **common)
    return transformers.LlamaConfig(intermediate_size=mlp.d_ff, attention_bias=att.bias_q, mlp_bias=mlp.bias,
                                    **common)


def hf_count(config) -> int:
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
    return model.num_parameters()


@pytest.mark.parametrize("name", llmcalc.builtin_names())
def test_builtin_specs_match_transformers(name):
    model = llmcalc.load(name)
    reason = untranslatable(model)
    if reason:
        pytest.skip(f"{name}: {reason} (see untranslatable())")
    assert count_params(model).total == hf_count(hf_config(model))


def test_most_builtin_specs_are_translated():
    """The skips above stay the exception: GPT, Pythia, Llama, Mistral, Mixtral and DeepSeek specs are all checked."""
    translated = {name for name in llmcalc.builtin_names() if untranslatable(llmcalc.load(name)) is None}
    for name in ("gpt1", "gpt2-small", "llama3-8b", "mistral-7b", "mixtral-8x7b", "deepseek-v3", "deepseek-v2-lite",
                 "pythia-160m"):
        assert name in translated


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
    if kind == "neox":  # parallel blocks, a LayerNorm each, partial RoPE: GPT-NeoX's layer
        heads, head = rng.choice([1, 2, 4]), rng.choice([8, 16])
        text = text.replace(f"d_model: {d_model}", f"d_model: {heads * head}")
        return text + textwrap.dedent(f"""\
            position: rope
            rotary_dim: {rng.choice([2, 4, 8])}
            residual: parallel
            tied_embeddings: {str(rng.random() < 0.5).lower()}
            norm: {{kind: layernorm}}
            attention: {{n_heads: {heads}, bias: {str(rng.random() < 0.5).lower()}}}
            mlp: {{activation: {rng.choice(["gelu", "gelu_tanh", "relu"])}, d_ff: {rng.randint(8, 200)}, bias: true}}
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


@pytest.mark.parametrize("kind", ["gpt2", "llama", "mixtral", "mla", "neox"])
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


@pytest.mark.parametrize("kind", ["gpt2", "llama", "mixtral", "mla", "neox"])
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
