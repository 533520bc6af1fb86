"""Other formats in: each importer turns a file that is not an llmcalc spec into the spec mapping a YAML spec holds,
which the spec builder then validates like any other (an importer never builds a ModelSpec by hand, and never
reaches into the spec loader's private helpers).

hf/: Hugging Face config.json, one module per model family, registered by model_type. Checkpoint readers
(safetensors and GGUF headers) belong here beside it.

May import: llmcalc.errors, llmcalc.records, llmcalc.model, llmcalc.spec.
"""
