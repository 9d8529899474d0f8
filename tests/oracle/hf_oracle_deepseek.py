#!/usr/bin/python3
"""Oracle test for DeepSeek-V2/V3: tiny Hugging Face checkpoints, the HF forward pass
re-implemented in PyTorch float64, and `crossroads-engine reference` compared against it.

For deepseek_v2 and deepseek_v3 this builds a tiny model with random weights from a fixed seed,
writes it as a real checkpoint folder (config.json with the real field names + model.safetensors
written by hand, F32 and BF16, and for deepseek_v3 also FP8 as DeepSeek-V3 ships it), runs
    BINARY reference --model DIR --prompt-ids ... --logits-out FILE
and compares every position's logits row with an independent float64 forward pass that follows
deepseek-ai's modeling_deepseek.py (the code the DeepSeek-V2 and V3 checkpoints ship) and
transformers' deepseek_v2 / deepseek_v3 models.

Run it with Debian's interpreter, which owns python3-torch (1.13):
    /usr/bin/python3 hf_oracle_deepseek.py --binary build/inference/crossroads-engine
Exit codes: 0 every case passed, 1 a case failed, 77 torch is not importable (skipped), 2 usage.

What the oracle implements (checked against modeling_deepseek.py of DeepSeek-V2/V3 and
transformers' modeling_deepseek_v3.py):
  * MLA. q = q_proj(x) when q_lora_rank is null, else q_b_proj(q_a_layernorm(q_a_proj(x))); q is
    viewed [T, heads, qk_nope + qk_rope] and split into q_nope, q_pe. kv_a_proj_with_mqa(x) is
    split into the latent [kv_lora_rank] and k_pe [qk_rope] (one RoPE key shared by every head);
    kv_b_proj(kv_a_layernorm(latent)) is viewed [T, heads, qk_nope + v_head] and split into
    k_nope, v. q_a_layernorm and kv_a_layernorm are built without the config's eps: 1e-6.
  * RoPE on q_pe and k_pe only, in DeepSeek's interleaved layout: apply_rotary_pos_emb first
    permutes x.view(..., d/2, 2).transpose(-1, -2) (even elements, then odd), then the usual
    x*cos + rotate_half(x)*sin with emb = cat(freqs, freqs).
  * YaRN (rope_scaling type yarn): inv_freq = freq_inter*(1 - mask) + freq_extra*mask with
    freq_extra = theta^(-2i/d), freq_inter = freq_extra / factor, mask = 1 - clamp((i - low) /
    (high - low), 0, 1), low/high = floor/ceil of d*ln(orig / (beta*2*pi)) / (2 ln theta) for
    beta_fast/beta_slow, clamped to [0, d-1]; cos and sin times yarn_get_mscale(factor, mscale) /
    yarn_get_mscale(factor, mscale_all_dim), yarn_get_mscale(s, m) = 0.1*m*ln(s) + 1 (1 if s<=1).
  * Scores = [q_nope, q_pe] . [k_nope, k_pe] * softmax_scale, softmax_scale = (qk_nope +
    qk_rope)^-0.5, times yarn_get_mscale(factor, mscale_all_dim)^2 when mscale_all_dim is set;
    causal softmax; o_proj of [T, heads * v_head].
  * MoE (layer >= first_k_dense_replace and layer % moe_layer_freq == 0, else a dense MLP of
    intermediate_size). MoEGate: logits = gate(x); scores softmax (V2) or sigmoid (V3); selection
    greedy (top-k of the scores), group_limited_greedy (groups scored by their best expert) or
    noaux_tc (scores + e_score_correction_bias, groups scored by the sum of their best two);
    topk_group groups kept, the rest masked to 0.0, top-k of that. Weights are the UNBIASED
    scores of the chosen experts; V2: divided by their sum + 1e-20 if top_k > 1 and norm_topk_prob,
    else times routed_scaling_factor; V3: divided likewise, then always times the factor.
  * shared_experts: one MLP of moe_intermediate_size * n_shared_experts, ungated, added.
  * Decoder layer, final norm and lm_head as in the other families (tests/oracle/hf_oracle.py).
  * FP8 (the fp8 cases): DeepSeek-V3's release format. Every projection (attention, experts,
    shared experts, dense MLP) is F8_E4M3 (float8_e4m3fn: bias 7, no infinities, S.1111.111 NaN,
    exponent 0 subnormal) with an F32 `<name>_scale_inv` of [ceil(rows/br), ceil(cols/bc)] for
    quantization_config.weight_block_size [br, bc]; embed_tokens, lm_head, the router and the
    norms are BF16, e_score_correction_bias F32. The oracle quantises its random weights per
    block (scale = amax / 448) and dequantises as DeepSeek's weight_dequant does: the decoded
    E4M3 value (decoded here from the bits with integer ops: torch 1.13 has no float8) times the
    block's scale, the product in float32, then the float64 forward on those values.
"""

