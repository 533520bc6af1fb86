"""The peak of one training step on one GPU when gradients live only from the backward pass to the optimizer step.

PyTorch's optimizers free every gradient at zero_grad(set_to_none=True) (its default since PyTorch 2.0; torchtune's
recipes, FSDP and the Hugging Face Trainer run so): the forward runs without gradients, and the backward creates
them layer by layer while it frees the activations it has used. With one micro-batch per step and no pipeline
(gradient accumulation or 1F1B keep every gradient while later micro-batches run forward), the step's peak is the
largest of these moments, the weights and the optimizer's states held throughout:

- the forward's end: every saved activation, the output layer's inputs and the loss's tensors, no gradients;
- the output layer's backward: the same activations, and the gradients of the output layer and the final norm (a
  chunked loss sends the output weight one gradient per chunk, which autograd sums as they come: two at once);
- each layer's backward, from the last: the resident activations of that layer and those before it, what its
  backward adds (the set recomputed under full recomputation, or brought back from the host when offloaded), the
  loss's tensors freed, and the gradients of the output layer and of every layer from the last to this one;
- the backward's end: every gradient (the embedding's last).

With the optimizer stepped in the backward pass (PyTorch's register_post_accumulate_grad_hook, as torchtune's
optimizer_in_bwd), each gradient is freed as soon as its parameter is stepped: at most the largest of a layer's is held, besides a gradient autograd completes only at the backward's end (a tied embedding's,
which the embedding's own backward finishes).
Megatron-LM and DeepSpeed keep their gradient buffers for the whole run; for them every part is at its largest at
once and the parts are summed (training.py), as Megatron's theoretical memory does.

May import the records of the activation profiles only.
"""

from __future__ import annotations

from ..records import record
from .saved import Phases


@record
class Moment:
    """The step's peak: when it happens, and the gradients and activations held then (bytes per GPU)."""

    name: str
    gradients: float
    activations: float


def step_peak(phases: Phases, tokens: int, layer_grads: list[float], head_grads: float, all_grads: float,
              chunks_summed: float = 0.0, one_grad: float | None = None, held_through: float = 0.0) -> Moment:
    """The moment of one step that holds the most gradients and activations (see the module docstring).
    `layer_grads` per layer index; `head_grads` the output layer's and the final norm's (with a tied embedding,
    its whole gradient); `all_grads` every gradient at the backward's end; `chunks_summed` the output weight's
    gradient once more while a chunked loss's per-chunk contributions are summed. With the optimizer in the
    backward (`one_grad`: the largest of a layer's gradients), a gradient lives until its parameter is stepped;
    `held_through` is one the engine cannot finish before the backward's end (a tied embedding's)."""
    resident = sum(phases.layers)
    forward = (phases.first + resident + phases.head + phases.loss) * tokens
    moments = [Moment("the forward pass's end", 0.0, forward),
               Moment("the output layer's backward" + (", its weight's gradient held twice while the chunks' are "
                                                       "summed" if chunks_summed else ""),
                      head_grads + chunks_summed, forward)]
    held_grads = head_grads
    for index in range(len(phases.layers) - 1, -1, -1):
        held_grads += layer_grads[index]
        activations = (phases.first + sum(phases.layers[:index + 1]) + phases.back[index]) * tokens
        grads = held_grads if one_grad is None else held_through + min(layer_grads[index], one_grad)
        moments.append(Moment(f"layer {index + 1}'s backward", grads, activations))
    end = all_grads if one_grad is None else max(held_through, one_grad)
    moments.append(Moment("the backward pass's end", end, 0.0))
    return max(moments, key=lambda m: m.gradients + m.activations)
