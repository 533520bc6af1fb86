"""Property-based tests (hypothesis): bad input never crashes and never lies; good input keeps its invariants.

Bad input: random YAML documents and random mutations of every shipped spec must end in exit status 2 and one
line on stderr naming the file (and, for a mutation, the key) -- never a traceback, never a number on stdout.
Good input: random valid specs keep the invariants a careful user relies on (total = sum of its rows,
active <= total, monotone in n_layers, KV cache linear in batch and in context up to the window, GQA with
every KV head equals MHA, tying saves exactly V x d, --json equals the table).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import yaml  # noqa: E402
from click.testing import CliRunner  # noqa: E402

import llmcalc  # noqa: E402
from llmcalc import spec as spec_module  # noqa: E402
from llmcalc.cli import cli  # noqa: E402
from llmcalc.formulas.kv import kv_cache  # noqa: E402
from llmcalc.formulas.params import count_params  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BUILTINS = llmcalc.builtin_names()


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args))


def assert_clean_error(result, path: Path, key: str | None = None) -> None:
    """Exit 2, no traceback, nothing on stdout, one line on stderr naming the file (and the key)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert str(path) in lines[0]
    if key is not None:
        assert key in lines[0], (key, lines[0])


def write(directory: str, name: str, document) -> Path:
    path = Path(directory) / f"{name}.yaml"
    text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------ random documents

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
documents = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                         | st.dictionaries(st.text(max_size=12), children, max_size=4), max_leaves=30)


@SETTINGS
@given(documents)
def test_random_yaml_documents_are_refused_cleanly(document):
    with tempfile.TemporaryDirectory() as directory:
        path = write(directory, "random", document)
        assert_clean_error(run_cli("count", str(path)), path)


@SETTINGS
@given(st.text(max_size=200))
def test_random_text_is_refused_cleanly(text):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "text.yaml"
        path.write_text(text, encoding="utf-8")
        assert_clean_error(run_cli("count", str(path)), path)


# ------------------------------------------------------------------------------ mutations of shipped specs

# Whole numbers for which 0 is allowed (everything else must be >= 1, or >= 1900 for year).
ZERO_ALLOWED = {"n_shared_experts", "value", "tokens", "tolerance"}
# Strings whose value is free text: any non-empty string is valid there.
FREE_TEXT = {"display_name", "family", "notes", "source", "note", "discrepancy", "name", "rumour", "extends",
             "value", "tolerance", "tokens"}


