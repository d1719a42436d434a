#!/usr/bin/env python3
"""Tiny random gpt-oss checkpoints in the exact on-disk layout of the Hugging Face
gpt-oss checkpoints, plus goldens computed from those same files by Hugging Face
transformers' GptOssForCausalLM on its f32 path.

    python3 scripts/tiny_checkpoints.py --out crates/model/tests/fixtures

Writes, under --out:
  tiny-a/  config.json generation_config.json model.safetensors goldens.json
  tiny-b/  config.json generation_config.json model.safetensors.index.json
           model-0000{0,1,2}-of-00002.safetensors goldens.json

The checkpoint bytes depend only on numpy's PCG64 generator with fixed seeds and on
safetensors' writer; the goldens need torch and transformers (>= 5: `dtype=` and
`experts_implementation=` arguments of from_pretrained).

Layout (as in openai/gpt-oss-20b):
  * expert weights MXFP4: `*_blocks` uint8 [E, out, in/32, 16] and `*_scales` uint8
    [E, out, in/32]; gate_up out = 2*intermediate (gate/up interleaved: even rows gate,
    odd rows up), down out = hidden. Byte j of a block holds element 2j in its low
    nibble and element 2j+1 in its high nibble; scale value 2^(s-127).
  * everything else bf16; gate_up_proj_bias [E, 2*intermediate], down_proj_bias [E, hidden].

Options: --no-goldens writes the checkpoints only (needs torch and safetensors, not
transformers); --numpy-check also runs an independent numpy float64 forward pass of the
model and records its distance from transformers in goldens.json.
Run it on CPU (CUDA_VISIBLE_DEVICES= on a GPU machine).
"""

import argparse
import json
import math
import os
import sys

import numpy as np

# ---------------------------------------------------------------------------------------
# Tiny shapes. Everything else copies openai/gpt-oss-20b's config.json.

SPECS = {
    "tiny-a": dict(
        seed=1001,
        num_hidden_layers=3,
        hidden_size=64,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        intermediate_size=64,
        num_local_experts=4,
        num_experts_per_tok=2,
        sliding_window=8,
        vocab_size=300,
        shards=1,
    ),
    "tiny-b": dict(
        seed=2002,
        num_hidden_layers=5,
        hidden_size=96,
        num_attention_heads=6,
        num_key_value_heads=2,
        head_dim=16,
        intermediate_size=96,
        num_local_experts=8,
        num_experts_per_tok=4,
        sliding_window=8,
        vocab_size=300,
        shards=3,  # named like openai/gpt-oss-20b's: model-00000-of-00002 .. model-00002-of-00002
    ),
}

PROMPT_LENGTHS = [1, 5, 8, 20, 41]
MAX_NEW_TOKENS = 32
MIN_GAP = 0.01  # smallest top-1/top-2 logit gap accepted along a greedy run
MAX_DRAWS = 50

# Special ids of the real vocabulary, mapped into the tiny one (ids < 300).
TINY_BOS = 0  # <|startoftext|> 199998
TINY_PAD = 1  # <|endoftext|>   199999
TINY_EOS = 2  # <|return|>      200002
TINY_CALL = 3  # <|call|>       200012

# Real gpt-oss-20b value; kept so the file looks like the real one (the versions that
# produced the goldens are in goldens.json).
REAL_TRANSFORMERS_VERSION = "4.55.0.dev0"

FP4_VALUES = [+0.0, +0.5, +1.0, +1.5, +2.0, +3.0, +4.0, +6.0,
              -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]


