#!/usr/bin/python3
"""Oracle test: tiny Hugging Face MoE checkpoints, the HF forward pass re-implemented in PyTorch,
and `crossroads run` compared against it.

For each family (mixtral, qwen2_moe, qwen3_moe, olmoe) this builds a tiny model with random
weights from a fixed seed, writes it as a real checkpoint folder (config.json with the real HF
field names + model.safetensors written by hand, F32 and BF16), runs
    BINARY run --model DIR --prompt-ids ... --max-new-tokens N --logits-out FILE
and compares the generated ids and every logits row with an independent float64 forward pass
that follows the transformers modelling code. Layout cases write the same Qwen3-MoE model with
fused expert tensors (both orientations) and as a sharded checkpoint.

Run it with Debian's interpreter, which owns python3-torch (1.13):
    /usr/bin/python3 hf_oracle.py --binary build/app/crossroads
Exit codes: 0 every case passed, 1 a case failed, 77 torch is not importable (skipped), 2 usage.

What the oracle implements, checked against the transformers sources (modeling_mixtral.py,
modular_qwen2_moe.py, modeling_qwen3_moe.py, modular_olmoe.py; 4.4x-4.5x and the v5 fused-expert
rewrite):
  * RMSNorm: x * rsqrt(mean(x^2, -1) + eps) * weight (LlamaRMSNorm; HF does it in float32, the
    oracle in float64).
  * RoPE: inv_freq = 1 / theta^(arange(0, d, 2) / d), emb = cat(freqs, freqs), x*cos +
    rotate_half(x)*sin with rotate_half(x) = cat(-x2, x1) (the "half split", not interleaved);
    positions 0..T-1; d = head_dim (partial_rotary_factor 1).
  * Attention: q/k/v projections (Qwen2-MoE: with bias, `qkv_bias`, default true; o_proj never),
    GQA by repeat_kv (query head h reads kv head h // (heads / kv_heads)), scores * head_dim^-0.5,
    causal mask, softmax, o_proj.
  * Qwen3-MoE: q_norm/k_norm are RMSNorm(head_dim) applied per head after the view to
    [T, heads, head_dim], before RoPE. head_dim comes from config (may differ from hidden/heads).
  * OLMoE: q_norm = RMSNorm(hidden), k_norm = RMSNorm(head_dim * kv_heads) over the whole
    projection before the head split; then, if clip_qkv is set, q, k AND v are clamped to
    [-clip_qkv, clip_qkv] (after the norms: OlmoeAttention.forward norms first, then clamp_).
  * Router: logits = gate(x) (no bias), softmax over ALL experts (float32 in HF), top-k of the
    probabilities, divided by their sum iff norm_topk_prob; Mixtral always renormalises
    (MixtralSparseMoeBlock), Qwen2-MoE / Qwen3-MoE / OLMoE read norm_topk_prob (default false).
  * Experts: down(silu(gate(x)) * up(x)); Mixtral w1 = gate, w3 = up, w2 = down. Fused v5 layout:
    experts.gate_up_proj [E, 2I, H], F.linear(x, gate_up_proj[e]).chunk(2, -1) -> gate half first;
    experts.down_proj [E, H, I].
  * Qwen2-MoE shared expert: sigmoid(shared_expert_gate(x)) * shared_expert(x), added to the
    routed output; both see the post-attention-normed x.
  * Dense layers (Qwen): a layer is sparse iff layer not in mlp_only_layers and num_experts > 0
    and (layer + 1) % decoder_sparse_step == 0; otherwise mlp.{gate,up,down}_proj with
    intermediate_size.
  * Decoder layer: x + attn(input_layernorm(x)), then + mlp(post_attention_layernorm(.)); final
    model.norm; lm_head (or embed_tokens when tie_word_embeddings and no lm_head.weight).
"""

import argparse
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

SKIP_CODE = 77