import argparse
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree from the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_oracle import (SKIP_CODE, map_weights, read_safetensors, tensor_bytes,  # noqa: E402
                       top2_margin, write_safetensors)

# Tolerances on max |engine - oracle| over every logits row, relative to the case's logit scale.
# The reference computes in double from the checkpoint's own values, as the oracle does in float64,
# and writes float32 logits: both dtypes differ by the float32 rounding of the output (~6e-8) plus
# double-precision noise. BF16 weights are exactly representable and the oracle runs on those same
# rounded values, so BF16 needs no wider tolerance: 1e-5 leaves 100x headroom for both, while the
# mistakes tried while writing this test move logits by 1e-2..1 of the scale (see --break in the
# report: no interleave, no cos/sin mscale, no softmax mscale, bias in the weights, no bias in the
# selection, no routed_scaling_factor, V3 scaled as V2 is, k_nope/value split swapped).
TOL_F32 = 1e-5
TOL_BF16 = 1e-5
# FP8: both sides compute from the same dequantised float32 weights (the FP8 value times its
# scale rounds to float32 in weight_dequant and in the engine alike), so as tight as BF16; the
# --break fp8-* mistakes move logits by far more (see the report).
TOL_FP8 = 1e-5
# weight_block_size of the fp8 cases: the release's 128 x 128 (one partial block per tensor at
# these widths), and 16 x 24, which gives every tensor several blocks with partial edge blocks in
# both directions (hidden 64 = 2 x 24 + 16).
FP8_BLOCKS = {"fp8": [16, 24], "fp8-128": [128, 128]}

PROMPT = [1, 5, 17, 42, 96, 3, 64, 28, 11, 80]
SEEDS = {"deepseek_v2": 40, "deepseek_v3": 15}
# Below this a case warns that it is ill-conditioned. Both sides compute in double from the same
# values, so their selection scores agree to ~1e-15: only a gap under ~1e-9 could flip a choice.
# (The softmax router of V2 over 8 experts gives gaps of order 1e-3 on these seeds.)
NEAR_TIE_SELECTION = 1e-6


def family_configs():
    common = {
        "hidden_size": 64,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "vocab_size": 97,
        "max_position_embeddings": 256,
        "hidden_act": "silu",
        "initializer_range": 0.02,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "kv_lora_rank": 32,
        "qk_nope_head_dim": 16,
        "qk_rope_head_dim": 8,
        "v_head_dim": 12,  # not qk_nope_head_dim: a swapped k_nope/v split cannot line up
        "moe_intermediate_size": 24,
        "intermediate_size": 80,
        "moe_layer_freq": 1,
        "first_k_dense_replace": 1,
        "rope_theta": 10000,
        "rms_norm_eps": 1e-06,
        "tie_word_embeddings": False,
        "use_cache": True,
    }
    v2 = dict(common)
    v2.update({
        "architectures": ["DeepseekV2ForCausalLM"],
        "model_type": "deepseek_v2",
        "num_hidden_layers": 3,
        "q_lora_rank": None,
        "n_routed_experts": 8,
        "n_shared_experts": 2,
        "num_experts_per_tok": 3,
        "n_group": 4,
        "topk_group": 2,
        "topk_method": "group_limited_greedy",
        "scoring_func": "softmax",
        "norm_topk_prob": False,
        "routed_scaling_factor": 1.5,
        "rope_scaling": None,
    })
    v3 = dict(common)
    v3.update({
        "architectures": ["DeepseekV3ForCausalLM"],
        "model_type": "deepseek_v3",
        "num_hidden_layers": 2,
        "q_lora_rank": 48,
        "n_routed_experts": 16,
        "n_shared_experts": 1,
        "num_experts_per_tok": 4,
        "n_group": 4,
        "topk_group": 2,
        "topk_method": "noaux_tc",
        "scoring_func": "sigmoid",
        "norm_topk_prob": True,
        "routed_scaling_factor": 2.5,
        # mscale != mscale_all_dim so that the cos/sin factor is not 1 (the release has 1.0, 1.0).
        "rope_scaling": {"type": "yarn", "factor": 40, "beta_fast": 32, "beta_slow": 1,
                         "mscale": 1.0, "mscale_all_dim": 0.8,
                         "original_max_position_embeddings": 4096},
    })
    return {"deepseek_v2": v2, "deepseek_v3": v3}


