"""llama.cpp's GGUF file types (formulas/recipes.py) on MoE, MLA, fused-qkv and dense models, held to llama-quantize's
own output.

MEASURED was produced so: llama.cpp 0c1e570 (the vendor/llama.cpp of llama-cpp-python 0.3.36's sdist) built on CPU
(cmake -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF, -O0, target llama-quantize); for each config below an f16 GGUF written
with gguf-py 0.19 with the tensor names, shapes and dtypes convert_hf_to_gguf.py writes (arch llama for mixtral with
the experts merged into 3-D ffn_*_exps, qwen2moe with ffn_*_shexp and an F32 ffn_gate_inp_shexp, deepseek2 with kv_b
split into attn_k_b (transposed) and attn_v_b and head_count_kv 1, gptneox and falcon with one attn_qkv; routers F32,
1-D tensors F32; random weights); `llama-quantize IN OUT FTYPE NTHREADS` without an importance matrix, FTYPE each
recipe's file type (formulas.recipes.FTYPES, in RECIPES' order: Q2_K, Q3_K_M, Q4_K_M, Q5_K_M, Q3_K_S, Q3_K_L, Q4_K_S,
Q5_K_S, Q6_K, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, IQ4_XS); the output read back with gguf-py: every tensor's type
and element count matched formulas.recipes.recipe_types (by component and layer; attn_qkv as q, k and v of one type),
and the tensors' bytes (n_bytes summed) were these, equal to estimate_memory's weights. The first four columns were
measured first (NTHREADS 2), but for llama_8_320; the other twelve, and all of llama_8_320's, later by
scripts/gguf_recipes.py (NTHREADS 1; its f16 files written afresh, of the same tensors), which re-measures them all. The f16 files held exactly count_params' parameters.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

import llmcalc
from llmcalc.api import estimate_memory
from llmcalc.errors import LlmcalcError
from llmcalc.formulas.recipes import recipe_types

BASE = dict(vocab_size=512, hidden_size=256, num_attention_heads=4, tie_word_embeddings=False)
DENSE = dict(**BASE, num_key_value_heads=2, head_dim=64)
CONFIGS = {
    # 16 layers of 8 experts: Mixtral's rules (attn_v and attn_k Q8_0, attn_output Q5_K)
    "mixtral_8x512_16": dict(model_type="mixtral", **DENSE, num_hidden_layers=16, intermediate_size=512,
                             num_local_experts=8, num_experts_per_tok=2),
    # experts of 640: ffn_down_exps rows not a multiple of 256 fall back to 32-block types
    "mixtral_8x640_12": dict(model_type="mixtral", **DENSE, num_hidden_layers=12, intermediate_size=640,
                             num_local_experts=8, num_experts_per_tok=2),
    # 4 experts: no 8-expert rule; one KV head (n_gqa 4: Q2_K's attn_v Q4_K)
    "mixtral_4x512_16": dict(model_type="mixtral", **{**DENSE, "num_key_value_heads": 1}, num_hidden_layers=16,
                             intermediate_size=512, num_local_experts=4, num_experts_per_tok=2),
    # Qwen1.5-MoE's layout: q/k/v biases, 6 experts of 256, a shared expert of 512 behind its gate
    "qwen2moe_6x256_12": dict(model_type="qwen2_moe", **BASE, num_hidden_layers=12, num_key_value_heads=4,
                              intermediate_size=512, num_experts=6, num_experts_per_tok=2, moe_intermediate_size=256,
                              shared_expert_intermediate_size=512, decoder_sparse_step=1, mlp_only_layers=[]),
    # DeepSeek-V2's layout: MLA with q_lora 384 (attn_q_b falls back), attn_k_b rows of qk_nope 64 (fall back);
    # the first layer dense, then 6 experts and 2 shared experts
    "deepseek2_6x256_16": dict(model_type="deepseek_v2", **BASE, num_hidden_layers=16, intermediate_size=512,
                               q_lora_rank=384, kv_lora_rank=256, qk_nope_head_dim=64, qk_rope_head_dim=32,
                               v_head_dim=64, n_routed_experts=6, n_shared_experts=2, num_experts_per_tok=2,
                               moe_intermediate_size=256, first_k_dense_replace=1),
    # DeepSeek-V2-Lite's: 27 layers (llama.cpp reads no q_lora_rank then), a full attn_q, 8 experts (attn_output
    # Q5_K; no attn_v or attn_k for the 8-expert rule to touch)
    "deepseek2lite_8x256_27": dict(model_type="deepseek_v2", **{**BASE, "num_attention_heads": 2},
                                   num_hidden_layers=27, intermediate_size=512, q_lora_rank=None,
                                   kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128,
                                   n_routed_experts=8, n_shared_experts=2, num_experts_per_tok=2,
                                   moe_intermediate_size=256, first_k_dense_replace=1),
    # dense: the Llama shapes of tests/test_serving_memory.py's RECIPE_MEASURED, one KV head, and Qwen2 at 80
    # layers (llama.cpp's qwen2 calls any 80-layer model 70B: Q5_K attn_v outside use_more_bits)
    "llama_16_768": dict(model_type="llama", **DENSE, num_hidden_layers=16, intermediate_size=768),
    "llama_80_768": dict(model_type="llama", **DENSE, num_hidden_layers=80, intermediate_size=768),
    "llama_16_768_tied": dict(model_type="llama", **{**DENSE, "tie_word_embeddings": True}, num_hidden_layers=16,
                              intermediate_size=768),
    "llama_12_640": dict(model_type="llama", **DENSE, num_hidden_layers=12, intermediate_size=640),
    "llama_16_768_gqa4": dict(model_type="llama", **{**DENSE, "num_key_value_heads": 1}, num_hidden_layers=16,
                              intermediate_size=768),
    # rows of 320 (a multiple of 32, not of 256): the K and IQ4_XS types fall back on every matrix reading the
    # residual stream, the output layer takes Q8_0 (the 32-block types' Q6_K falls back to it); 5 heads on one KV head
    "llama_8_320": dict(model_type="llama", vocab_size=512, hidden_size=320, num_attention_heads=5,
                        num_key_value_heads=1, head_dim=64, tie_word_embeddings=False, num_hidden_layers=8,
                        intermediate_size=640),
    "qwen2_80_768": dict(model_type="qwen2", **{**DENSE, "num_key_value_heads": 4}, num_hidden_layers=80,
                         intermediate_size=768),
    # GPT-NeoX: q, k and v fused into one attn_qkv (with its bias), which takes attn_v's rules; biased LayerNorms
    "gptneox_16_1024": dict(model_type="gpt_neox", **BASE, num_hidden_layers=16, intermediate_size=1024,
                            rotary_pct=0.25, layer_norm_eps=1e-5, use_parallel_residual=True),
    # Falcon-7B's layout (multi-query, tied, d_ff 4 d): Falcon's own rules (Q8_0 output, its ffn_down types)
    "falcon_32_1024": dict(model_type="falcon", **{**BASE, "tie_word_embeddings": True}, num_hidden_layers=32,
                           multi_query=True, parallel_attn=True, new_decoder_architecture=False, bias=False),
}
# bytes of the quantized file's tensors, in RECIPES' order
MEASURED = {
    "mixtral_8x512_16": (20_713_472, 26_600_448, 33_245_184, 38_635_520, 24_241_152, 28_296_192, 31_344_640,
                        37_521_408, 44_502_016, 30_951_424, 34_236_416, 37_521_408, 40_806_400, 57_263_104,
                        31_344_640, 29_800_448),
    "mixtral_8x640_12": (21_078_016, 26_332_160, 33_581_056, 38_119_424, 24_366_080, 27_112_448, 30_713_856,
                        35_661_824, 44_981_248, 28_567_552, 31_623_168, 34_678_784, 37_734_400, 53_044_224,
                        28_911_616, 27_899_904),
    "mixtral_4x512_16": (10_387_456, 13_560_832, 17_026_048, 19_975_168, 12_203_008, 14_703_616, 16_050_176,
                        19_400_704, 23_108_608, 15_910_912, 17_655_808, 19_400_704, 21_145_600, 29_901_824,
                        16_074_752, 15_243_264),
    "qwen2moe_6x256_12": (8_323_072, 10_834_944, 13_628_416, 15_954_944, 9_774_080, 11_801_600, 12_814_336,
                         15_484_928, 18_426_880, 12_716_032, 14_100_480, 15_484_928, 16_869_376, 23_823_360,
                         12_781_568, 12_105_728),
    "deepseek2_6x256_16": (12_614_656, 15_855_616, 19_891_200, 23_249_920, 14_638_080, 16_969_728, 18_993_152,
                          22_745_088, 27_657_216, 18_485_248, 20_508_672, 22_532_096, 24_555_520, 34_704_384,
                          18_567_168, 17_682_432),
    "deepseek2lite_8x256_27": (25_666_816, 32_498_048, 40_914_944, 47_863_808, 30_201_216, 34_171_776, 39_033_856,
                              46_801_920, 56_352_896, 38_190_080, 42_385_408, 46_580_736, 50_776_064, 71_784_448,
                              38_591_488, 36_704_768),
    "llama_16_768": (4_792_320, 6_263_808, 7_766_016, 9_125_888, 5_604_352, 6_820_864, 7_358_464, 8_882_176,
                    10_570_752, 7_292_928, 8_087_552, 8_882_176, 9_676_800, 13_681_664, 7_342_080, 6_957_056),
    "llama_80_768": (24_031_232, 30_946_304, 38_264_832, 44_834_816, 28_038_144, 33_444_864, 36_308_992, 43_616_256,
                    51_989_504, 35_735_552, 39_675_904, 43_616_256, 47_556_608, 67_290_112, 35_981_312, 34_072_576),
    "llama_16_768_tied": (4_749_312, 6_207_488, 7_692_288, 9_035_776, 5_548_032, 6_764_544, 7_284_736, 8_792_064,
                         10_463_232, 7_219_200, 8_005_632, 8_792_064, 9_578_496, 13_542_400, 7_268_352, 6_887_424),
    "llama_12_640": (3_466_240, 4_409_344, 5_516_800, 6_356_480, 3_998_720, 4_671_488, 5_124_096, 6_023_168,
                    7_490_560, 4_851_712, 5_376_000, 5_900_288, 6_424_576, 9_077_760, 4_882_432, 4_681_728),
    "llama_16_768_gqa4": (4_628_480, 5_999_616, 7_437_312, 8_748_032, 5_379_072, 6_528_000, 7_055_360, 8_521_728,
                         10_140_672, 6_998_016, 7_759_872, 8_521_728, 9_283_584, 13_124_608, 7_079_936, 6_719_488),
    "llama_8_320": (4_179_200, 4_488_960, 5_377_280, 5_761_280, 4_158_720, 4_650_240, 5_057_280, 5_479_680, 7_681_280,
                   4_158_720, 4_599_040, 5_039_360, 5_479_680, 7_681_280, 4_227_840, 4_227_840),
    "qwen2_80_768": (26_939_392, 34_120_704, 41_961_472, 48_859_136, 31_212_544, 36_619_264, 39_831_552, 47_466_496,
                    56_536_064, 38_930_432, 43_198_464, 47_466_496, 51_734_528, 73_106_432, 39_176_192, 37_103_616),
    "gptneox_16_1024": (5_346_304, 6_981_632, 8_420_352, 9_550_848, 5_785_600, 7_948_288, 7_638_016, 9_063_424,
                       10_752_000, 7_474_176, 8_268_800, 9_063_424, 9_858_048, 13_862_912, 7_539_712, 7_158_784),
    "falcon_32_1024": (9_021_440, 10_733_568, 13_592_576, 16_111_616, 9_668_608, 11_872_256, 12_642_304, 15_345_664,
                      18_270_208, 12_593_152, 13_969_408, 15_345_664, 16_721_920, 23_603_200, 13_117_440, 12_560_384),
}
RECIPES = ("q2_k_mix", "q3_k_m", "q4_k_m", "q5_k_m", "q3_k_s", "q3_k_l", "q4_k_s", "q5_k_s", "q6_k_mix", "q4_0_mix",
           "q4_1_mix", "q5_0_mix", "q5_1_mix", "q8_0_mix", "iq4_nl_mix", "iq4_xs_mix")


def imported(tmp_path, name):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(CONFIGS[name]))
    return llmcalc.load(str(path))


@pytest.mark.parametrize("name", MEASURED)
def test_recipes_as_llama_quantize_writes_them(name, tmp_path):
    model = imported(tmp_path, name)
    assert len(MEASURED[name]) == len(RECIPES)
    for recipe, measured in zip(RECIPES, MEASURED[name]):
        assert estimate_memory(model, dtype=recipe, context=64).part("weights").per_gpu == measured, recipe


def types(model, recipe, component):
    return Counter(kind for c, _, kind, _ in recipe_types(model, recipe) if c == component)


def test_mixtral_eight_expert_rules(tmp_path):
    """As the quantized files have them: with 8 experts attn_v and attn_k are Q8_0 in every recipe, attn_output Q5_K
    (Q4_K_M, Q3_K_M, Q2_K); ffn_down_exps takes Q6_K on the use_more_bits layers by the layer in its name."""
    model = imported(tmp_path, "mixtral_8x512_16")
    for recipe in RECIPES:
        assert types(model, recipe, "attn.v") == {"q8_0": 16} and types(model, recipe, "attn.k") == {"q8_0": 16}
    assert types(model, "q4_k_m", "attn.o") == {"q5_k": 16}
    assert types(model, "q2_k_mix", "attn.o") == {"q5_k": 16}
    six = sorted({i for c, i, kind, _ in recipe_types(model, "q4_k_m") if c == "moe.experts" and kind == "q6_k"})
    assert six == [0, 1, 4, 7, 10, 13, 14, 15]
    assert types(model, "iq4_xs_mix", "attn.o") == {"q5_k": 16} and types(model, "q4_k_s", "attn.o") == {"q5_k": 16}
    assert types(model, "q3_k_l", "attn.o") == {"q3_k": 16}  # Q3_K_L is not in the 8-expert list: its base type
    assert types(model, "q4_0_mix", "attn.o") == {"q4_0": 16}
    four = imported(tmp_path, "mixtral_4x512_16")
    assert types(four, "q4_k_m", "attn.k") == {"q4_k": 16} and types(four, "q4_k_m", "attn.o") == {"q4_k": 16}
    assert types(four, "q2_k_mix", "attn.v") == {"q4_k": 16}  # n_head / n_head_kv = 4


def test_mla_tensors_and_shared_experts(tmp_path):
    """DeepSeek's kv_b goes to the file as attn_k_b (rows of qk_nope_head_dim 64: Q5_0 for Q4_K) and attn_v_b (rows of
    kv_lora_rank); routers stay f32 (kept); shared experts' ffn_down follows the layer like the routed ones."""
    model = imported(tmp_path, "deepseek2_6x256_16")
    assert types(model, "q4_k_m", "attn.kv_b") == {"q4_k": 16, "q5_0": 16}
    assert types(model, "q4_k_m", "attn.q_b") == {"q5_0": 16}  # q_lora_rank 384
    assert types(model, "q2_k_mix", "attn.kv_b") == {"q2_k": 16, "q4_0": 16}
    assert "moe.router" not in {c for c, *_ in recipe_types(model, "q4_k_m")}
    shared = {i for c, i, kind, _ in recipe_types(model, "q5_k_m") if c == "moe.shared" and kind == "q6_k"}
    assert shared == {1, 4, 7, 10, 13, 14, 15}  # layer 0 is dense: its mlp.down takes the Q6_K