# Tolerances on max |engine - oracle| over every logits row, relative to the case's logit scale
# (max |oracle logit|, at least 1).
#  * F32 checkpoint: the engine computes in float32 with float32 accumulation; over 2-4 layers of
#    width 64 its rounding error is ~1e-6 of the scale, so 1e-4 leaves ~100x headroom while any
#    semantic slip (a wrong norm, RoPE convention, routing rule) moves logits by O(scale).
#  * BF16 checkpoint: the weights are exactly representable in BF16 and the oracle runs on those
#    same rounded weights, so weight rounding is not an error. What remains is the engine's right
#    to round *activations* to BF16 where its kernels take BF16 pairs (AVX-512-BF16 dot products
#    round matmul inputs: unit roundoff 2^-9 ~ 2e-3 relative per input). The oracle measures that
#    budget by re-running itself with every matmul input rounded to BF16 and prints it as
#    "bf16-act budget"; on these models it is 5e-3 to 1e-2 of the scale (and an engine that rounds
#    only in prefill, as the AVX-512-BF16 kernels do, stays below that). 3e-2 covers it with 3x
#    margin and is still far below the 7e-2..1 relative error that the semantic mistakes tried
#    while writing this test produced (eps 1e-2, flipped norm_topk_prob, interleaved RoPE, GQA
#    head mapping, OLMoE clip order, no sigmoid on the shared expert, gate/up swapped).
TOL_F32 = 1e-4
TOL_BF16 = 3e-2

PROMPT = [1, 5, 17, 42, 96, 3, 64, 28]
NEW_TOKENS = 8
# One seed per family, chosen so that every top-k expert choice and every greedy token is won by a
# clear margin (router logits >= 0.06 apart, 0.03 in the F32-only tied case; greedy logits >= 2% of
# the scale apart) and greedy decoding does not collapse onto one token: a near tie could flip on
# hardware that rounds differently and would then say nothing about semantics. Each case prints
# its margins; see NEAR_TIE_* below.
SEEDS = {"mixtral": 90, "qwen2_moe": 179, "qwen3_moe": 100, "olmoe": 77}
# Below these a case warns that it is ill-conditioned (after an edit to the configs or seeds).
NEAR_TIE_ROUTER_LOGITS = 0.02
NEAR_TIE_TOKEN_REL = 0.005


# ------------------------------------------------------------------------------------------------
# Tiny configs with the real config.json field names of each family.

def family_configs():
    common = {
        "hidden_size": 64,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "vocab_size": 97,
        "max_position_embeddings": 128,
        "hidden_act": "silu",
        "initializer_range": 0.02,
        "use_cache": True,
        "attention_dropout": 0.0,
    }
    mixtral = dict(common)
    mixtral.update({
        "architectures": ["MixtralForCausalLM"],
        "model_type": "mixtral",
        "num_hidden_layers": 2,
        "intermediate_size": 48,
        "num_local_experts": 8,
        "num_experts_per_tok": 2,
        "rope_theta": 1000000.0,
        "rms_norm_eps": 1e-05,
        "sliding_window": None,
        "router_aux_loss_coef": 0.02,
        "tie_word_embeddings": False,
    })
    qwen2 = dict(common)
    qwen2.update({
        "architectures": ["Qwen2MoeForCausalLM"],
        "model_type": "qwen2_moe",
        "num_hidden_layers": 4,
        # Layers 1 and 3 are sparse, 0 and 2 dense (intermediate_size).
        "decoder_sparse_step": 2,
        "mlp_only_layers": [],
        "intermediate_size": 80,
        "moe_intermediate_size": 32,
        "shared_expert_intermediate_size": 56,
        "num_experts": 8,
        "num_experts_per_tok": 2,
        "norm_topk_prob": False,
        "rope_theta": 10000.0,
        "rms_norm_eps": 1e-06,
        "use_sliding_window": False,
        "sliding_window": 4096,
        "max_window_layers": 4,
        "tie_word_embeddings": False,
    })
    qwen3 = dict(common)
    qwen3.update({
        "architectures": ["Qwen3MoeForCausalLM"],
        "model_type": "qwen3_moe",
        "num_hidden_layers": 3,
        # head_dim deliberately differs from hidden / heads (16), as in the real Qwen3 models.
        "head_dim": 32,
        "decoder_sparse_step": 1,
        "mlp_only_layers": [1],
        "intermediate_size": 96,
        "moe_intermediate_size": 40,  # 2 x 40 != 64 and 40 != 64: fused slabs are not square
        "num_experts": 6,
        "num_experts_per_tok": 2,
        "norm_topk_prob": True,
        "rope_theta": 1000000.0,
        "rms_norm_eps": 1e-06,
        "attention_bias": False,
        "use_sliding_window": False,
        "sliding_window": None,
        "tie_word_embeddings": False,
    })
    olmoe = dict(common)
    olmoe.update({
        "architectures": ["OlmoeForCausalLM"],
        "model_type": "olmoe",
        "num_hidden_layers": 2,
        "intermediate_size": 40,
        "num_experts": 8,
        "num_experts_per_tok": 2,
        "norm_topk_prob": False,
        "rope_theta": 10000.0,
        "rms_norm_eps": 1e-05,
        "attention_bias": False,
        # Normed q/k and v are ~unit scale, so 1.5 clips a good share of entries.
        "clip_qkv": 1.5,
        "tie_word_embeddings": False,
    })
    return {"mixtral": mixtral, "qwen2_moe": qwen2, "qwen3_moe": qwen3, "olmoe": olmoe}