def is_moe_layer(cfg, layer):
    return (cfg["n_routed_experts"] is not None and layer >= cfg["first_k_dense_replace"]
            and layer % cfg["moe_layer_freq"] == 0)


def make_weights(torch, cfg, seed):
    gen = torch.Generator().manual_seed(seed)

    def randn(*shape, std):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * std).to(torch.float32)

    def norm_weight(n):
        return (1.0 + torch.randn(n, generator=gen, dtype=torch.float64) * 0.2).to(torch.float32)

    def linear(out_features, in_features):
        return randn(out_features, in_features, std=1.0 / math.sqrt(in_features))

    def mlp(inter):
        return {"gate": linear(inter, hidden), "up": linear(inter, hidden),
                "down": linear(hidden, inter)}

    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    nope, rope, vdim = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
    rank, qrank = cfg["kv_lora_rank"], cfg["q_lora_rank"]
    experts = cfg["n_routed_experts"]
    w = {"embed": randn(cfg["vocab_size"], hidden, std=0.3), "layers": []}
    for layer in range(cfg["num_hidden_layers"]):
        lw = {"input_norm": norm_weight(hidden), "post_norm": norm_weight(hidden)}
        if qrank is None:
            lw["q"] = linear(heads * (nope + rope), hidden)
        else:
            lw["q_a"], lw["q_a_norm"] = linear(qrank, hidden), norm_weight(qrank)
            lw["q_b"] = linear(heads * (nope + rope), qrank)
        # The RoPE key's columns a little larger, so that its rotation weighs in the scores.
        kv_a = linear(rank + rope, hidden)
        kv_a[rank:] *= 2.0
        lw["kv_a"], lw["kv_a_norm"] = kv_a, norm_weight(rank)
        lw["kv_b"] = linear(heads * (nope + vdim), rank)
        lw["o"] = linear(hidden, heads * vdim)
        if is_moe_layer(cfg, layer):
            lw["router"] = randn(experts, hidden, std=2.0 / math.sqrt(hidden))
            if cfg["topk_method"] == "noaux_tc":
                # Comparable with the sigmoid scores' spread: it changes some choices.
                lw["bias"] = randn(experts, std=0.15)
            lw["experts"] = [mlp(cfg["moe_intermediate_size"]) for _ in range(experts)]
            lw["shared"] = mlp(cfg["moe_intermediate_size"] * cfg["n_shared_experts"])
        else:
            lw["dense"] = mlp(cfg["intermediate_size"])
        w["layers"].append(lw)
    w["final_norm"] = norm_weight(hidden)
    w["lm_head"] = linear(cfg["vocab_size"], hidden)
    return w


def checkpoint_tensors(cfg, w):
    out = [("model.embed_tokens.weight", w["embed"])]
    for i, lw in enumerate(w["layers"]):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        out += [(p + "input_layernorm.weight", lw["input_norm"]),
                (p + "post_attention_layernorm.weight", lw["post_norm"])]
        if "q" in lw:
            out.append((a + "q_proj.weight", lw["q"]))
        else:
            out += [(a + "q_a_proj.weight", lw["q_a"]),
                    (a + "q_a_layernorm.weight", lw["q_a_norm"]),
                    (a + "q_b_proj.weight", lw["q_b"])]
        out += [(a + "kv_a_proj_with_mqa.weight", lw["kv_a"]),
                (a + "kv_a_layernorm.weight", lw["kv_a_norm"]),
                (a + "kv_b_proj.weight", lw["kv_b"]), (a + "o_proj.weight", lw["o"])]
        m = p + "mlp."
        if "dense" in lw:
            out += [(m + f"{part}_proj.weight", lw["dense"][part])
                    for part in ("gate", "up", "down")]
            continue
        out.append((m + "gate.weight", lw["router"]))
        if "bias" in lw:
            out.append((m + "gate.e_score_correction_bias", lw["bias"]))
        for e, ex in enumerate(lw["experts"]):
            out += [(m + f"experts.{e}.{part}_proj.weight", ex[part])
                    for part in ("gate", "up", "down")]
        out += [(m + f"shared_experts.{part}_proj.weight", lw["shared"][part])
                for part in ("gate", "up", "down")]
    out.append(("model.norm.weight", w["final_norm"]))
    out.append(("lm_head.weight", w["lm_head"]))
    return out