def test_seventy_b_types():
    """llama.cpp's 70B type: the llama arch at 80 layers with grouped KV heads and not 8 experts, qwen2 at any 80."""
    llama = llmcalc.load("llama3-70b", ["vocab_size=512"])
    assert types(llama, "q4_k_m", "attn.v")["q5_k"] > 0
    mha = llmcalc.load("llama3-70b", ["attention.n_kv_heads=64"])
    assert "q5_k" not in types(mha, "q4_k_m", "attn.v")


def test_fused_qkv_shares_one_type(tmp_path):
    model = imported(tmp_path, "gptneox_16_1024")
    by_layer = {}
    for c, i, kind, _ in recipe_types(model, "q4_k_m"):
        if c in ("attn.q", "attn.k", "attn.v"):
            by_layer.setdefault(i, set()).add(kind)
    assert all(len(kinds) == 1 for kinds in by_layer.values())
    assert sorted(i for i, kinds in by_layer.items() if kinds == {"q6_k"}) == [0, 1, 4, 7, 10, 13, 14, 15]


def test_falcon_rules(tmp_path):
    model = imported(tmp_path, "falcon_32_1024")
    assert types(model, "q4_k_m", "embed.token") == {"q8_0": 1}  # tied: the output's type, Q8_0 on Falcon
    assert types(model, "q4_k_m", "mlp.down") == {"q6_k": 2, "q5_k": 14, "q4_k": 16}
    assert types(model, "q3_k_m", "mlp.down") == {"q5_k": 2, "q4_k": 14, "q3_k": 16}
    assert types(model, "q2_k_mix", "attn.o") == {"q2_k": 32}