def head_dim_of(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def num_experts_of(cfg):
    return cfg["num_local_experts"] if cfg["model_type"] == "mixtral" else cfg["num_experts"]


def expert_inter_of(cfg):
    if cfg["model_type"] in ("qwen2_moe", "qwen3_moe"):
        return cfg["moe_intermediate_size"]
    return cfg["intermediate_size"]


def is_sparse_layer(cfg, layer):
    if cfg["model_type"] not in ("qwen2_moe", "qwen3_moe"):
        return True
    step = cfg.get("decoder_sparse_step", 1)
    return (layer not in (cfg.get("mlp_only_layers") or [])
            and num_experts_of(cfg) > 0 and (layer + 1) % step == 0)


# ------------------------------------------------------------------------------------------------
# Weights: a canonical structure (per-expert matrices), float32 values drawn from a fixed seed.

def make_weights(torch, cfg, seed):
    gen = torch.Generator().manual_seed(seed)

    def randn(*shape, std):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * std).to(torch.float32)

    def norm_weight(n):
        # Around 1 but not 1, so a missing or misplaced norm weight shows.
        return (1.0 + torch.randn(n, generator=gen, dtype=torch.float64) * 0.2).to(torch.float32)

    def linear(out_features, in_features):
        return randn(out_features, in_features, std=1.0 / math.sqrt(in_features))

    family = cfg["model_type"]
    hidden = cfg["hidden_size"]
    heads, kv_heads, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim_of(cfg)
    experts, inter = num_experts_of(cfg), expert_inter_of(cfg)
    # Small next to what the layers add, so a tied head does not just echo the current token.
    w = {"embed": randn(cfg["vocab_size"], hidden, std=0.3), "layers": []}
    for layer in range(cfg["num_hidden_layers"]):
        lw = {
            "input_norm": norm_weight(hidden),
            "post_norm": norm_weight(hidden),
            "q": linear(heads * hd, hidden),
            "k": linear(kv_heads * hd, hidden),
            "v": linear(kv_heads * hd, hidden),
            "o": linear(hidden, heads * hd),
        }
        if family == "qwen2_moe":
            lw["q_bias"] = randn(heads * hd, std=0.3)
            lw["k_bias"] = randn(kv_heads * hd, std=0.3)
            lw["v_bias"] = randn(kv_heads * hd, std=0.3)
        if family == "qwen3_moe":
            lw["q_norm"], lw["k_norm"] = norm_weight(hd), norm_weight(hd)
        if family == "olmoe":
            lw["q_norm"], lw["k_norm"] = norm_weight(heads * hd), norm_weight(kv_heads * hd)
        if is_sparse_layer(cfg, layer):
            # Router logits with a spread of ~2: clear top-k choices, still a real softmax.
            lw["router"] = randn(experts, hidden, std=2.0 / math.sqrt(hidden))
            lw["experts"] = [
                {"gate": linear(inter, hidden), "up": linear(inter, hidden),
                 "down": linear(hidden, inter)} for _ in range(experts)]
            if family == "qwen2_moe":
                si = cfg["shared_expert_intermediate_size"]
                lw["shared"] = {"gate": linear(si, hidden), "up": linear(si, hidden),
                                "down": linear(hidden, si)}
                lw["shared_gate"] = randn(1, hidden, std=1.0 / math.sqrt(hidden))
        else:
            di = cfg["intermediate_size"]
            lw["dense"] = {"gate": linear(di, hidden), "up": linear(di, hidden),
                           "down": linear(hidden, di)}
        w["layers"].append(lw)
    w["final_norm"] = norm_weight(hidden)
    w["lm_head"] = None if cfg.get("tie_word_embeddings") else linear(cfg["vocab_size"], hidden)
    return w