def write_checkpoint(torch, folder, cfg, w, dtype):
    os.makedirs(folder, exist_ok=True)
    config = dict(cfg)
    config["torch_dtype"] = "float32" if dtype == "F32" else "bfloat16"
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    tensors = checkpoint_tensors(cfg, w)
    path = os.path.join(folder, "model.safetensors")
    write_safetensors(torch, path, tensors, dtype)
    back = read_safetensors(torch, path)
    for name, value in tensors:
        expect = value.to(torch.float32)
        if dtype == "BF16":
            expect = expect.to(torch.bfloat16).to(torch.float32)
        if name not in back or not torch.equal(back[name], expect):
            raise RuntimeError(f"safetensors writer did not round-trip {name}")


def e4m3_decode(torch, codes, exponent_bias=7):
    """float8_e4m3fn bytes (any integer tensor) -> float64, from the bits alone."""
    b = codes.to(torch.int64)
    exponent = (b >> 3) & 15
    mantissa = (b & 7).to(torch.float64)
    normal = (8.0 + mantissa) * torch.exp2((exponent - exponent_bias - 3).to(torch.float64))
    subnormal = mantissa * 2.0 ** (1 - exponent_bias - 3)
    value = torch.where(exponent == 0, subnormal, normal)
    value = torch.where((b & 0x7F) == 0x7F, torch.full_like(value, float("nan")), value)
    return torch.where((b & 0x80) != 0, -value, value)


def e4m3_encode(torch, values):
    """float64 tensor -> nearest float8_e4m3fn codes (uint8), saturating at 448."""
    magnitudes = e4m3_decode(torch, torch.arange(0, 127))  # codes 0..0x7e, increasing
    flat = values.reshape(-1)
    a = flat.abs().clamp(max=448.0).contiguous()
    upper = torch.searchsorted(magnitudes, a).clamp(max=126)
    lower = (upper - 1).clamp(min=0)
    pick = torch.where(a - magnitudes[lower] <= magnitudes[upper] - a, lower, upper)
    codes = pick | ((flat < 0).to(torch.int64) << 7)
    return codes.to(torch.uint8).reshape(values.shape)


