"""`llmcalc diagram`: a model as a block diagram (embeddings, each layer group as a repeated block with its norms,
attention and MLP or experts, the final norm and the head), annotated with sizes and parameter counts; with two or
more models, the boxes that differ from the first model's are marked."""

from __future__ import annotations

from ..model import MIXER_NAMES
from ..units import human
from .describe import ACTIVATION_LABELS, NORM_LABELS, POSITION_LABELS
from .sheet import Box, Diagram


def _params(count, group: str | None, prefixes: tuple[str, ...]) -> int:
    return sum(r.total for r in count.rows if r.group == group and r.component.startswith(prefixes))


def _per_layer(count, group: str, prefixes: tuple[str, ...]) -> int:
    return sum(r.per_layer for r in count.rows if r.group == group and r.component.startswith(prefixes))


def vision_boxes(count) -> list[Box]:
    """A vision-language model's image side, above the token embedding its image tokens join: the tower, as a block
    of its layers, and the projector."""
    tower = count.model.vision
    frames = f" x {tower.temporal_patch} frames" if tower.temporal_patch > 1 else ""
    mlp = tower.layer.mlp
    merge, pool = tower.projector.merge, tower.projector.pool
    return [Box([f"vision tower: {tower.n_layers} x layer, width {tower.d_model:,}",
                 f"patches {tower.patch_size} x {tower.patch_size}{frames}, {tower.layer.attention.n_heads} heads",
                 f"MLP: {ACTIVATION_LABELS[mlp.activation]}, d_ff {mlp.d_ff:,}",
                 f"{human(_params(count, 'vision', ('vision.',)))} parameters"], key="vision"),
            Box([f"projector to width {tower.projector.d_out:,}" + (f", {merge} x {merge} patches merged" if merge > 1
                                                                   else f", {pool} x {pool} patches pooled"
                                                                   if pool > 1 else ""),
                 f"{human(_params(count, 'projector', ('projector.',)))} parameters"], key="projector")]


def model_boxes(count) -> list[Box]:
    """The boxes of one model, top (tokens in) to bottom (logits out)."""
    model = count.model
    norm = NORM_LABELS[model.norm.kind]
    boxes = vision_boxes(count) if model.vision else []
    boxes += [Box([f"token embedding {model.vocab_size:,} x {model.embed_width:,}",
                  f"{human(_params(count, None, ('embed.token',)))} parameters"], key="embedding")]
    if model.projected:
        boxes.append(Box([f"project in {model.embed_width:,} -> {model.d_model:,}",
                          f"{human(_params(count, None, ('embed.project_in',)))} parameters"], key="project in"))
    if model.position == "learned":
        boxes.append(Box([f"+ learned positions {model.position_rows:,} x {model.d_model:,}",
                          f"{human(_params(count, None, ('embed.position',)))} parameters"], key="positions"))
    for g, group in enumerate(model.groups):
        layer = group.layer
        att = layer.attention
        boxes.append(Box([f"{group.count} x {'layer' if group.name == 'layers' else group.name}",
                          f"{human(sum(r.total for r in count.rows if r.group == group.name))} parameters"],
                         repeat=group.count, key=f"group {g}"))
        placement = model.norm.placement
        parallel = model.residual == "parallel"
        if parallel:  # one norm feeding both blocks, or one each, both on the layer input
            boxes.append(Box([f"{norm}, shared by attention and MLP" if model.norm.shared else
                              f"{norm} before attention, {norm} before MLP"], depth=1, key=f"norm {g}"))
        elif placement in ("pre", "sandwich"):
            boxes.append(Box([f"{norm}"], depth=1, key=f"norm {g}"))
        if att:
            boxes.append(_attention_box(count, group.name, att, model, g))
        if layer.mixer:  # in place of attention, or beside it on the same input (Falcon-H1)
            boxes.append(_mixer_box(count, group.name, layer.mixer, g, beside=att is not None))
        if layer.mlp is None:  # a Mamba block: norm, mixer, residual
            if placement != "pre":
                boxes.append(Box([f"{norm}"], depth=1, key=f"norm {g}"))
            continue
        if placement != "pre":
            boxes.append(Box([f"{norm}"], depth=1, key=f"norm {g}"))
        if placement in ("pre", "sandwich") and not parallel:
            boxes.append(Box([f"{norm}"], depth=1, key=f"norm {g}"))
        mlp = layer.mlp
        activation = ACTIVATION_LABELS[mlp.activation]
        if layer.moe:
            moe = layer.moe
            shared = f" + {moe.n_shared_experts} shared" if moe.n_shared_experts else ""
            lines = [f"experts: top-{moe.top_k} of {moe.n_experts}{shared}", f"{activation}, d_ff {moe.d_ff:,}",
                     f"{human(_per_layer(count, group.name, ('moe.',)))} per layer"]
        else:
            lines = [f"MLP: {activation}, {mlp.n_matrices} matrices", f"d_ff {mlp.d_ff:,}",
                     f"{human(_per_layer(count, group.name, ('mlp.',)))} per layer"]
        if parallel:
            lines[0] = f"in parallel, {lines[0]}"
        boxes.append(Box(lines, depth=1, key=f"mlp {g}"))
        if placement != "pre":
            boxes.append(Box([f"{norm}"], depth=1, key=f"norm {g}"))
    if model.norm.final:
        boxes.append(Box([f"final {norm}"], key="final norm"))
    if model.projected:
        boxes.append(Box([f"project out {model.d_model:,} -> {model.embed_width:,}",
                          f"{human(_params(count, None, ('lm_head.project_out',)))} parameters"], key="project out"))
    head = "LM head (tied to the embedding)" if model.tied_embeddings else f"LM head {model.embed_width:,} x " \
                                                                            f"{model.vocab_size:,}"
    head_params = _params(count, None, ('lm_head',)) - _params(count, None, ('lm_head.project_out',))
    boxes.append(Box([head, f"{human(head_params)} parameters"], key="head"))
    boxes.append(Box([f"total {human(count.total)} parameters" +
                      (f", {human(count.active)} active" if count.active != count.total else "")], key="total"))
    return boxes