def map_weights(w, fn):
    if isinstance(w, dict):
        return {k: map_weights(v, fn) for k, v in w.items()}
    if isinstance(w, list):
        return [map_weights(v, fn) for v in w]
    if w is None:
        return None
    return fn(w)


# ------------------------------------------------------------------------------------------------
# Checkpoint writing: HF tensor names, safetensors by hand (u64 LE header length, JSON, data).

def checkpoint_tensors(torch, cfg, w, layout):
    """[(name, tensor)] in HF naming. layout: split | fused | fused_legacy."""
    family = cfg["model_type"]
    out = [("model.embed_tokens.weight", w["embed"])]
    for i, lw in enumerate(w["layers"]):
        p = f"model.layers.{i}."
        out += [(p + "input_layernorm.weight", lw["input_norm"]),
                (p + "post_attention_layernorm.weight", lw["post_norm"])]
        for proj in ("q", "k", "v", "o"):
            out.append((p + f"self_attn.{proj}_proj.weight", lw[proj]))
            if proj + "_bias" in lw:
                out.append((p + f"self_attn.{proj}_proj.bias", lw[proj + "_bias"]))
        if "q_norm" in lw:
            out += [(p + "self_attn.q_norm.weight", lw["q_norm"]),
                    (p + "self_attn.k_norm.weight", lw["k_norm"])]
        if "dense" in lw:
            for part in ("gate", "up", "down"):
                out.append((p + f"mlp.{part}_proj.weight", lw["dense"][part]))
            continue
        if family == "mixtral":
            m = p + "block_sparse_moe."
            out.append((m + "gate.weight", lw["router"]))
            for e, ex in enumerate(lw["experts"]):
                out += [(m + f"experts.{e}.w1.weight", ex["gate"]),
                        (m + f"experts.{e}.w2.weight", ex["down"]),
                        (m + f"experts.{e}.w3.weight", ex["up"])]
        else:
            m = p + "mlp."
            out.append((m + "gate.weight", lw["router"]))
            if layout == "split":
                for e, ex in enumerate(lw["experts"]):
                    for part in ("gate", "up", "down"):
                        out.append((m + f"experts.{e}.{part}_proj.weight", ex[part]))
            else:
                # transformers v5: gate_up_proj [E, 2I, H] (gate rows first, then up), down_proj
                # [E, H, I]. The legacy orientation (Llama4-style bmm weights) is the transpose of
                # each slab: [E, H, 2I] and [E, I, H].
                gate_up = torch.stack([torch.cat([ex["gate"], ex["up"]], 0)
                                       for ex in lw["experts"]])
                down = torch.stack([ex["down"] for ex in lw["experts"]])
                if layout == "fused_legacy":
                    gate_up, down = gate_up.transpose(1, 2), down.transpose(1, 2)
                out += [(m + "experts.gate_up_proj", gate_up.contiguous()),
                        (m + "experts.down_proj", down.contiguous())]
            if "shared" in lw:
                for part in ("gate", "up", "down"):
                    out.append((m + f"shared_expert.{part}_proj.weight", lw["shared"][part]))
                out.append((m + "shared_expert_gate.weight", lw["shared_gate"]))
    out.append(("model.norm.weight", w["final_norm"]))
    if w["lm_head"] is not None:
        out.append(("lm_head.weight", w["lm_head"]))
    return out


def tensor_bytes(torch, t, dtype):
    flat = t.contiguous().reshape(-1)
    if dtype == "F32":
        return struct.pack("<%df" % flat.numel(), *flat.to(torch.float32).tolist())
    if dtype == "BF16":
        # Round-to-nearest-even to BF16 by torch, then the raw 16 bits.
        bits = flat.to(torch.float32).to(torch.bfloat16).view(torch.int16).tolist()
        return struct.pack("<%dh" % len(bits), *bits)
    raise ValueError(dtype)