def leaves(node, path=()):
    """(path, value) of every scalar in a raw spec mapping, lists included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, path + (index,))
    else:
        yield path, node


def mappings(node, path=()):
    if isinstance(node, dict):
        yield path
        for key, value in node.items():
            yield from mappings(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from mappings(value, path + (index,))


def bad_values(key, value) -> list:
    """Values that can never be valid where `value` stands."""
    nested = [[[[[[[[1]]]]]]]]
    if isinstance(value, bool):
        return ["yes", 1, [], {"a": 1}, nested]
    if isinstance(value, int) or isinstance(value, float):
        out = [-1, "abc", [1], {"x": 1}, True, nested]
        if key not in ZERO_ALLOWED:
            out.append(0)
        if isinstance(value, int) and key not in ("value", "tokens", "tolerance"):
            out.append(2.5)
        return out
    if isinstance(value, str) and key in ("value", "tokens", "tolerance"):  # numbers written as '124M'
        return ["abc", "12Q", [], {"x": "y"}, nested, "", -1]
    if isinstance(value, str):
        out = [7, [], {"x": "y"}, nested, ""]
        if key not in FREE_TEXT and not isinstance(key, int):
            out.append("bogus-choice")
        return out
    return []


def set_at(document, path, value):
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def named_key(path) -> str:
    """The last mapping key on a path (a list index names its list)."""
    return next(str(step) for step in reversed(path) if isinstance(step, str))


@st.composite
def value_mutations(draw):
    name = draw(st.sampled_from(BUILTINS))
    raw = spec_module.read_yaml(spec_module.builtin_dir() / f"{name}.yaml")
    candidates = [(path, value) for path, value in leaves(raw) if bad_values(path[-1], value)
                  and path[0] not in ("extends",)]
    path, value = draw(st.sampled_from(candidates))
    bad = draw(st.sampled_from(bad_values(path[-1], value)))
    return name, raw, path, bad


@SETTINGS
@given(value_mutations())
def test_mutated_builtin_values_are_refused_naming_the_key(mutation):
    name, raw, path, bad = mutation
    document = copy.deepcopy(raw)
    set_at(document, path, bad)
    with tempfile.TemporaryDirectory() as directory:
        spec_path = write(directory, name, document)
        assert_clean_error(run_cli("count", str(spec_path)), spec_path, named_key(path))


@st.composite
def unknown_keys(draw):
    name = draw(st.sampled_from(BUILTINS))
    raw = spec_module.read_yaml(spec_module.builtin_dir() / f"{name}.yaml")
    where = draw(st.sampled_from(list(mappings(raw))))
    return name, raw, where, draw(st.sampled_from(["bogus", "n_layer", "dmodel", "attention_bias", "x" * 40]))


@SETTINGS
@given(unknown_keys())
def test_unknown_keys_anywhere_are_refused(mutation):
    name, raw, where, key = mutation
    document = copy.deepcopy(raw)
    target = document
    for step in where:
        target = target[step]
    target[key] = 1
    with tempfile.TemporaryDirectory() as directory:
        spec_path = write(directory, name, document)
        assert_clean_error(run_cli("count", str(spec_path)), spec_path, key)


REQUIRED_TOP = ("vocab_size", "d_model", "n_layers", "context_length", "position", "norm", "attention", "mlp")


@SETTINGS
@given(st.sampled_from([n for n in BUILTINS if "extends" not in
                        spec_module.read_yaml(spec_module.builtin_dir() / f"{n}.yaml")]),
       st.sampled_from(REQUIRED_TOP), st.sampled_from(["delete", "null"]))
def test_missing_required_keys_are_refused(name, key, how):
    document = copy.deepcopy(spec_module.read_yaml(spec_module.builtin_dir() / f"{name}.yaml"))
    if how == "delete":
        del document[key]
    else:
        document[key] = None
    with tempfile.TemporaryDirectory() as directory:
        spec_path = write(directory, name, document)
        assert_clean_error(run_cli("count", str(spec_path)), spec_path, key)


@SETTINGS
@given(st.sampled_from(BUILTINS), st.sampled_from(["self", "cycle", "missing-name", "missing-file"]))
def test_broken_extends_are_refused(name, kind):
    document = copy.deepcopy(spec_module.read_yaml(spec_module.builtin_dir() / f"{name}.yaml"))
    with tempfile.TemporaryDirectory() as directory:
        if kind == "self":
            document["extends"] = f"{name}.yaml"
        elif kind == "cycle":
            document["extends"] = "partner.yaml"
            write(directory, "partner", {"extends": f"{name}.yaml"})
        elif kind == "missing-name":
            document["extends"] = "no-such-model-anywhere"
        else:
            document["extends"] = "no-such-file.yaml"
        spec_path = write(directory, name, document)
        assert_clean_error(run_cli("count", str(spec_path)), spec_path, "extends")


# ------------------------------------------------------------------------------ YAML safety


def test_unsafe_tags_are_refused(tmp_path):
    path = tmp_path / "unsafe.yaml"
    path.write_text('vocab_size: !!python/object/apply:os.system ["echo unsafe"]\n')
    result = run_cli("count", str(path))
    assert_clean_error(result, path)
    assert "unsafe" not in result.stdout


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghi":  # 9^9 = 387 million strings once expanded
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    path = tmp_path / "bomb.yaml"
    path.write_text("sources:\n" + "\n".join("  - " + line.split(": ", 1)[1] for line in lines) + "\n")
    result = run_cli("count", str(path))
    assert_clean_error(result, path)
    assert "expands" in result.stderr


def test_oversized_file_is_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("notes: '" + "x" * (spec_module.MAX_SPEC_BYTES + 10) + "'\n")
    result = run_cli("count", str(path))
    assert_clean_error(result, path)
    assert "at most" in result.stderr


def test_duplicate_keys_are_refused(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("vocab_size: 100\nvocab_size: 200\n")
    assert_clean_error(run_cli("count", str(path)), path, "vocab_size")


# ------------------------------------------------------------------------------ invariants of valid specs


@st.composite
def valid_specs(draw):
    n_kv = draw(st.integers(1, 4))
    n_heads = n_kv * draw(st.integers(1, 4))
    d_head = draw(st.integers(1, 32))
    d_model = draw(st.integers(1, 96))
    window = draw(st.none() | st.integers(1, 64))
    spec = {
        "vocab_size": draw(st.integers(1, 5000)), "d_model": d_model, "n_layers": draw(st.integers(1, 6)),
        "context_length": draw(st.integers(1, 4096)),
        "position": draw(st.sampled_from(["learned", "rope", "alibi", "sinusoidal", "none"])),
        "tied_embeddings": draw(st.booleans()),
        "norm": {"kind": draw(st.sampled_from(["layernorm", "rmsnorm"])),
                 "placement": draw(st.sampled_from(["pre", "post", "sandwich"]))},
        "attention": {"n_heads": n_heads, "n_kv_heads": n_kv, "d_head": d_head, "bias": draw(st.booleans()),
                      **({"sliding_window": window} if window else {})},
        "mlp": {"activation": draw(st.sampled_from(["gelu", "relu", "swiglu", "geglu"])),
                "d_ff": draw(st.integers(1, 256)), "bias": draw(st.booleans())},
    }
    if draw(st.booleans()):
        n_experts = draw(st.integers(1, 8))
        spec["moe"] = {"n_experts": n_experts, "top_k": draw(st.integers(1, n_experts)),
                       "n_shared_experts": draw(st.integers(0, 2)), "router_bias": draw(st.booleans())}
    return spec


def build(spec: dict, name: str = "valid") -> llmcalc.ModelSpec:
    return spec_module.build(name, f"<{name}>", copy.deepcopy(spec), {(): f"<{name}>"})


@SETTINGS
@given(valid_specs())
def test_count_invariants(spec):
    model = build(spec)
    count = count_params(model)
    assert count.total == sum(row.per_layer * row.n_layers for row in count.rows)
    assert count.total == count.embedding + count.non_embedding
    assert 0 < count.active <= count.total
    deeper = build({**spec, "n_layers": spec["n_layers"] + 1})
    assert count_params(deeper).total > count.total
    if not spec["tied_embeddings"]:
        tied = count_params(build({**spec, "tied_embeddings": True})).total
        assert count.total - tied == spec["vocab_size"] * spec["d_model"]


@SETTINGS
@given(valid_specs(), st.integers(1, 8), st.integers(1, 300))
def test_kv_cache_invariants(spec, batch, context):
    model = build(spec)
    one = kv_cache(model, context, 1).elements
    assert kv_cache(model, context, batch).elements == batch * one
    window = spec["attention"].get("sliding_window")
    if window is None or context + 1 <= window:
        assert kv_cache(model, context + 1, 1).elements - one == kv_cache(model, 1, 1).elements
    else:
        assert kv_cache(model, context + 1, 1).elements == one  # a full window does not grow
    mha = copy.deepcopy(spec)
    mha["attention"]["n_kv_heads"] = mha["attention"]["n_heads"]
    implicit = copy.deepcopy(mha)
    del implicit["attention"]["n_kv_heads"]
    assert count_params(build(mha)).total == count_params(build(implicit)).total
    assert kv_cache(build(mha), context).elements == kv_cache(build(implicit), context).elements


@settings(max_examples=40, deadline=None)
@given(valid_specs())
def test_json_matches_table(spec):
    with tempfile.TemporaryDirectory() as directory:
        path = write(directory, "valid", spec)
        document = json.loads(run_cli("count", str(path), "--json").stdout)
        table = run_cli("count", str(path)).stdout
    params = document["models"][0]["params"]
    assert params["total"] == count_params(build(spec)).total
    assert f"{params['total']:,} parameters" in table
    assert f"{params['embedding']:,}" in table


# ------------------------------------------------------------------------------ very large values


def test_a_million_layers_and_ten_million_tokens_compute_exactly(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("""
vocab_size: 10000000
d_model: 8192
n_layers: 1000000
context_length: 1000000
position: rope
norm: {kind: rmsnorm}
attention: {n_heads: 64, n_kv_heads: 8}
mlp: {activation: swiglu, d_ff: 28672}
""")
    count = count_params(llmcalc.load(str(path)))
    layer = 8192 * 8192 * 2 + 2 * 8192 * 1024 + 3 * 8192 * 28672 + 2 * 8192
    assert count.total == 2 * 10_000_000 * 8192 + 1_000_000 * layer + 8192
    result = run_cli("count", str(path))
    assert result.exit_code == 0
    assert f"{count.total:,}" in result.stdout and "e+" not in result.stdout
    flops = run_cli("flops", str(path), "--context", "1000000", "--json")
    assert flops.exit_code == 0
    from llmcalc.formulas.flops import count_flops
    expected = count_flops(llmcalc.load(str(path)), 1_000_000).matmul
    assert json.loads(flops.stdout)["models"][0]["forward"]["matmul"] == expected > 10**21
    memory = run_cli("memory", str(path), "--context", "1000000")
    assert memory.exit_code == 0 and not re.search(r"\b(inf|nan)\b", memory.stdout.lower())


def test_huge_values_in_every_size_field_stay_exact():
    spec = {"vocab_size": 10**12, "d_model": 10**6, "n_layers": 10**6, "context_length": 10**9, "position": "rope",
            "norm": {"kind": "rmsnorm"}, "attention": {"n_heads": 1000, "d_head": 1000},
            "mlp": {"activation": "relu", "d_ff": 10**7}}
    count = count_params(build(spec))
    assert count.total == (2 * 10**18 + 10**6 * (4 * 10**12 + 2 * 10**13 + 2 * 10**6) + 10**6)
    assert isinstance(count.total, int)
    assert dataclasses.is_dataclass(count)


# ------------------------------------------------------------------------------ Hugging Face config.json

HF_CONFIGS = sorted((Path(__file__).parent / "data" / "hf_configs").glob("*.json"))
COUNT_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
              "intermediate_size", "head_dim", "moe_intermediate_size", "n_routed_experts", "num_experts",
              "num_local_experts", "num_experts_per_tok", "kv_lora_rank", "d_model", "n_layers", "n_heads",
              "n_embd", "n_layer", "n_head")


def write_json(directory: str, document) -> Path:
    path = Path(directory) / "config.json"
    path.write_text(json.dumps(document))
    return path


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                           max_leaves=10)


@SETTINGS
@given(st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_random_config_json_documents_are_refused_cleanly(document):
    with tempfile.TemporaryDirectory() as directory:
        path = write_json(directory, document)
        assert_clean_error(run_cli("count", str(path)), path)


@SETTINGS
@given(st.sampled_from(["llama", "qwen3_moe", "deepseek_v3", "gpt_oss", "gemma2", "dbrx", "gpt2", "llama4"]),
       st.dictionaries(st.sampled_from(COUNT_KEYS), json_values, min_size=1, max_size=3))
def test_random_config_json_with_a_model_type_never_crashes(model_type, extra):
    # Random values of the keys that matter: either a valid model (exit 0, a count) or one clean error.
    with tempfile.TemporaryDirectory() as directory:
        path = write_json(directory, {"model_type": model_type, **extra})
        result = run_cli("count", str(path), "--json")
        if result.exit_code == 0:
            assert json.loads(result.stdout)["models"][0]["params"]["total"] > 0
        else:
            assert_clean_error(result, path)


@st.composite
def config_mutations(draw):
    path = draw(st.sampled_from(HF_CONFIGS))
    config = json.loads(path.read_text())
    target = config.get("text_config", config) if isinstance(config.get("text_config"), dict) else config
    keys = [k for k in COUNT_KEYS if isinstance(target.get(k), int) and not isinstance(target.get(k), bool)]
    key = draw(st.sampled_from(keys))
    # num_experts 0 is valid for the Qwen MoE types: transformers then builds dense layers (and so does the import).
    # A value the file already has is no mutation (Granite 4.0 1B: num_local_experts 0, no experts).
    zero = [] if key == "num_experts" or target[key] == 0 else [0]
    bad = draw(st.sampled_from([-1, *zero, 2.5, "abc", [1], {"x": 1}, True]))
    return path.name, config, target, key, bad


@SETTINGS
@given(config_mutations())
def test_mutated_published_configs_are_refused_naming_the_key(mutation):
    name, config, target, key, bad = mutation
    original = target[key]
    target[key] = bad
    try:
        with tempfile.TemporaryDirectory() as directory:
            path = write_json(directory, config)
            assert_clean_error(run_cli("count", str(path)), path, key)
    finally:
        target[key] = original