def make_config(s):
    n = s["num_hidden_layers"]
    return {
        "architectures": ["GptOssForCausalLM"],
        "attention_bias": True,
        "attention_dropout": 0.0,
        "eos_token_id": TINY_EOS,
        "experts_per_token": s["num_experts_per_tok"],
        "head_dim": s["head_dim"],
        "hidden_act": "silu",
        "hidden_size": s["hidden_size"],
        "initial_context_length": 4096,
        "initializer_range": 0.02,
        "intermediate_size": s["intermediate_size"],
        "layer_types": ["sliding_attention" if i % 2 == 0 else "full_attention" for i in range(n)],
        "max_position_embeddings": 131072,
        "model_type": "gpt_oss",
        "num_attention_heads": s["num_attention_heads"],
        "num_experts_per_tok": s["num_experts_per_tok"],
        "num_hidden_layers": n,
        "num_key_value_heads": s["num_key_value_heads"],
        "num_local_experts": s["num_local_experts"],
        "output_router_logits": False,
        "pad_token_id": TINY_PAD,
        "quantization_config": {
            "modules_to_not_convert": [
                "model.layers.*.self_attn",
                "model.layers.*.mlp.router",
                "model.embed_tokens",
                "lm_head",
            ],
            "quant_method": "mxfp4",
        },
        "rms_norm_eps": 1e-05,
        "rope_scaling": {
            "beta_fast": 32.0,
            "beta_slow": 1.0,
            "factor": 32.0,
            "original_max_position_embeddings": 4096,
            "rope_type": "yarn",
            "truncate": False,
        },
        "rope_theta": 150000,
        "router_aux_loss_coef": 0.9,
        "sliding_window": s["sliding_window"],
        "swiglu_limit": 7.0,
        "tie_word_embeddings": False,
        "transformers_version": REAL_TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": s["vocab_size"],
    }


def make_generation_config():
    # Real: {"bos_token_id": 199998, "do_sample": true, "eos_token_id": [200002, 199999, 200012],
    #        "pad_token_id": 199999, "transformers_version": "4.55.0.dev0"}
    return {
        "bos_token_id": TINY_BOS,
        "do_sample": True,
        "eos_token_id": [TINY_EOS, TINY_PAD, TINY_CALL],
        "pad_token_id": TINY_PAD,
        "transformers_version": REAL_TRANSFORMERS_VERSION,
    }


# ---------------------------------------------------------------------------------------
# Weights