def write_safetensors(torch, path, tensors, dtype):
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        data = tensor_bytes(torch, t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-len(text)) % 8)  # the reference writer pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    return offset


def read_safetensors(torch, path):
    """Minimal reader, used only to prove the writer round-trips."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        chunk = data[begin:end]
        if info["dtype"] == "F32":
            values = torch.tensor(struct.unpack("<%df" % (len(chunk) // 4), chunk),
                                  dtype=torch.float32)
        else:
            bits = torch.tensor(struct.unpack("<%dh" % (len(chunk) // 2), chunk), dtype=torch.int16)
            values = bits.view(torch.bfloat16).to(torch.float32)
        out[name] = values.reshape(info["shape"])
    return out


def write_checkpoint(torch, folder, cfg, w, dtype, layout, shards):
    os.makedirs(folder, exist_ok=True)
    config = dict(cfg)
    config["torch_dtype"] = "float32" if dtype == "F32" else "bfloat16"
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    tensors = checkpoint_tensors(torch, cfg, w, layout)
    if shards == 1:
        files = {"model.safetensors": tensors}
    else:
        # Split in the middle of the list, so one layer's tensors straddle the two files.
        cut = len(tensors) // 2
        files = {"model-00001-of-00002.safetensors": tensors[:cut],
                 "model-00002-of-00002.safetensors": tensors[cut:]}
    total, weight_map = 0, {}
    for name, part in files.items():
        total += write_safetensors(torch, os.path.join(folder, name), part, dtype)
        weight_map.update({tensor: name for tensor, _ in part})
    if shards > 1:
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    # The writer must round-trip exactly, or a failure below would be the oracle's fault.
    for name, part in files.items():
        back = read_safetensors(torch, os.path.join(folder, name))
        for tensor, value in part:
            expect = value.to(torch.float32)
            if dtype == "BF16":
                expect = expect.to(torch.bfloat16).to(torch.float32)
            if tensor not in back or not torch.equal(back[tensor], expect):
                raise RuntimeError(f"safetensors writer did not round-trip {tensor}")


# ------------------------------------------------------------------------------------------------
# The oracle forward pass (float64, no KV cache: the full sequence every call).

class Oracle:
    def __init__(self, torch, cfg, w, round_bf16_inputs=False):
        self.torch = torch
        self.cfg = cfg
        self.w = map_weights(w, lambda t: t.to(torch.float64))
        self.round_inputs = round_bf16_inputs
        # Smallest gap between the k-th and (k+1)-th router logit over every routed token.
        self.min_router_margin = float("inf")

    def linear(self, x, weight, bias=None):
        if self.round_inputs:
            x = x.to(self.torch.bfloat16).to(self.torch.float64)
        y = x @ weight.T
        return y if bias is None else y + bias

    def rms_norm(self, x, weight):
        eps = self.cfg["rms_norm_eps"]
        return x * self.torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight

    def rope(self, x):
        # x [T, heads, d]; HF rotate_half convention.
        torch = self.torch
        t, d = x.shape[0], x.shape[-1]
        theta = self.cfg["rope_theta"]
        inv_freq = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
        freqs = torch.arange(t, dtype=torch.float64)[:, None] * inv_freq[None, :]
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
        rotated = torch.cat([-x[..., d // 2:], x[..., :d // 2]], -1)
        return x * cos + rotated * sin

    def attention(self, x, lw):
        torch, cfg = self.torch, self.cfg
        family = cfg["model_type"]
        t = x.shape[0]
        heads, kv_heads = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        hd = head_dim_of(cfg)
        q = self.linear(x, lw["q"], lw.get("q_bias"))
        k = self.linear(x, lw["k"], lw.get("k_bias"))
        v = self.linear(x, lw["v"], lw.get("v_bias"))
        if family == "olmoe":
            q, k = self.rms_norm(q, lw["q_norm"]), self.rms_norm(k, lw["k_norm"])
            clip = cfg.get("clip_qkv")
            if clip is not None:
                q, k, v = q.clamp(-clip, clip), k.clamp(-clip, clip), v.clamp(-clip, clip)
        q, k, v = q.view(t, heads, hd), k.view(t, kv_heads, hd), v.view(t, kv_heads, hd)
        if family == "qwen3_moe":
            q, k = self.rms_norm(q, lw["q_norm"]), self.rms_norm(k, lw["k_norm"])
        q, k = self.rope(q), self.rope(k)
        group = heads // kv_heads
        k = k.repeat_interleave(group, dim=1)  # = repeat_kv: head h reads kv head h // group
        v = v.repeat_interleave(group, dim=1)
        scores = torch.einsum("qhd,khd->hqk", q, k) * hd ** -0.5
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
        probs = torch.softmax(scores, -1)
        out = torch.einsum("hqk,khd->qhd", probs, v).reshape(t, heads * hd)
        return self.linear(out, lw["o"])

    def swiglu(self, x, m):
        torch = self.torch
        return self.linear(torch.nn.functional.silu(self.linear(x, m["gate"])) *
                           self.linear(x, m["up"]), m["down"])

    def moe(self, x, lw):
        torch, cfg = self.torch, self.cfg
        top_k = cfg["num_experts_per_tok"]
        # Mixtral renormalises unconditionally; the others follow norm_topk_prob (default false).
        normalise = cfg["model_type"] == "mixtral" or bool(cfg.get("norm_topk_prob", False))
        router_logits = self.linear(x, lw["router"])
        ordered = router_logits.sort(-1, descending=True).values
        if ordered.shape[-1] > top_k:
            margin = (ordered[:, top_k - 1] - ordered[:, top_k]).min().item()
            self.min_router_margin = min(self.min_router_margin, margin)
        probs = torch.softmax(router_logits, -1)
        weights, chosen = probs.topk(top_k, -1)
        if normalise:
            weights = weights / weights.sum(-1, keepdim=True)
        out = torch.zeros_like(x)
        for token in range(x.shape[0]):
            for slot in range(top_k):
                expert = lw["experts"][int(chosen[token, slot])]
                out[token] += weights[token, slot] * self.swiglu(x[token:token + 1], expert)[0]
        if "shared" in lw:
            gate = torch.sigmoid(self.linear(x, lw["shared_gate"]))  # [T, 1]
            out = out + gate * self.swiglu(x, lw["shared"])
        return out

    def logits(self, ids):
        """Logits [T, vocab] for every position of `ids`."""
        torch = self.torch
        w = self.w
        x = w["embed"][torch.tensor(ids, dtype=torch.long)]
        for lw in w["layers"]:
            x = x + self.attention(self.rms_norm(x, lw["input_norm"]), lw)
            h = self.rms_norm(x, lw["post_norm"])
            x = x + (self.swiglu(h, lw["dense"]) if "dense" in lw else self.moe(h, lw))
        x = self.rms_norm(x, w["final_norm"])
        head = w["lm_head"] if w["lm_head"] is not None else w["embed"]
        return self.linear(x, head)

    def greedy(self, prompt, new_tokens):
        ids, generated = list(prompt), []
        for _ in range(new_tokens):
            token = int(self.logits(ids)[-1].argmax())
            generated.append(token)
            ids.append(token)
        return generated


def top2_margin(row):
    ordered = row.sort(descending=True).values
    return float(ordered[0] - ordered[1])


# ------------------------------------------------------------------------------------------------
# Cases

def cases():
    out = []
    for family in ("mixtral", "qwen2_moe", "qwen3_moe", "olmoe"):
        for dtype in ("F32", "BF16"):
            out.append({"name": f"{family}/{dtype.lower()}", "family": family, "dtype": dtype,
                        "layout": "split", "shards": 1})
    out += [
        {"name": "qwen3_moe/f32/fused", "family": "qwen3_moe", "dtype": "F32", "layout": "fused",
         "shards": 1},
        {"name": "qwen3_moe/f32/fused-legacy", "family": "qwen3_moe", "dtype": "F32",
         "layout": "fused_legacy", "shards": 1},
        {"name": "qwen3_moe/f32/sharded", "family": "qwen3_moe", "dtype": "F32", "layout": "split",
         "shards": 2},
        {"name": "qwen3_moe/bf16/fused-sharded", "family": "qwen3_moe", "dtype": "BF16",
         "layout": "fused", "shards": 2},
        # Tied head: no lm_head.weight in the file, the LM head is embed_tokens. Its own seed, as
        # tying changes which seeds are well conditioned.
        {"name": "mixtral/f32/tied", "family": "mixtral", "dtype": "F32", "layout": "split",
         "shards": 1, "config": {"tie_word_embeddings": True}, "seed": 27},
    ]
    return out


def run_engine(binary, backend, folder, logits_path, timeout):
    command = [binary, "run", "--model", folder, "--prompt-ids", ",".join(map(str, PROMPT)),
               "--max-new-tokens", str(NEW_TOKENS), "--logits-out", logits_path]
    if backend:
        command += ["--backend", backend]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"engine exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    with open(logits_path) as f:
        result = json.load(f)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    printed = [int(v) for v in re.findall(r"-?\d+", lines[-1])] if lines else []
    return result, printed


def run_case(torch, case, configs, args, workdir):
    cfg = dict(configs[case["family"]], **case.get("config", {}))
    dtype = case["dtype"]
    # One seed per family: the layout cases carry the very same model as qwen3_moe/f32.
    weights = make_weights(torch, cfg, case.get("seed", SEEDS[case["family"]]))
    if dtype == "BF16":
        weights = map_weights(weights, lambda t: t.to(torch.bfloat16).to(torch.float32))
    folder = os.path.join(workdir, case["name"].replace("/", "-"))
    write_checkpoint(torch, folder, cfg, weights, dtype, case["layout"], case["shards"])

    started = time.monotonic()
    result, printed = run_engine(args.binary, args.backend, folder, folder + ".logits.json",
                                 args.timeout)
    engine_s = time.monotonic() - started

    problems = []
    vocab = cfg["vocab_size"]
    engine_ids = result.get("generated_ids")
    rows = result.get("logits")
    if result.get("prompt_ids") != PROMPT:
        problems.append(f"prompt_ids {result.get('prompt_ids')} != {PROMPT}")
    if not isinstance(engine_ids, list) or len(engine_ids) != NEW_TOKENS:
        raise RuntimeError(f"generated_ids {engine_ids!r}: expected {NEW_TOKENS} ids")
    if not isinstance(rows, list) or len(rows) != NEW_TOKENS or any(len(r) != vocab for r in rows):
        raise RuntimeError(f"logits: expected {NEW_TOKENS} rows of {vocab} values")
    if printed != engine_ids:
        problems.append(f"stdout ids {printed} != generated_ids {engine_ids}")
    if any(not isinstance(v, (int, float)) for r in rows for v in r):
        raise RuntimeError("logits hold a non-number (NaN or infinity written as null?)")
    engine = torch.tensor(rows, dtype=torch.float64)
    if not bool(torch.isfinite(engine).all()):
        raise RuntimeError("logits hold NaN or infinity")
    for i, token in enumerate(engine_ids):
        if int(engine[i].argmax()) != token:
            problems.append(f"generated_ids[{i}]={token} is not the argmax of logits[{i}]")

    oracle = Oracle(torch, cfg, weights)
    oracle_ids = oracle.greedy(PROMPT, NEW_TOKENS)
    # Row i of the engine file came from prompt + engine_ids[:i]: score that same trajectory with
    # one causal pass, so a near-tie flip cannot cascade into unrelated rows.
    sequence = PROMPT + engine_ids[:-1]
    expected = oracle.logits(sequence)[len(PROMPT) - 1:]
    scale = max(1.0, float(expected.abs().max()))
    diff = (engine - expected).abs()
    max_diff = float(diff.max())
    rel = max_diff / scale
    tolerance = TOL_F32 if dtype == "F32" else TOL_BF16
    if rel > tolerance:
        row = int(diff.max(-1).values.argmax())
        problems.append(f"logits max abs diff {max_diff:.3e} ({rel:.2e} of scale {scale:.2f}) "
                        f"> tolerance {tolerance:.0e} (worst row {row})")
    if oracle_ids != engine_ids:
        first = next(i for i, (a, b) in enumerate(zip(oracle_ids, engine_ids)) if a != b)
        row = expected[first]
        gap = float(row.max() - row[engine_ids[first]])
        note = "near-tie flip" if gap <= tolerance * scale else "not a near tie"
        problems.append(f"ids differ at step {first}: oracle {oracle_ids[first]}, engine "
                        f"{engine_ids[first]} (oracle logit gap {gap:.3e}: {note})")
    token_margin = min(top2_margin(r) for r in expected) / scale

    warnings = []
    if oracle.min_router_margin < NEAR_TIE_ROUTER_LOGITS:
        warnings.append(f"router near tie ({oracle.min_router_margin:.1e} logits)")
    if token_margin < NEAR_TIE_TOKEN_REL:
        warnings.append(f"greedy near tie ({token_margin:.1e} of scale)")
    budget = ""
    if dtype == "BF16":
        # What a correct engine that rounds every matmul input to BF16 would be off by.
        rounded = Oracle(torch, cfg, weights, round_bf16_inputs=True)
        budget_diff = float((rounded.logits(sequence)[len(PROMPT) - 1:] - expected).abs().max())
        budget = f", bf16-act budget {budget_diff / scale:.1e}"
        if budget_diff / scale > tolerance / 3:
            warnings.append("bf16-act budget is over a third of the tolerance")
        if rounded.greedy(PROMPT, NEW_TOKENS) != oracle_ids:
            warnings.append("BF16-rounded activations change the greedy ids")

    status = "FAIL" if problems else "PASS"
    print(f"{status} {case['name']:<28} ids {'==' if oracle_ids == engine_ids else '!='}, "
          f"max|dlogit| {max_diff:.2e} = {rel:.1e} of scale {scale:.1f} (tol {tolerance:.0e}); "
          f"margins: top-2 token {token_margin:.1e} of scale, router {oracle.min_router_margin:.2f}"
          f"{budget}; engine {engine_s:.2f}s", flush=True)
    for warning in warnings:
        print(f"     WARNING {case['name']}: {warning}: the case is ill-conditioned", flush=True)
    for problem in problems:
        print(f"     {case['name']}: {problem}", flush=True)
    if problems:
        print(f"     engine ids {engine_ids}\n     oracle ids {oracle_ids}", flush=True)
    return not problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True,
                        help="crossroads (or crossroads-engine): anything with the `run` verb")
    parser.add_argument("--workdir", help="where checkpoints go (default: a temporary folder "
                        "in the current directory, removed when every case passes)")
    parser.add_argument("--case", action="append", default=[],
                        help="run only cases whose name contains this (repeatable)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per engine run")
    parser.add_argument("--backend", help="passed on as `run --backend B` (default: the binary's)")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        print("SKIP: python3-torch not installed (run with Debian's /usr/bin/python3)")
        return SKIP_CODE
    torch.set_num_threads(1)  # shared build machines; the models are tiny

    if not (os.path.isfile(args.binary) and os.access(args.binary, os.X_OK)):
        print(f"error: --binary {args.binary} is not an executable file", file=sys.stderr)
        return 2

    selected = [c for c in cases() if not args.case or any(s in c["name"] for s in args.case)]
    if not selected:
        print("error: no case matches --case", file=sys.stderr)
        return 2
    configs = family_configs()
    workdir = args.workdir or tempfile.mkdtemp(prefix="hf-oracle-", dir=os.getcwd())
    os.makedirs(workdir, exist_ok=True)
    print(f"oracle: torch {torch.__version__}, binary {args.binary}"
          f"{' --backend ' + args.backend if args.backend else ''}, prompt {PROMPT}, "
          f"{NEW_TOKENS} new tokens, checkpoints in {workdir}", flush=True)

    started = time.monotonic()
    passed = 0
    for case in selected:
        try:
            ok = run_case(torch, case, configs, args, workdir)
        except Exception as error:  # one broken case must not hide the others
            print(f"FAIL {case['name']:<28} {type(error).__name__}: {error}", flush=True)
            ok = False
        passed += ok
    elapsed = time.monotonic() - started
    print(f"oracle: {passed}/{len(selected)} cases passed in {elapsed:.1f}s", flush=True)
    if passed == len(selected):
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        return 0
    print(f"oracle: checkpoints kept in {workdir}", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