def test_k_quant_s_and_l_rules(tmp_path):
    """Q4_K_S: Q5_K on the first four attn_v and the first eighth's ffn_down; Q3_K_L: Q5_K attn_v, ffn_down and
    attn_output; Q3_K_S and Q5_K_S: the base type but for the output layer (Q6_K)."""
    model = imported(tmp_path, "llama_16_768")
    v = [kind for c, _, kind, _ in recipe_types(model, "q4_k_s") if c == "attn.v"]
    assert v == ["q5_k"] * 4 + ["q4_k"] * 12
    down = [kind for c, _, kind, _ in recipe_types(model, "q4_k_s") if c == "mlp.down"]
    assert down == ["q5_k"] * 2 + ["q4_k"] * 14
    for component in ("attn.v", "attn.o", "mlp.down"):
        assert types(model, "q3_k_l", component) == {"q5_k": 16}
    assert types(model, "q3_k_l", "attn.q") == {"q3_k": 16}
    for recipe, base in (("q3_k_s", "q3_k"), ("q5_k_s", "q5_k"), ("q6_k_mix", "q6_k")):
        assert {kind for c, _, kind, _ in recipe_types(model, recipe) if c != "lm_head"} == {base}
        assert types(model, recipe, "lm_head") == {"q6_k": 1}
    seventy = imported(tmp_path, "llama_80_768")  # 70B: Q4_K_S's Q4_K attn_v become Q5_K, Q3_K_S's Q3_K too
    assert types(seventy, "q4_k_s", "attn.v") == {"q5_k": 80} and types(seventy, "q3_k_s", "attn.v") == {"q5_k": 80}
    falcon = imported(tmp_path, "falcon_32_1024")
    assert types(falcon, "q4_k_s", "mlp.down") == {"q4_k": 32}  # Falcon: no Q5_K in the first eighth
    assert types(falcon, "q3_k_l", "mlp.down") == {"q4_k": 32} and types(falcon, "q3_k_l", "attn.o") == {"q4_k": 32}