def to_bf16_bits(x):
    """float32 array -> uint16 bf16 bit patterns, round to nearest even (no NaNs here)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def bf16_bits_to_f32(b):
    return (b.astype(np.uint32) << 16).view(np.float32)


def make_weights(s):
    """Ordered dict name -> ("bf16", uint16 bits) or ("u8", uint8). Real names and shapes."""
    rng = np.random.default_rng(s["seed"])
    H, nh, nkv, hd = s["hidden_size"], s["num_attention_heads"], s["num_key_value_heads"], s["head_dim"]
    I, E, V = s["intermediate_size"], s["num_local_experts"], s["vocab_size"]
    w = {}

    def bf16(name, shape, mean, std):
        w[name] = ("bf16", to_bf16_bits(mean + std * rng.standard_normal(shape, dtype=np.float32)))

    def mxfp4(name, rows, cols):
        assert cols % 32 == 0
        w[name + "_blocks"] = ("u8", rng.integers(0, 256, size=(E, rows, cols // 32, 16), dtype=np.uint8))
        # 2^(s-127) for s in 119..124: 2^-8 .. 2^-3 per 32-value block
        w[name + "_scales"] = ("u8", rng.integers(119, 125, size=(E, rows, cols // 32), dtype=np.uint8))

    bf16("model.embed_tokens.weight", (V, H), 0.0, 1.0)
    dense = 0.8 / math.sqrt(H)  # 0.1 at H=64, 0.082 at H=96: q.k/sqrt(d) std ~0.6
    for i in range(s["num_hidden_layers"]):
        p = f"model.layers.{i}."
        bf16(p + "input_layernorm.weight", (H,), 1.0, 0.1)
        bf16(p + "self_attn.q_proj.weight", (nh * hd, H), 0.0, dense)
        bf16(p + "self_attn.q_proj.bias", (nh * hd,), 0.0, 0.05)
        bf16(p + "self_attn.k_proj.weight", (nkv * hd, H), 0.0, dense)
        bf16(p + "self_attn.k_proj.bias", (nkv * hd,), 0.0, 0.05)
        bf16(p + "self_attn.v_proj.weight", (nkv * hd, H), 0.0, dense)
        bf16(p + "self_attn.v_proj.bias", (nkv * hd,), 0.0, 0.05)
        bf16(p + "self_attn.o_proj.weight", (H, nh * hd), 0.0, dense)
        bf16(p + "self_attn.o_proj.bias", (H,), 0.0, 0.05)
        bf16(p + "self_attn.sinks", (nh,), 0.0, 1.0)
        bf16(p + "post_attention_layernorm.weight", (H,), 1.0, 0.1)
        bf16(p + "mlp.router.weight", (E, H), 0.0, dense)
        bf16(p + "mlp.router.bias", (E,), 0.0, 0.05)
        mxfp4(p + "mlp.experts.gate_up_proj", 2 * I, H)
        bf16(p + "mlp.experts.gate_up_proj_bias", (E, 2 * I), 0.0, 0.05)
        mxfp4(p + "mlp.experts.down_proj", H, I)
        bf16(p + "mlp.experts.down_proj_bias", (E, H), 0.0, 0.05)
    bf16("model.norm.weight", (H,), 1.0, 0.1)
    # Larger than the other dense weights so that the next-token distribution is peaked
    # enough for greedy decoding to be robust (logit std ~2.4 at H=64).
    bf16("lm_head.weight", (V, H), 0.0, 0.3)
    return w


def dequant_mxfp4(blocks, scales):
    """numpy: [E, out, in/32, 16] u8 + [E, out, in/32] u8 -> [E, out, in] f32."""
    lut = np.array(FP4_VALUES, dtype=np.float32)
    lo = lut[blocks & 0x0F]
    hi = lut[blocks >> 4]
    vals = np.stack([lo, hi], axis=-1).reshape(*blocks.shape[:-1], 32)  # element 2j low, 2j+1 high
    vals = vals * np.ldexp(np.float32(1.0), scales.astype(np.int32) - 127)[..., None].astype(np.float32)
    E, rows, nb, _ = vals.shape
    return vals.reshape(E, rows, nb * 32)


def weights_f32(w):
    """name -> float32 array in checkpoint layout; experts dequantized to [E, out, in]."""
    out = {}
    for name, (kind, arr) in w.items():
        if kind == "bf16":
            out[name] = bf16_bits_to_f32(arr)
        elif name.endswith("_blocks"):
            base = name[: -len("_blocks")]
            out[base] = dequant_mxfp4(arr, w[base + "_scales"][1])
    return out


def write_checkpoint(out_dir, name, s):
    import torch
    from safetensors.torch import save_file

    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith(".safetensors") or f.endswith(".json"):
            os.remove(os.path.join(d, f))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(make_config(s), f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(d, "generation_config.json"), "w") as f:
        json.dump(make_generation_config(), f, indent=2, sort_keys=True)
        f.write("\n")

    w = make_weights(s)

    def tens(kind, arr):
        if kind == "bf16":
            return torch.from_numpy(arr.view(np.int16).copy()).view(torch.bfloat16)
        return torch.from_numpy(arr.copy())

    names = list(w)
    nbytes = {k: w[k][1].nbytes for k in names}
    n_sh = s["shards"]
    if n_sh == 1:
        save_file({k: tens(*w[k]) for k in names}, os.path.join(d, "model.safetensors"),
                  metadata={"format": "pt"})
    else:
        # Contiguous split of the natural tensor order into n_sh parts of about equal bytes;
        # the cuts fall inside layers, as in the real checkpoint's shards.
        total = sum(nbytes.values())
        groups, cur, acc = [], [], 0
        for k in names:
            cur.append(k)
            acc += nbytes[k]
            if len(groups) < n_sh - 1 and acc >= total * (len(groups) + 1) / n_sh:
                groups.append(cur)
                cur = []
        groups.append(cur)
        assert len(groups) == n_sh
        weight_map = {}
        for gi, g in enumerate(groups):
            # openai/gpt-oss-20b names its 3 shards model-00000-of-00002 .. model-00002-of-00002
            fn = f"model-{gi:05d}-of-{n_sh - 1:05d}.safetensors"
            save_file({k: tens(*w[k]) for k in g}, os.path.join(d, fn), metadata={"format": "pt"})
            for k in g:
                weight_map[k] = fn
        index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f, indent=2)
            f.write("\n")
    return d, w


# ---------------------------------------------------------------------------------------
# Independent numpy reference (float64), from the architecture description.


def yarn_inv_freq(head_dim, base=150000.0, factor=32.0, orig=4096, beta_fast=32.0, beta_slow=1.0):
    pos_freqs = base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    extrap = 1.0 / pos_freqs
    interp = 1.0 / (factor * pos_freqs)

    def corr(n_rot):
        return head_dim * math.log(orig / (n_rot * 2 * math.pi)) / (2 * math.log(base))

    low, high = max(corr(beta_fast), 0.0), min(corr(beta_slow), head_dim - 1)  # truncate: false
    ramp = np.clip((np.arange(head_dim // 2, dtype=np.float64) - low) / (high - low), 0, 1)
    extrap_factor = 1 - ramp
    inv = interp * (1 - extrap_factor) + extrap * extrap_factor
    return inv, 0.1 * math.log(factor) + 1.0


def numpy_forward(cfg, W, ids):
    """float64 forward of the whole prompt; returns logits [T, V] and per-layer outputs."""
    H, nh, nkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    k_top, eps, win = cfg["num_experts_per_tok"], cfg["rms_norm_eps"], cfg["sliding_window"]
    W = {k: v.astype(np.float64) for k, v in W.items()}
    T = len(ids)
    x = W["model.embed_tokens.weight"][ids]
    inv, att = yarn_inv_freq(hd)
    ang = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]
    cos, sin = np.cos(ang) * att, np.sin(ang) * att

    def rope(t):  # [T, heads, hd], NeoX halves
        a, b = t[..., : hd // 2], t[..., hd // 2:]
        c, s_ = cos[:, None, :], sin[:, None, :]
        return np.concatenate([a * c - b * s_, b * c + a * s_], axis=-1)

    def rms(v, wt):
        return v / np.sqrt((v * v).mean(-1, keepdims=True) + eps) * wt

    layer_out, stats = [], {"gate_above_7": 0, "up_outside_7": 0, "gate_up_values": 0}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms(x, W[p + "input_layernorm.weight"])
        q = (h @ W[p + "self_attn.q_proj.weight"].T + W[p + "self_attn.q_proj.bias"]).reshape(T, nh, hd)
        k = (h @ W[p + "self_attn.k_proj.weight"].T + W[p + "self_attn.k_proj.bias"]).reshape(T, nkv, hd)
        v = (h @ W[p + "self_attn.v_proj.weight"].T + W[p + "self_attn.v_proj.bias"]).reshape(T, nkv, hd)
        q, k = rope(q), rope(k)
        sliding = cfg["layer_types"][i] == "sliding_attention"
        qi, ki = np.arange(T)[:, None], np.arange(T)[None, :]
        allowed = ki <= qi
        if sliding:
            allowed &= (qi - ki) < win
        o = np.zeros((T, nh, hd))
        for hh in range(nh):
            g = hh // (nh // nkv)
            sc = q[:, hh, :] @ k[:, g, :].T / math.sqrt(hd)
            sc = np.where(allowed, sc, -np.inf)
            sink = W[p + "self_attn.sinks"][hh]
            m = np.maximum(sc.max(-1, keepdims=True), sink)
            e = np.exp(sc - m)
            pr = e / (e.sum(-1, keepdims=True) + np.exp(sink - m))
            o[:, hh, :] = pr @ v[:, g, :]
        x = x + o.reshape(T, nh * hd) @ W[p + "self_attn.o_proj.weight"].T + W[p + "self_attn.o_proj.bias"]
        h = rms(x, W[p + "post_attention_layernorm.weight"])
        rl = h @ W[p + "mlp.router.weight"].T + W[p + "mlp.router.bias"]
        moe = np.zeros_like(x)
        for t in range(T):
            top = np.argsort(-rl[t], kind="stable")[:k_top]
            wts = np.exp(rl[t, top] - rl[t, top].max())
            wts /= wts.sum()
            for e_idx, wt in zip(top, wts):
                gu = W[p + "mlp.experts.gate_up_proj"][e_idx] @ h[t] + W[p + "mlp.experts.gate_up_proj_bias"][e_idx]
                stats["gate_above_7"] += int((gu[0::2] > 7).sum())
                stats["up_outside_7"] += int((np.abs(gu[1::2]) > 7).sum())
                stats["gate_up_values"] += gu.size // 2
                gate, up = np.minimum(gu[0::2], 7.0), np.clip(gu[1::2], -7.0, 7.0)
                act = (up + 1) * gate / (1 + np.exp(-1.702 * gate))
                dn = W[p + "mlp.experts.down_proj"][e_idx] @ act + W[p + "mlp.experts.down_proj_bias"][e_idx]
                moe[t] += wt * dn
        x = x + moe
        layer_out.append(x.copy())
    x = rms(x, W["model.norm.weight"])
    return x @ W["lm_head.weight"].T, layer_out, stats


# ---------------------------------------------------------------------------------------
# Goldens


def f32list(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


def log_softmax64(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def goldens(d, name, s, w, numpy_check):
    import torch
    import transformers
    from transformers import GenerationConfig, GptOssForCausalLM, Mxfp4Config

    torch.manual_seed(0)
    cfg = make_config(s)
    kw = dict(quantization_config=Mxfp4Config(dequantize=True), dtype=torch.float32,
              attn_implementation="eager", output_loading_info=True)
    try:
        model, info = GptOssForCausalLM.from_pretrained(d, experts_implementation="eager", **kw)
    except (TypeError, ValueError) as e:  # a transformers without selectable experts implementations
        print(f"[{name}] experts_implementation='eager' refused ({e!r}); loading with the default", file=sys.stderr)
        model, info = GptOssForCausalLM.from_pretrained(d, **kw)
    model.eval()
    # transformers 5.17's Mxfp4Dequantize dequantizes into bf16 whatever dtype= says (5.23 uses the
    # parameter's dtype); MXFP4 values are exact in bf16, so casting to f32 loses nothing.
    not_f32 = sorted(n for n, p in model.named_parameters() if p.dtype != torch.float32)
    if not_f32:
        print(f"[{name}] {len(not_f32)} parameters loaded as non-f32 (e.g. {not_f32[0]}); casting to f32",
              file=sys.stderr)
        model = model.float()
    report = {"params_loaded_not_f32_then_cast": not_f32,
"experts_implementation": str(getattr(model.config, "_experts_implementation", None)),
              "attn_implementation": str(model.config._attn_implementation),
              "loading_info": {k: sorted(map(str, v)) for k, v in info.items()}}
    for k, v in info.items():
        if v:
            print(f"[{name}] loading info {k}: {v}", file=sys.stderr)

    # Every parameter must equal what the file holds (bf16 -> f32 exactly, experts = numpy dequant).
    ref = weights_f32(w)
    params = dict(model.named_parameters())
    layouts, maxdiff = {}, 0.0
    for pname, p in params.items():
        t = p.detach().float().numpy()
        r = ref[pname]
        if pname.endswith(("gate_up_proj", "down_proj")):
            if t.shape == r.shape and t.shape != r.transpose(0, 2, 1).shape:
                layouts[pname.split(".")[-1]] = "[E, out, in] (as stored)"
            else:
                r = r.transpose(0, 2, 1)
                layouts[pname.split(".")[-1]] = "[E, in, out] (transposed from the file's [E, out, in])"
        assert t.shape == r.shape, (pname, t.shape, r.shape)
        maxdiff = max(maxdiff, float(np.abs(t - r).max()))
    missing = sorted(set(ref) - set(params))
    assert not missing, missing
    report["param_max_abs_diff_vs_file"] = maxdiff
    report["param_shapes_in_transformers"] = {k: list(v.shape) for k, v in params.items()}
    report["expert_param_layout_in_transformers"] = layouts
    print(f"[{name}] params vs file max |diff| = {maxdiff}", file=sys.stderr)
    assert maxdiff == 0.0

    rot = model.model.rotary_emb
    report["rope_parameters_as_loaded"] = {k: v for k, v in dict(model.config.rope_parameters).items()}
    report["rotary_inv_freq"] = f32list(rot.inv_freq)
    report["rotary_attention_scaling"] = float(rot.attention_scaling)

    # Per-layer outputs through forward hooks on the decoder layers.
    captured = []
    hooks = [layer.register_forward_hook(lambda m, a, o: captured.append(o[0] if isinstance(o, tuple) else o))
             for layer in model.model.layers]

    def greedy_by_recompute(ids):
        """Greedy by full recomputation (no cache) and each step's top-1/top-2 logit gap."""
        seq, gaps, toks = list(ids), [], []
        with torch.no_grad():
            for _ in range(MAX_NEW_TOKENS):
                t = torch.tensor([seq])
                lg = model(input_ids=t, attention_mask=torch.ones_like(t), use_cache=False).logits[0, -1]
                top2 = torch.topk(lg, 2).values
                gaps.append(float(top2[0] - top2[1]))
                toks.append(int(lg.argmax()))
                seq.append(toks[-1])
        return toks, gaps

    rng = np.random.default_rng(s["seed"] + 7)
    prompts_out = []
    for L in PROMPT_LENGTHS:
        # Redraw the prompt (at most MAX_DRAWS times) until every greedy step's top-2 logit gap
        # is >= MIN_GAP, so that an f32 re-implementation reproduces the greedy tokens robustly.
        for draw in range(1, MAX_DRAWS + 1):
            ids = [int(v) for v in rng.integers(4, s["vocab_size"], size=L)]
            recomputed, gaps = greedy_by_recompute(ids)
            if min(gaps) >= MIN_GAP:
                break
        x = torch.tensor([ids])
        ones = torch.ones_like(x)
        captured.clear()
        with torch.no_grad():
            out = model(input_ids=x, attention_mask=ones, output_hidden_states=True, use_cache=False)
        logits = out.logits[0].float()
        lp = torch.log_softmax(logits, dim=-1)
        layer_last = [c[0, -1].detach().float().numpy() for c in captured]
        hs = out.hidden_states
        entry = {
            "prompt": ids,
            "last_logprobs": f32list(lp[-1]),
            "last_max_prob": float(lp[-1].exp().max()),
            "all_logprobs_argmax": [int(v) for v in lp.argmax(-1)],
            "all_logprobs_max": f32list(lp.max(-1).values),
            "hidden_after_layer0_last_first8": f32list(layer_last[0][:8]),
            "hidden_after_each_layer_last": [f32list(v) for v in layer_last],
        }
        # output_hidden_states agrees with the hook (hidden_states[1] = after layer 0)?
        if hs is not None and len(hs) > 1:
            entry_hs_diff = float(np.abs(hs[1][0, -1].float().numpy() - layer_last[0]).max())
            report.setdefault("hidden_states_tuple_len", len(hs))
            report.setdefault("hidden_states_1_vs_hook_max_diff", []).append(entry_hs_diff)

        # Greedy, KV-cached generate() with the EOS list disabled so that all 32 tokens exist.
        gc = GenerationConfig(do_sample=False, max_new_tokens=MAX_NEW_TOKENS, min_new_tokens=0,
                              eos_token_id=None, pad_token_id=TINY_PAD, bos_token_id=TINY_BOS,
                              temperature=None, top_p=None, top_k=None)
        model.generation_config.eos_token_id = None
        with torch.no_grad():
            g = model.generate(x, attention_mask=ones, generation_config=gc)
        greedy = [int(v) for v in g[0, L:]]
        assert len(greedy) == MAX_NEW_TOKENS, greedy
        entry["greedy"] = greedy
        eos_set = {TINY_EOS, TINY_PAD, TINY_CALL}
        entry["greedy_first_eos_index"] = next((i for i, t in enumerate(greedy) if t in eos_set), None)
        entry["greedy_matches_no_cache_recompute"] = recomputed == greedy
        entry["greedy_min_top2_logit_gap"] = min(gaps)
        entry["prompt_draws"] = draw

        if numpy_check:
            lg64, layers64, stats = numpy_forward(cfg, ref, ids)
            entry["numpy_swiglu_clamp_hits"] = stats
            entry["numpy_f64_vs_transformers_hidden_last_max_abs_diff"] = float(max(
                np.abs(a[-1] - b).max() for a, b in zip(layers64, layer_last)))
            lp64 = log_softmax64(lg64)
            entry["numpy_f64_vs_transformers_last_logprobs_max_abs_diff"] = float(
                np.abs(lp64[-1] - lp[-1].numpy()).max())
            entry["numpy_f64_vs_transformers_all_logits_max_abs_diff"] = float(
                np.abs(lg64 - logits.numpy()).max())
            entry["numpy_f64_argmax_equal"] = bool((lg64.argmax(-1) == lp.argmax(-1).numpy()).all())
        prompts_out.append(entry)
        print(f"[{name}] L={L:2d} max_prob={entry['last_max_prob']:.4f} "
              f"greedy[:8]={greedy[:8]} cache==recompute={entry['greedy_matches_no_cache_recompute']} "
              f"min_gap={entry['greedy_min_top2_logit_gap']:.4f}"
              + (f" numpy_dlp={entry['numpy_f64_vs_transformers_last_logprobs_max_abs_diff']:.2e}"
                 if numpy_check else ""), file=sys.stderr)
    for h in hooks:
        h.remove()

    if numpy_check:
        inv, att = yarn_inv_freq(s["head_dim"])
        report["numpy_yarn_inv_freq_max_rel_diff"] = float(
            np.abs(inv - np.array(report["rotary_inv_freq"])).max() / inv.max())
        report["numpy_yarn_attention_factor"] = att

    # Same last logprobs with transformers' default experts implementation (grouped_mm), for info.
    try:
        m2 = GptOssForCausalLM.from_pretrained(d, quantization_config=Mxfp4Config(dequantize=True),
                                               dtype=torch.float32, attn_implementation="eager")
        report["default_experts_impl_expert_dtype_as_loaded"] = str(m2.model.layers[0].mlp.experts.down_proj.dtype)
        m2 = m2.float()  # see the cast above (transformers 5.17 loads dequantized experts as bf16)
        ids = prompts_out[-1]["prompt"]
        with torch.no_grad():
            lp2 = torch.log_softmax(m2(input_ids=torch.tensor([ids]), use_cache=False).logits[0, -1], -1)
        report["default_experts_impl"] = str(m2.config._experts_implementation)
        report["default_experts_impl_last_logprobs_max_abs_diff_41"] = float(
            np.abs(lp2.numpy() - np.array(prompts_out[-1]["last_logprobs"])).max())
    except Exception as e:  # informational only
        report["default_experts_impl_error"] = repr(e)

    result = {
        "description": "goldens from Hugging Face transformers GptOssForCausalLM, f32 path "
                       "(Mxfp4Config(dequantize=True), dtype=float32, CPU, attn_implementation=eager, "
                       "experts_implementation=eager). last_logprobs = log_softmax of the last position's "
                       "logits over the full vocab; greedy = 32 new tokens of generate(do_sample=False, "
                       "attention_mask=ones) with EOS disabled (greedy_first_eos_index says where a run "
                       "stopping on generation_config's eos list would have stopped); "
                       "hidden_after_each_layer_last = residual stream after each decoder layer, last "
                       "position (before the final norm).",
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "numpy": np.__version__, "python": sys.version.split()[0]},
        "checkpoint": name,
        "prompts": prompts_out,
        "checks": report,
    }
    with open(os.path.join(d, "goldens.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="fixtures folder (tiny-a/ and tiny-b/ are written inside)")
    ap.add_argument("--only", choices=sorted(SPECS), action="append", help="checkpoint(s) to write")
    ap.add_argument("--no-goldens", action="store_true")
    ap.add_argument("--numpy-check", action="store_true", help="also compare with a numpy f64 forward")
    args = ap.parse_args()
    for name in args.only or sorted(SPECS):
        s = SPECS[name]
        d, w = write_checkpoint(args.out, name, s)
        print(f"wrote {d}", file=sys.stderr)
        if not args.no_goldens:
            goldens(d, name, s, w, args.numpy_check)


if __name__ == "__main__":
    main()
