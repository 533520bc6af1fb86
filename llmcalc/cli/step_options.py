"""The training step's conventions as `memory` and `fit` options: the loss, activation offloading and how long the
gradients live (formulas/activations.py loss_rows, formulas/timeline.py); and which memory options only training
reads."""

from __future__ import annotations

import click

STEP_OPTIONS = [
    click.option("--loss", type=click.Choice(["full", "chunked", "fused"]), default="full", show_default=True,
                 help="Training: full keeps the fp32 softmax over the vocabulary; chunked, torchtune's "
                 "CEWithChunkedOutputLoss compiled, keeps bf16 logits and upcasts one of 8 chunks at a time; fused "
                 "(Liger, Megatron's loss fusion) keeps no logits."),
    click.option("--offload-activations", is_flag=True, help="Training (pp 1): the layers' saved tensors wait in "
                 "host memory and come back one layer at a time in the backward (torchtune's OffloadActivations); "
                 "the output layer's and the loss's stay."),
    click.option("--grad-buffers", type=click.Choice(["persistent", "freed"]), default="persistent",
                 show_default=True, help="Training: persistent (Megatron-LM, DeepSpeed) sums every part at its "
                 "largest; freed (PyTorch's zero_grad(set_to_none=True): torchtune, FSDP, the HF Trainer; pp 1, one "
                 "micro-batch per step) takes the peak over the step: the forward's end, each layer's backward, "
                 "the backward's end."),
]

# The memory options that only --mode training reads (options.check_mode_options refuses them in serve mode)
TRAINING_ONLY = ("grad_dtype", "optimizer", "precision", "optimizer_in_backward", "optimizer_bytes", "zero", "zero_impl",
                 "dp", "cp", "sequence_parallel", "recompute", "attention_impl", "framework", "virtual_stages", "loss",
                 "offload_activations", "grad_buffers", "dropout", "finetune", "lora_rank", "lora_targets",
                 "adapter_dtype")
ADAPTER_ONLY = ("lora_rank", "lora_targets", "adapter_dtype")  # and, the other way, --grad-dtype for full only