def quantise_fp8(torch, w, block):
    """Blockwise as DeepSeek's act/weight quantisation: scale = amax / 448 per [br x bc] block.
    Returns (codes uint8 [rows, cols], scale_inv float32 [ceil(rows/br), ceil(cols/bc)])."""
    rows, cols = w.shape
    br, bc = block
    grid = (-(-rows // br), -(-cols // bc))
    codes = torch.zeros(rows, cols, dtype=torch.uint8)
    scale = torch.zeros(grid, dtype=torch.float32)
    for i in range(grid[0]):
        for j in range(grid[1]):
            part = w[i * br:(i + 1) * br, j * bc:(j + 1) * bc].to(torch.float64)
            s = float(torch.tensor(float(part.abs().max()) / 448.0, dtype=torch.float32))
            s = s if s > 0 else 1.0
            codes[i * br:(i + 1) * br, j * bc:(j + 1) * bc] = e4m3_encode(torch, part / s)
            scale[i, j] = s
    return codes, scale


def dequantise_fp8(torch, codes, scale, block, breaks=()):
    """DeepSeek's weight_dequant: y = x.float() * s, s expanded over each [br x bc] block; the
    product in float32."""
    rows, cols = codes.shape
    br, bc = block
    values = e4m3_decode(torch, codes, 8 if "fp8-fnuz" in breaks else 7).to(torch.float32)
    if "fp8-scale-row-shift" in breaks:  # the next block row's scales (a wrong block index)
        scale = torch.cat([scale[1:], scale[-1:]], 0)
    expanded = scale.repeat_interleave(br, 0)[:rows].repeat_interleave(bc, 1)[:, :cols]
    return values * expanded


def write_fp8_checkpoint(torch, folder, cfg, w, block, breaks=()):
    """DeepSeek-V3's release format (see the docstring). Replaces w's tensors, in place, with the
    values the checkpoint holds: the dequantised projections, the BF16-rounded rest."""
    os.makedirs(folder, exist_ok=True)
    config = dict(cfg)
    config["torch_dtype"] = "bfloat16"
    config["quantization_config"] = {"activation_scheme": "dynamic", "fmt": "e4m3",
                                     "quant_method": "fp8", "weight_block_size": list(block)}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    entries = []  # (name, dtype, shape, bytes)
    for name, t in checkpoint_tensors(cfg, w):
        if "_proj" in name:
            codes, scale = quantise_fp8(torch, t, block)
            if bool(((codes.to(torch.int64) & 0x7F) == 0x7F).any()):
                raise RuntimeError(f"FP8 quantiser produced NaN codes in {name}")
            entries.append((name, "F8_E4M3", list(t.shape), bytes(codes.reshape(-1).tolist())))
            entries.append((name + "_scale_inv", "F32", list(scale.shape),
                            tensor_bytes(torch, scale, "F32")))
            t.copy_(dequantise_fp8(torch, codes, scale, block, breaks))
        elif name.endswith("e_score_correction_bias"):
            entries.append((name, "F32", list(t.shape), tensor_bytes(torch, t, "F32")))
        else:
            t.copy_(t.to(torch.bfloat16).to(torch.float32))
            entries.append((name, "BF16", list(t.shape), tensor_bytes(torch, t, "BF16")))
    header, offset = {}, 0
    for name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, data in entries:
            f.write(data)


def yarn_get_mscale(scale=1.0, mscale=1.0):
    if scale <= 1:
        return 1.0
    return 0.1 * mscale * math.log(scale) + 1.0


class Oracle:
    # `breaks`: deliberate mistakes, to show that the comparison catches each (--break).
    def __init__(self, torch, cfg, w, breaks=()):
        self.torch, self.cfg, self.breaks = torch, cfg, set(breaks)
        self.w = map_weights(w, lambda t: t.to(torch.float64))
        # Smallest gap between the k-th and (k+1)-th selection score, and between the kept and the
        # dropped group scores, over every routed token.
        self.min_selection_margin = float("inf")

    def linear(self, x, weight):
        return x @ weight.T

    def rms_norm(self, x, weight, eps=None):
        eps = self.cfg["rms_norm_eps"] if eps is None else eps
        return x * self.torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight

    def rope_tables(self, t):
        torch, cfg = self.torch, self.cfg
        d, base = cfg["qk_rope_head_dim"], float(cfg["rope_theta"])
        freq_extra = 1.0 / base ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
        inv_freq, mscale = freq_extra, 1.0
        scaling = cfg.get("rope_scaling")
        if scaling is not None and "no-yarn" not in self.breaks:
            assert scaling["type"] == "yarn"
            factor = scaling["factor"]
            orig = scaling.get("original_max_position_embeddings", 4096)

            def correction_dim(rotations):
                return (d * math.log(orig / (rotations * 2 * math.pi))) / (2 * math.log(base))

            low = max(math.floor(correction_dim(scaling.get("beta_fast", 32))), 0)
            high = min(math.ceil(correction_dim(scaling.get("beta_slow", 1))), d - 1)
            if low == high:
                high += 0.001
            ramp = ((torch.arange(d // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
            mask = 1.0 - ramp
            inv_freq = (freq_extra / factor) * (1 - mask) + freq_extra * mask
            if "no-cos-mscale" not in self.breaks:
                mscale = (yarn_get_mscale(factor, scaling.get("mscale", 1)) /
                          yarn_get_mscale(factor, scaling.get("mscale_all_dim", 0)))
        freqs = torch.arange(t, dtype=torch.float64)[:, None] * inv_freq[None, :]
        emb = torch.cat([freqs, freqs], -1)
        return emb.cos() * mscale, emb.sin() * mscale

    def apply_rope(self, x, cos, sin):
        # x [heads, T, d]; DeepSeek's apply_rotary_pos_emb: pairs -> halves, then rotate_half.
        h, t, d = x.shape
        if "no-interleave" not in self.breaks:
            x = x.view(h, t, d // 2, 2).transpose(3, 2).reshape(h, t, d)
        rotated = self.torch.cat([-x[..., d // 2:], x[..., :d // 2]], -1)
        return x * cos[None] + rotated * sin[None]

    def softmax_scale(self):
        cfg = self.cfg
        scale = (cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]) ** -0.5
        scaling = cfg.get("rope_scaling")
        if scaling is not None and "no-softmax-mscale" not in self.breaks:
            mscale_all_dim = scaling.get("mscale_all_dim", 0)
            if mscale_all_dim:
                m = yarn_get_mscale(scaling["factor"], mscale_all_dim)
                scale = scale * m * m
        return scale

    def attention(self, x, lw):
        torch, cfg = self.torch, self.cfg
        t = x.shape[0]
        heads = cfg["num_attention_heads"]
        nope, rope, vdim = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
        rank = cfg["kv_lora_rank"]
        if "q" in lw:
            q = self.linear(x, lw["q"])
        else:
            q = self.linear(self.rms_norm(self.linear(x, lw["q_a"]), lw["q_a_norm"], 1e-6),
                            lw["q_b"])
        q = q.view(t, heads, nope + rope).transpose(0, 1)  # [heads, T, qk]
        q_nope, q_pe = q[..., :nope], q[..., nope:]
        compressed = self.linear(x, lw["kv_a"])
        latent, k_pe = compressed[:, :rank], compressed[:, rank:]
        kv = self.linear(self.rms_norm(latent, lw["kv_a_norm"], 1e-6), lw["kv_b"])
        kv = kv.view(t, heads, nope + vdim).transpose(0, 1)
        if "swap-nope-v" in self.breaks:
            v, k_nope = kv[..., :vdim], kv[..., vdim:]
        else:
            k_nope, v = kv[..., :nope], kv[..., nope:]
        cos, sin = self.rope_tables(t)
        q_pe = self.apply_rope(q_pe, cos, sin)
        k_pe = self.apply_rope(k_pe.view(1, t, rope), cos, sin).expand(heads, t, rope)
        query = torch.cat([q_nope, q_pe], -1)
        key = torch.cat([k_nope, k_pe], -1)
        scores = query @ key.transpose(1, 2) * self.softmax_scale()
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        probs = torch.softmax(scores.masked_fill(mask, float("-inf")), -1)
        out = (probs @ v).transpose(0, 1).reshape(t, heads * vdim)
        return self.linear(out, lw["o"])

    def swiglu(self, x, m):
        torch = self.torch
        return self.linear(torch.nn.functional.silu(self.linear(x, m["gate"])) *
                           self.linear(x, m["up"]), m["down"])

    def gate(self, x, lw):
        """MoEGate: (topk_idx [T, k], topk_weight [T, k])."""
        torch, cfg = self.torch, self.cfg
        k, experts = cfg["num_experts_per_tok"], cfg["n_routed_experts"]
        groups, method = cfg["n_group"], cfg["topk_method"]
        logits = self.linear(x, lw["router"])
        scores = logits.sigmoid() if cfg["scoring_func"] == "sigmoid" else logits.softmax(-1)
        choice = scores
        if method == "noaux_tc" and "no-bias-in-selection" not in self.breaks:
            choice = scores + lw["bias"][None, :]
        t = x.shape[0]
        if method == "greedy":
            masked = choice
        else:
            grouped = choice.view(t, groups, experts // groups)
            if method == "group_limited_greedy":
                group_scores = grouped.max(-1).values
            else:
                group_scores = grouped.topk(2, -1)[0].sum(-1)
            ordered = group_scores.sort(-1, descending=True).values
            gap = (ordered[:, cfg["topk_group"] - 1] - ordered[:, cfg["topk_group"]]).min().item()
            self.min_selection_margin = min(self.min_selection_margin, gap)
            group_idx = group_scores.topk(cfg["topk_group"], -1, sorted=False)[1]
            group_mask = torch.zeros_like(group_scores).scatter_(1, group_idx, 1)
            score_mask = group_mask[:, :, None].expand(t, groups, experts // groups).reshape(t, -1)
            masked = choice.masked_fill(~score_mask.bool(), 0.0)
        ordered = masked.sort(-1, descending=True).values
        self.min_selection_margin = min(self.min_selection_margin,
                                        (ordered[:, k - 1] - ordered[:, k]).min().item())
        topk_idx = masked.topk(k, -1, sorted=False)[1]
        source = choice if "bias-in-weights" in self.breaks else scores
        topk_weight = source.gather(1, topk_idx)
        normalise = k > 1 and cfg["norm_topk_prob"]
        if normalise:
            topk_weight = topk_weight / (topk_weight.sum(-1, keepdim=True) + 1e-20)
        v3 = cfg["model_type"] == "deepseek_v3" and "v3-scale-like-v2" not in self.breaks
        if (v3 or not normalise) and "no-routed-scale" not in self.breaks:
            topk_weight = topk_weight * cfg["routed_scaling_factor"]
        return topk_idx, topk_weight

    def moe(self, x, lw):
        topk_idx, topk_weight = self.gate(x, lw)
        out = self.torch.zeros_like(x)
        for token in range(x.shape[0]):
            for slot in range(topk_idx.shape[1]):
                expert = lw["experts"][int(topk_idx[token, slot])]
                out[token] += topk_weight[token, slot] * self.swiglu(x[token:token + 1], expert)[0]
        return out + self.swiglu(x, lw["shared"])

    def logits(self, ids):
        torch, w = self.torch, self.w
        x = w["embed"][torch.tensor(ids, dtype=torch.long)]
        for lw in w["layers"]:
            x = x + self.attention(self.rms_norm(x, lw["input_norm"]), lw)
            h = self.rms_norm(x, lw["post_norm"])
            x = x + (self.swiglu(h, lw["dense"]) if "dense" in lw else self.moe(h, lw))
        return self.linear(self.rms_norm(x, w["final_norm"]), w["lm_head"])


def cases():
    out = [{"name": f"{family}/{dtype.lower()}", "family": family, "dtype": dtype}
           for family in ("deepseek_v2", "deepseek_v3") for dtype in ("F32", "BF16")]
    # FP8 as DeepSeek-V3 ships it.
    out += [{"name": f"deepseek_v3/{fp8}", "family": "deepseek_v3", "dtype": "FP8",
             "block": block} for fp8, block in FP8_BLOCKS.items()]
    return out


def run_engine(binary, folder, logits_path, timeout):
    command = [binary, "reference", "--model", folder, "--prompt-ids",
               ",".join(map(str, PROMPT)), "--logits-out", logits_path]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"engine exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    with open(logits_path) as f:
        result = json.load(f)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return result, (int(lines[-1]) if lines else None)


def run_case(torch, case, configs, args, workdir):
    cfg = configs[case["family"]]
    dtype = case["dtype"]
    weights = make_weights(torch, cfg, SEEDS[case["family"]])
    if dtype == "BF16":
        weights = map_weights(weights, lambda t: t.to(torch.bfloat16).to(torch.float32))
    folder = os.path.join(workdir, case["name"].replace("/", "-"))
    if dtype == "FP8":
        # Writes the FP8 checkpoint and leaves in `weights` the values it holds (dequantised as
        # weight_dequant does; deliberately wrongly under --break fp8-*).
        write_fp8_checkpoint(torch, folder, cfg, weights, case["block"], args.breaks)
    else:
        write_checkpoint(torch, folder, cfg, weights, dtype)

    started = time.monotonic()
    result, printed = run_engine(args.binary, folder, folder + ".logits.json", args.timeout)
    engine_s = time.monotonic() - started

    problems = []
    rows = result.get("logits")
    if result.get("prompt_ids") != PROMPT:
        problems.append(f"prompt_ids {result.get('prompt_ids')} != {PROMPT}")
    if (not isinstance(rows, list) or len(rows) != len(PROMPT)
            or any(len(r) != cfg["vocab_size"] for r in rows)):
        raise RuntimeError(f"logits: expected {len(PROMPT)} rows of {cfg['vocab_size']} values")
    if any(not isinstance(v, (int, float)) for r in rows for v in r):
        raise RuntimeError("logits hold a non-number (NaN or infinity written as null?)")
    engine = torch.tensor(rows, dtype=torch.float64)
    if printed != int(engine[-1].argmax()):
        problems.append(f"printed token {printed} is not the argmax of the last row")

    oracle = Oracle(torch, cfg, weights, args.breaks)
    expected = oracle.logits(PROMPT)
    scale = max(1.0, float(expected.abs().max()))
    diff = (engine - expected).abs()
    max_diff = float(diff.max())
    rel = max_diff / scale
    tolerance = {"F32": TOL_F32, "BF16": TOL_BF16, "FP8": TOL_FP8}[dtype]
    if rel > tolerance:
        row = int(diff.max(-1).values.argmax())
        problems.append(f"logits max abs diff {max_diff:.3e} ({rel:.2e} of scale {scale:.2f}) "
                        f"> tolerance {tolerance:.0e} (worst position {row})")
    token_margin = min(top2_margin(r) for r in expected) / scale
    warnings = []
    if oracle.min_selection_margin < NEAR_TIE_SELECTION:
        warnings.append(f"routing near tie ({oracle.min_selection_margin:.1e})")

    status = "FAIL" if problems else "PASS"
    print(f"{status} {case['name']:<20} max|dlogit| {max_diff:.2e} = {rel:.1e} of scale "
          f"{scale:.1f} (tol {tolerance:.0e}); margins: selection "
          f"{oracle.min_selection_margin:.1e}, top-2 token {token_margin:.1e} of scale; "
          f"engine {engine_s:.2f}s", flush=True)
    for warning in warnings:
        print(f"     WARNING {case['name']}: {warning}: the case is ill-conditioned", flush=True)
    for problem in problems:
        print(f"     {case['name']}: {problem}", flush=True)
    return not problems


BREAKS = ("no-interleave", "no-yarn", "no-cos-mscale", "no-softmax-mscale", "bias-in-weights",
          "no-bias-in-selection", "no-routed-scale", "v3-scale-like-v2", "swap-nope-v",
          # FP8 cases: decoding as e4m3fnuz (exponent bias 8), the scales of the wrong block row
          # (fp8 only: at 128 x 128 every tensor of these tiny models has one block row).
          "fp8-fnuz", "fp8-scale-row-shift")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True, help="crossroads-engine (the `reference` verb)")
    parser.add_argument("--workdir", help="where checkpoints go (default: a temporary folder "
                        "in the current directory, removed when every case passes)")
    parser.add_argument("--case", action="append", default=[],
                        help="run only cases whose name contains this (repeatable)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per engine run")
    parser.add_argument("--break", dest="breaks", action="append", default=[], choices=BREAKS,
                        help="make the oracle deliberately wrong in this way (the case must "
                        "then fail: a check of the check)")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        print("SKIP: python3-torch not installed (run with Debian's /usr/bin/python3)")
        return SKIP_CODE
    torch.set_num_threads(1)

    if not (os.path.isfile(args.binary) and os.access(args.binary, os.X_OK)):
        print(f"error: --binary {args.binary} is not an executable file", file=sys.stderr)
        return 2
    selected = [c for c in cases() if not args.case or any(s in c["name"] for s in args.case)]
    if not selected:
        print("error: no case matches --case", file=sys.stderr)
        return 2
    configs = family_configs()
    workdir = args.workdir or tempfile.mkdtemp(prefix="hf-oracle-deepseek-", dir=os.getcwd())
    os.makedirs(workdir, exist_ok=True)
    print(f"oracle: torch {torch.__version__}, binary {args.binary}, prompt {PROMPT}"
          f"{', breaks ' + ','.join(args.breaks) if args.breaks else ''}, "
          f"checkpoints in {workdir}", flush=True)
    started = time.monotonic()
    passed = 0
    for case in selected:
        try:
            ok = run_case(torch, case, configs, args, workdir)
        except Exception as error:  # one broken case must not hide the others
            print(f"FAIL {case['name']:<20} {type(error).__name__}: {error}", flush=True)
            ok = False
        passed += ok
    print(f"oracle: {passed}/{len(selected)} cases passed in {time.monotonic() - started:.1f}s",
          flush=True)
    if passed == len(selected):
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        return 0
    print(f"oracle: checkpoints kept in {workdir}", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
