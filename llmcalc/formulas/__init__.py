"""Formulas: pure functions of a validated ModelSpec and explicit options, one per component, each docstring naming
its source. Integers stay integers; estimates are labelled. Each module holds its result objects beside its
formulas (ParamCount in params, FlopCount in flops, KVCache in kv, MemoryReport in memory, Check in published).

params: parameters per component and layer group. flops: forward and training FLOPs, MFU. kv: the KV cache.
dtypes: bits per storage type. memory: weights, model states and the memory report. serving: serving memory and
engine profiles (vLLM). activations: what training saves for backward (hf_activations, with hf_code, hf_rows, hf_moe,
hf_gpt2 and hf_lora: what transformers' modeling code saves). training: training memory per GPU (states
per stage and rank). finetune: LoRA and QLoRA adapters. recurrent: Mamba mixers and the dispatch over every recurrent mixer (parameters, FLOPs, state); linear_mixers: LFM2's short conv, Gated DeltaNet, lightning attention. fit: the smallest setup that holds a model. published: computed figures against the ones a spec publishes (`llmcalc verify`).

May import: llmcalc.errors, llmcalc.units, llmcalc.records, llmcalc.model, llmcalc.hardware. Never a loader, a renderer or the CLI:
a formula takes a ModelSpec, never a model name or a file.
"""