def _attention_box(count, group_name: str, att, model, g: int) -> Box:
    """An attention block: its kind, heads, window or chunks, qk-norm and position encoding."""
    heads = (f"{att.n_heads} heads, latent {att.mla.kv_lora_rank}" if att.mla else
             f"{att.n_heads} heads / {att.n_kv_heads} KV heads / d_head {att.d_head}")
    extras = [f"window {att.sliding_window:,}" if att.sliding_window else "",
              f"chunks of {att.chunk_size:,}" if att.chunk_size else "",
              f"{att.qk_norm} qk-norm" if att.qk_norm else "", "output gate" if att.output_gate else "",
              f"{POSITION_LABELS[model.position]}" if model.position in ("rope", "alibi") else ""]
    if model.rotary_dim:  # partial RoPE: the rotated dims of each head
        extras[-1] += f" ({model.rotary_dim} of {att.d_head} dims)"
    return Box([f"attention ({att.kind})", heads] + [", ".join(e for e in extras if e)] * any(extras)
               + [f"{human(_per_layer(count, group_name, ('attn.',)))} per layer"], depth=1, key=f"attention {g}")


def _mixer_box(count, group_name: str, mixer, g: int, beside: bool = False) -> Box:
    """A recurrent mixer: its kind, widths, state and conv (Mamba-2: heads and groups; Gated DeltaNet: its heads);
    `beside` attention, in parallel with it."""
    name = ("in parallel, " if beside else "") + MIXER_NAMES[mixer.kind]
    if mixer.kind == "short_conv":
        lines, prefix = [f"width {mixer.width:,}, conv {mixer.d_conv}", "gated: C x conv(B x x)"], "shortconv."
    elif mixer.kind == "lightning":
        lines = [f"{mixer.n_heads} heads of {mixer.head_dim}, blocks of {mixer.block_size:,}",
                 f"state {mixer.head_dim} x {mixer.head_dim} per head, output gate"]
        prefix = "lightning."
    elif mixer.kind == "gated_deltanet":
        lines = [f"{mixer.n_key_heads} key heads of {mixer.key_head_dim}, {mixer.n_value_heads} value heads of "
                 f"{mixer.value_head_dim}", f"conv {mixer.d_conv}, state {mixer.key_head_dim} x "
                 f"{mixer.value_head_dim} per value head"]
        prefix = "deltanet."
    else:
        lines = [f"d_inner {mixer.d_inner:,}, state {mixer.d_state}, conv {mixer.d_conv}",
                 f"{mixer.n_heads} heads of {mixer.head_dim}, {mixer.n_groups} groups" if mixer.kind == "mamba2" else
                 f"dt rank {mixer.dt_rank}"]
        prefix = "mamba."
    return Box([f"{name} mixer (constant state)"] + lines +
               [f"{human(_per_layer(count, group_name, (prefix,)))} per layer"], depth=1,
               key=f"{'mixer' if beside else 'attention'} {g}")


def diagram(counts: list, labels: list[str]) -> Diagram:
    """Each model's boxes; a box whose text differs from the first model's box at the same place is highlighted."""
    columns = [(label, model_boxes(c)) for label, c in zip(labels, counts)]
    reference = {b.key: b.lines for b in columns[0][1]}
    for _, boxes in columns[1:]:
        for box in boxes:  # what the box is (its first two lines), not its parameter count
            first = reference.get(box.key)
            box.highlight = box.key != "total" and (first is None or first[:2] != box.lines[:2])
    title = "Architecture of " + " and ".join(labels) + (" (differences from the first marked)" if len(labels) > 1
                                                          else "")
    return Diagram(title, columns)