def test_legacy_file_types(tmp_path):
    """Q4_0 ... Q5_1 files hold their type everywhere but the output layer, Q6_K (Q8_0 on Falcon); Q8_0 files Q8_0
    throughout; their 32-block rows need no fallback at d_ff 640."""
    model = imported(tmp_path, "llama_12_640")
    for recipe in ("q4_0_mix", "q4_1_mix", "q5_0_mix", "q5_1_mix"):
        base = recipe.removesuffix("_mix")
        assert {kind for c, _, kind, _ in recipe_types(model, recipe) if c != "lm_head"} == {base}
        assert types(model, recipe, "lm_head") == {"q6_k": 1}
    assert {kind for *_, kind, _ in recipe_types(model, "q8_0_mix")} == {"q8_0"}
    tied = imported(tmp_path, "llama_16_768_tied")
    assert types(tied, "q4_0_mix", "embed.token") == {"q6_k": 1}  # tied: the output's type
    assert types(imported(tmp_path, "falcon_32_1024"), "q4_1_mix", "embed.token") == {"q8_0": 1}
    narrow = imported(tmp_path, "llama_8_320")  # rows of 320: the output's Q6_K falls back to Q8_0
    assert types(narrow, "q4_0_mix", "lm_head") == {"q8_0": 1} and types(narrow, "q4_0_mix", "attn.q") == {"q4_0": 8}


