"""Re-measure tests/test_gguf_recipes.py's MEASURED: write each of its CONFIGS as an f16 GGUF with the tensor names,
shapes and dtypes llama.cpp's convert_hf_to_gguf.py writes (arch llama with merged experts, qwen2moe, deepseek2 with
kv_b split into attn_k_b and attn_v_b, qwen2, gptneox; random weights), quantize it with a llama-quantize binary
(llama.cpp 0c1e570: the vendor/llama.cpp of llama-cpp-python 0.3.36's sdist, target llama-quantize), read the output
back with gguf-py and compare every tensor's type and the tensors' bytes with formulas.recipes.

    python scripts/gguf_recipes.py PATH/TO/llama-quantize WORKDIR [CONFIG...] [--recipe NAME ...]

Every recipe of the test's RECIPES on every config of its CONFIGS unless named (--recipe q4_k_s --recipe iq4_xs_mix);
prints each config's bytes in RECIPES' order (None where not quantized), as MEASURED holds them. Exits 1 when a type
or a byte count differs. Needs the gguf and numpy packages (not llmcalc's dependencies)."""

from __future__ import annotations

import collections
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import gguf
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import llmcalc  # noqa: E402
from llmcalc.api import estimate_memory  # noqa: E402
from llmcalc.formulas.recipes import FTYPES, FUSED_QKV, recipe_types  # noqa: E402

COMPONENT = {"attn_q": "attn.q", "attn_k": "attn.k", "attn_v": "attn.v", "attn_output": "attn.o",
             "attn_q_a": "attn.q_a", "attn_q_b": "attn.q_b", "attn_kv_a_mqa": "attn.kv_a", "attn_k_b": "attn.kv_b",
             "attn_v_b": "attn.kv_b", "attn_qkv": "attn.qkv", "ffn_gate": "mlp.gate", "ffn_up": "mlp.up",
             "ffn_down": "mlp.down", "ffn_gate_exps": "moe.experts", "ffn_up_exps": "moe.experts",
             "ffn_down_exps": "moe.experts", "ffn_gate_shexp": "moe.shared", "ffn_up_shexp": "moe.shared",
             "ffn_down_shexp": "moe.shared", "token_embd": "embed.token", "output": "lm_head"}
rng = np.random.default_rng(0)


def f16(*shape):
    return (rng.standard_normal(shape) * 0.02).astype(np.float16)


def f32(*shape):
    return (rng.standard_normal(shape) * 0.02).astype(np.float32)