def test_iq4_rules(tmp_path):
    """IQ4_NL and IQ4_XS without an importance matrix: Q5_K ffn_down in the first eighth, Q5_K attn_v when n_gqa >= 4;
    IQ4_XS rows not a multiple of 256 fall back to IQ4_NL (and that Q5_K to Q5_1)."""
    model = imported(tmp_path, "llama_16_768")
    assert types(model, "iq4_xs_mix", "attn.v") == {"iq4_xs": 16}  # n_gqa 2
    assert types(model, "iq4_nl_mix", "mlp.down") == {"q5_k": 2, "iq4_nl": 14}
    assert types(model, "iq4_xs_mix", "lm_head") == {"q6_k": 1}
    assert types(imported(tmp_path, "llama_16_768_gqa4"), "iq4_xs_mix", "attn.v") == {"q5_k": 16}
    assert types(imported(tmp_path, "llama_12_640"), "iq4_xs_mix", "mlp.down") == {"q5_1": 1, "iq4_nl": 11}
    narrow = imported(tmp_path, "llama_8_320")  # n_gqa 5, rows of 320
    assert types(narrow, "iq4_xs_mix", "attn.v") == {"q5_1": 8} and types(narrow, "iq4_xs_mix", "embed.token") == {
        "iq4_nl": 1}


def test_refused_where_the_rules_are_not_modelled():
    with pytest.raises(LlmcalcError, match="cross-attention"):
        estimate_memory("switch-base-128", dtype="q4_k_m")
    with pytest.raises(LlmcalcError, match="a single type such as iq4_xs"):
        estimate_memory("switch-base-128", dtype="iq4_xs_mix")