def write(cfg: dict, path: str):
    mt = cfg["model_type"]
    arch = {"mixtral": "llama", "llama": "llama", "qwen2_moe": "qwen2moe", "deepseek_v2": "deepseek2",
            "deepseek_v3": "deepseek2", "qwen2": "qwen2", "gpt_neox": "gptneox",
            "falcon": "falcon"}[mt]
    w = gguf.GGUFWriter(path, arch)
    d, L, V = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    w.add_name("synthetic")
    w.add_file_type(1)
    w.add_context_length(4096)
    w.add_embedding_length(d)
    w.add_block_count(L)
    w.add_feed_forward_length(cfg.get("intermediate_size", 4 * d))
    w.add_head_count(H)
    if arch not in ("gptneox", "falcon"):
        w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(V)
    t = {}
    t["token_embd.weight"] = f16(V, d)
    t["output_norm.weight"] = f32(d)
    if not cfg.get("tie_word_embeddings", False):
        t["output.weight"] = f16(V, d)
    if arch == "falcon":  # Falcon-7B's layout: multi-query, one norm for the parallel attention and MLP, tied
        kv = 1 if cfg.get("multi_query", True) else KV
        hd = d // H
        w.add_head_count_kv(kv)
        w.add_layer_norm_eps(1e-5)
        t["output_norm.bias"] = f32(d)
        for i in range(L):
            b = f"blk.{i}."
            t[b + "attn_norm.weight"] = f32(d)
            t[b + "attn_norm.bias"] = f32(d)
            t[b + "attn_qkv.weight"] = f16((H + 2 * kv) * hd, d)
            t[b + "attn_output.weight"] = f16(d, d)
            t[b + "ffn_up.weight"] = f16(4 * d, d)
            t[b + "ffn_down.weight"] = f16(d, 4 * d)
    elif arch == "gptneox":
        w.add_rope_dimension_count(int(cfg.get("rotary_pct", 0.25) * (d // H)))
        w.add_parallel_residual(True)
        w.add_layer_norm_eps(1e-5)
        t["output_norm.bias"] = f32(d)
        dff = cfg["intermediate_size"]
        for i in range(L):
            b = f"blk.{i}."
            for n in ("attn_norm", "ffn_norm"):
                t[b + n + ".weight"] = f32(d)
                t[b + n + ".bias"] = f32(d)
            t[b + "attn_qkv.weight"] = f16(3 * d, d)
            t[b + "attn_qkv.bias"] = f32(3 * d)
            t[b + "attn_output.weight"] = f16(d, d)
            t[b + "attn_output.bias"] = f32(d)
            t[b + "ffn_up.weight"] = f16(dff, d)
            t[b + "ffn_up.bias"] = f32(dff)
            t[b + "ffn_down.weight"] = f16(d, dff)
            t[b + "ffn_down.bias"] = f32(d)
    elif arch in ("llama", "qwen2moe", "qwen2"):
        hd = cfg.get("head_dim") or d // H
        w.add_head_count_kv(KV)
        w.add_rope_dimension_count(hd)
        E = cfg.get("num_local_experts") or cfg.get("num_experts")
        if E:
            w.add_expert_count(E)
            w.add_expert_used_count(cfg["num_experts_per_tok"])
        dff = cfg["moe_intermediate_size"] if arch == "qwen2moe" else cfg["intermediate_size"]
        if arch == "qwen2moe":
            w.add_expert_feed_forward_length(dff)
            w.add_expert_shared_feed_forward_length(cfg["shared_expert_intermediate_size"])
        for i in range(L):
            b = f"blk.{i}."
            t[b + "attn_norm.weight"] = f32(d)
            t[b + "attn_q.weight"] = f16(H * hd, d)
            t[b + "attn_k.weight"] = f16(KV * hd, d)
            t[b + "attn_v.weight"] = f16(KV * hd, d)
            t[b + "attn_output.weight"] = f16(d, H * hd)
            if arch in ("qwen2moe", "qwen2"):
                t[b + "attn_q.bias"] = f32(H * hd)
                t[b + "attn_k.bias"] = f32(KV * hd)
                t[b + "attn_v.bias"] = f32(KV * hd)
            t[b + "ffn_norm.weight"] = f32(d)
            if not E:
                t[b + "ffn_gate.weight"] = f16(dff, d)
                t[b + "ffn_up.weight"] = f16(dff, d)
                t[b + "ffn_down.weight"] = f16(d, dff)
                continue
            t[b + "ffn_gate_inp.weight"] = f32(E, d)
            t[b + "ffn_gate_exps.weight"] = f16(E, dff, d)
            t[b + "ffn_down_exps.weight"] = f16(E, d, dff)
            t[b + "ffn_up_exps.weight"] = f16(E, dff, d)
            if arch == "qwen2moe":
                s = cfg["shared_expert_intermediate_size"]
                t[b + "ffn_gate_inp_shexp.weight"] = f32(1, d)
                t[b + "ffn_gate_shexp.weight"] = f16(s, d)
                t[b + "ffn_up_shexp.weight"] = f16(s, d)
                t[b + "ffn_down_shexp.weight"] = f16(d, s)
    else:  # deepseek2, as conversion/deepseek.py: kv_b split into k_b (transposed) and v_b
        nope, rope, vh = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
        kvl, ql = cfg["kv_lora_rank"], cfg.get("q_lora_rank")
        E, S, dff = cfg["n_routed_experts"], cfg.get("n_shared_experts", 0), cfg["moe_intermediate_size"]
        first = cfg.get("first_k_dense_replace", 0)
        w.add_head_count_kv(1)
        w.add_leading_dense_block_count(first)
        if ql:
            w.add_q_lora_rank(ql)
        w.add_kv_lora_rank(kvl)
        w.add_key_length(kvl + rope)
        w.add_value_length(kvl)
        w.add_key_length_mla(nope + rope)
        w.add_value_length_mla(vh)
        w.add_expert_feed_forward_length(dff)
        w.add_expert_count(E)
        w.add_expert_used_count(cfg["num_experts_per_tok"])
        w.add_expert_shared_count(S)
        w.add_expert_weights_scale(1.0)
        w.add_rope_dimension_count(rope)
        for i in range(L):
            b = f"blk.{i}."
            t[b + "attn_norm.weight"] = f32(d)
            if ql:
                t[b + "attn_q_a.weight"] = f16(ql, d)
                t[b + "attn_q_a_norm.weight"] = f32(ql)
                t[b + "attn_q_b.weight"] = f16(H * (nope + rope), ql)
            else:
                t[b + "attn_q.weight"] = f16(H * (nope + rope), d)
            t[b + "attn_kv_a_mqa.weight"] = f16(kvl + rope, d)
            t[b + "attn_kv_a_norm.weight"] = f32(kvl)
            t[b + "attn_k_b.weight"] = f16(H, kvl, nope)
            t[b + "attn_v_b.weight"] = f16(H, vh, kvl)
            t[b + "attn_output.weight"] = f16(d, H * vh)
            t[b + "ffn_norm.weight"] = f32(d)
            if i < first:
                t[b + "ffn_gate.weight"] = f16(cfg["intermediate_size"], d)
                t[b + "ffn_up.weight"] = f16(cfg["intermediate_size"], d)
                t[b + "ffn_down.weight"] = f16(d, cfg["intermediate_size"])
            else:
                t[b + "ffn_gate_inp.weight"] = f32(E, d)
                t[b + "ffn_gate_exps.weight"] = f16(E, dff, d)
                t[b + "ffn_down_exps.weight"] = f16(E, d, dff)
                t[b + "ffn_up_exps.weight"] = f16(E, dff, d)
                if S:
                    t[b + "ffn_gate_shexp.weight"] = f16(dff * S, d)
                    t[b + "ffn_up_shexp.weight"] = f16(dff * S, d)
                    t[b + "ffn_down_shexp.weight"] = f16(d, dff * S)
    for name, data in t.items():
        w.add_tensor(name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def file_types(path: Path) -> tuple[collections.Counter, int]:
    """(component, layer, type, elements) of every quantized tensor of a GGUF, and all its tensors' bytes."""
    found, total = collections.Counter(), 0
    for tensor in gguf.GGUFReader(path).tensors:
        total += int(tensor.n_bytes)
        if tensor.tensor_type.name != "F32":
            match = re.match(r"(?:blk\.(\d+)\.)?(\w+)\.weight$", tensor.name)
            layer = int(match.group(1)) if match.group(1) else None
            found[(COMPONENT[match.group(2)], layer, tensor.tensor_type.name.lower(), int(tensor.n_elements))] += 1
    return found, total


def llmcalc_types(model, recipe: str) -> collections.Counter:
    """recipe_types with a fused attn_qkv's q, k and v as one tensor, as the file has it."""
    want, fused = collections.Counter(), collections.Counter()
    for component, layer, kind, count in recipe_types(model, recipe):
        if component in ("attn.q", "attn.k", "attn.v") and model.family in FUSED_QKV:
            fused[("attn.qkv", layer, kind)] += count
        else:
            want[(component, layer, kind, count)] += 1
    want.update((*key, count) for key, count in fused.items())
    return want


def main(quantize: str, workdir: str, names: list[str], recipes: list[str]) -> int:
    spec = importlib.util.spec_from_file_location("cases", ROOT / "tests" / "test_gguf_recipes.py")
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    work, failed = Path(workdir), 0
    work.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name in names or cases.CONFIGS:
        config, f16 = work / f"{name}.json", work / f"{name}-f16.gguf"
        config.write_text(json.dumps(cases.CONFIGS[name]))
        if not f16.exists():
            write(cases.CONFIGS[name], str(f16))
        model = llmcalc.load(str(config))
        measured = dict(zip(cases.RECIPES, cases.MEASURED.get(name, ())))
        row = rows[name] = [None] * len(cases.RECIPES)
        for r, recipe in enumerate(cases.RECIPES):
            if recipes and recipe not in recipes:
                continue
            out = work / f"{name}-{FTYPES[recipe]}.gguf"
            if not out.exists():
                subprocess.run([quantize, str(f16), str(out), FTYPES[recipe], "1"], check=True, capture_output=True)
            found, total = file_types(out)
            weights = estimate_memory(model, dtype=recipe, context=64).part("weights").per_gpu
            same = found == llmcalc_types(model, recipe) and weights == total
            failed += not same
            row[r] = total
            print(f"{name} {recipe}: file {total:,} bytes, llmcalc {weights:,}, test {measured.get(recipe)}, "
                  f"{'types match' if same else 'DIFFER'}", flush=True)
    for name, row in rows.items():
        print(f'    "{name}": ({", ".join("None" if b is None else f"{b:_}" for b in row)}),')
    return 1 if failed else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = [args[i + 1] for i, a in enumerate(args) if a == "--recipe"]
    rest = [a for i, a in enumerate(args) if a != "--recipe" and (i == 0 or args[i - 1] != "--recipe")]
    sys.exit(main(rest[0], rest[1], rest[2:], chosen))
