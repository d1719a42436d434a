#!/usr/bin/env python3
"""Summarize one compare.sh run: one table on stdout, every raw figure as JSON. Standard library only.

Reads, from --work, for each round R:
  llama-bf16-R.out  (and llama-q8_0-R.out)  llama-bench -o json: a list of tests, pp512 and tg128
  llama-*-R.rss, ours-F-R.rss               peak resident set size in kB
  ours-F-R.json                             `gpt-oss bench --dense-weights F --json`: a row per number of streams
  bandwidth-R-P.json                        `gpt-oss bench --bandwidth --json` (probe P of the round): bandwidth_gb_s
and the checkpoint's config.json for the bytes one decoded token reads.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
import sys

BF16 = 2
MXFP4_BYTES_PER_WEIGHT = 17 / 32  # 16 bytes of E2M1 codes + 1 E8M0 scale per block of 32
# Bytes per weight of the attention projections and the unembedding in each `--dense-weights` format.
DENSE_BYTES_PER_WEIGHT = {
    "bf16": 2.0,
    "q12": 1.5 + 2 / 32,  # 12-bit values, a bf16 scale per block of 32
    "q8": 1.0 + 4 / 32,  # 8-bit values, an f32 scale per block of 32
}


def bytes_per_token(config: dict, dense: str = "bf16") -> dict:
    """Bytes of weights one decoded token reads, from config.json's shapes (hub layout: attention, router,
    norms and unembedding bf16; experts MXFP4 with bf16 biases), the attention and unembedding weights in
    the `dense` format. Excludes the KV cache (a few MB at these context lengths) and the one embedding
    row."""
    w = DENSE_BYTES_PER_WEIGHT[dense]
    h = config["hidden_size"]
    layers = config["num_hidden_layers"]
    experts = config["num_local_experts"]
    active = config.get("num_experts_per_tok", config.get("experts_per_token"))
    inter = config["intermediate_size"]
    head_dim = config.get("head_dim", h // config["num_attention_heads"])
    q = config["num_attention_heads"] * head_dim
    kv = config["num_key_value_heads"] * head_dim
    vocab = config["vocab_size"]
    attn = w * (2 * h * q + 2 * h * kv) + BF16 * (q + 2 * kv + h) + BF16 * config["num_attention_heads"]  # + sinks
    norms = BF16 * 2 * h
    router = BF16 * (experts * h + experts)
    expert = MXFP4_BYTES_PER_WEIGHT * (2 * inter * h + h * inter) + BF16 * (2 * inter + h)
    unembed = w * vocab * h + BF16 * h  # lm_head + final norm
    per_layer = attn + norms + router + active * expert
    total = layers * per_layer + unembed
    return {
        "total": total,
        "attention": layers * attn,
        "router_and_norms": layers * (router + norms),
        "active_experts": layers * active * expert,
        "unembedding": unembed,
        "active_experts_per_layer": active,
    }


# What `--argmax-head` reads of the unembedding per weight, by dense format: an 8-bit copy of a bf16 one
# (1 byte and an f32 scale per block of 32), a 12-bit one's high plane (1 byte and its bf16 scale per block).
ARGMAX_HEAD_VIEW_BYTES_PER_WEIGHT = {"bf16": 1.0 + 4 / 32, "q12": 1.0 + 2 / 32}


def argmax_head_bytes_per_token(config: dict, dense: str) -> dict:
    """`bytes_per_token` with `dense` weights, decoding greedily with `--argmax-head`: the unembedding is read
    from its 8-bit view instead. The exact rows of the candidates (a few dozen of 201088 on the synthetic 20b)
    are left out."""
    b = bytes_per_token(config, dense)
    view = ARGMAX_HEAD_VIEW_BYTES_PER_WEIGHT[dense]
    unembed = view * config["vocab_size"] * config["hidden_size"] + BF16 * config["hidden_size"]
    return {**b, "total": b["total"] - b["unembedding"] + unembed, "unembedding": unembed}


PHASES = ("attention", "experts", "unembedding", "other")


def phase_line(label: str, rows: list, bpt: dict) -> tuple[str, dict] | None:
    """Our 1-stream decode time per token by part of the model (median over rounds of `gpt-oss bench`'s
    decode_ms_per_token_by_phase), each with the read rate of the weights that part reads (`bpt`)."""
    measured = [row["decode_ms_per_token_by_phase"] for row in rows if row and "decode_ms_per_token_by_phase" in row]
    if not measured:
        return None
    ms = {p: median([m.get(p) for m in measured]) for p in PHASES}
    read = {"attention": bpt["attention"], "experts": bpt["active_experts"] + bpt["router_and_norms"],
            "unembedding": bpt["unembedding"]}
    gb_s = {p: read[p] / (ms[p] * 1e6) for p in read if ms.get(p)}
    parts = [f"{p} {fmt(ms[p], '.1f')} ms" + (f" ({fmt(gb_s[p], '.1f')} GB/s)" if p in gb_s else "") for p in PHASES]
    return f"  {label:30} " + ", ".join(parts), {"ms_per_token": ms, "weights_gb_s": gb_s}


def load_json(path: str):
    with open(path) as f:
        return json.load(f)


def read_rss_kb(path: str) -> int | None:
    try:
        text = open(path).read().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def llama_figures(path: str) -> dict:
    """pp and tg tokens/s (llama-bench's avg_ts over its repetitions) from a llama-bench -o json file."""
    out = {}
    for test in load_json(path):
        if test.get("n_prompt", 0) > 0 and test.get("n_gen", 0) == 0:
            key = f"pp{test['n_prompt']}"
        elif test.get("n_gen", 0) > 0 and test.get("n_prompt", 0) == 0:
            key = f"tg{test['n_gen']}"
        else:
            key = f"pp{test.get('n_prompt')}+tg{test.get('n_gen')}"
        out[key] = {"tok_s": test["avg_ts"], "stddev": test.get("stddev_ts"), "samples": test.get("samples_ts")}
        out.setdefault("_meta", {
            "build_commit": test.get("build_commit"), "build_number": test.get("build_number"),
            "cpu_info": test.get("cpu_info"), "backends": test.get("backends"), "n_threads": test.get("n_threads"),
            "model_type": test.get("model_type"), "model_size": test.get("model_size"),
            "model_n_params": test.get("model_n_params"),
        })
    return out


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, spec=".2f", none="-"):
    return none if value is None else format(value, spec)


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--llama-version", required=True)
    ap.add_argument("--llama-bench", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--gguf-bf16", required=True)
    ap.add_argument("--gguf-q8")
    ap.add_argument("--argmax-head", action="store_true", help="the rounds include "
                    "ours-greedy-argmax-head-FORMAT-R.json for each --dense format but q8: 1 stream, greedy with "
                    "--argmax-head")
    ap.add_argument("--dense", default="bf16", help="our --dense-weights formats, comma-separated; the first is "
                    "the main column, measured at every stream count")
    args = ap.parse_args()

    config = load_json(os.path.join(args.model, "config.json"))
    formats = args.dense.split(",")
    main_format = formats[0]
    bpt = bytes_per_token(config, main_format)
    bpt_of = {f: bytes_per_token(config, f) for f in formats}
    variants = ["bf16"] + (["q8_0"] if args.gguf_q8 else [])
    head_formats = [f for f in formats if f in ARGMAX_HEAD_VIEW_BYTES_PER_WEIGHT] if args.argmax_head else []

    rounds = []
    for r in range(1, args.rounds + 1):
        w = lambda name: os.path.join(args.work, name)  # noqa: E731
        probes = sorted(glob.glob(w(f"bandwidth-{r}-*.json")), key=lambda p: int(p.rsplit("-", 1)[1][:-5]))
        entry = {"round": r, "bandwidth_probes_gb_s": [load_json(p)["bandwidth_gb_s"] for p in probes], "llama": {}}
        for v in variants:
            entry["llama"][v] = llama_figures(w(f"llama-{v}-{r}.out"))
            entry["llama"][v]["peak_rss_kb"] = read_rss_kb(w(f"llama-{v}-{r}.rss"))
        entry["ours_by_format"] = {}
        for f in formats:
            ours = load_json(w(f"ours-{f}-{r}.json"))
            entry["ours_by_format"][f] = {
                "runs": ours["runs"], "peak_rss_kb": read_rss_kb(w(f"ours-{f}-{r}.rss")),
                "kernels": ours.get("kernels"), "threads": ours.get("threads"), "dense_weights": f,
                "prompt_tokens": ours.get("prompt_tokens"), "gen_tokens": ours.get("gen_tokens")}
        entry["ours"] = entry["ours_by_format"][main_format]
        entry["ours_greedy_argmax_head"] = {}
        for f in head_formats:
            greedy = load_json(w(f"ours-greedy-argmax-head-{f}-{r}.json"))
            entry["ours_greedy_argmax_head"][f] = {
                "runs": greedy["runs"], "peak_rss_kb": read_rss_kb(w(f"ours-greedy-argmax-head-{f}-{r}.rss"))}
        rounds.append(entry)

    def ours_row(entry, streams, fmt_name=main_format):
        return next((row for row in entry["ours_by_format"][fmt_name]["runs"] if row["streams"] == streams), None)

    # The machine's read bandwidth: the highest probe of the run. A shared machine's moves by a factor of two
    # from one minute to the next; the bound is what the machine can read, not what it happened to read in
    # the second of one probe, and neither engine should be measured above it.
    probes = [x for e in rounds for x in e["bandwidth_probes_gb_s"]]
    bw = max(probes) if probes else None
    bound_tok_s = bw * 1e9 / bpt["total"] if bw else None

    summary = {"llama": {}, "ours": {}}
    for v in variants:
        summary["llama"][v] = {
            "pp512_tok_s": median([e["llama"][v].get("pp512", {}).get("tok_s") for e in rounds]),
            "tg128_tok_s": median([e["llama"][v].get("tg128", {}).get("tok_s") for e in rounds]),
            "peak_rss_kb": max((e["llama"][v]["peak_rss_kb"] or 0) for e in rounds) or None,
        }
    one = [ours_row(e, 1) for e in rounds]
    summary["ours"] = {
        "pp512_tok_s": median([row and row["prefill_tok_s"] for row in one]),
        "tg128_tok_s": median([row and row["decode_tok_s"] for row in one]),
        "peak_rss_kb": max((e["ours"]["peak_rss_kb"] or 0) for e in rounds) or None,
        "streams": {},
    }
    all_streams = sorted({row["streams"] for e in rounds for row in e["ours"]["runs"]})
    for s in all_streams:
        rows = [ours_row(e, s) for e in rounds]
        summary["ours"]["streams"][str(s)] = {
            "decode_tok_s": median([row and row["decode_tok_s"] for row in rows]),
            "prefill_tok_s": median([row and row["prefill_tok_s"] for row in rows]),
            "ttft_s": median([row and row["ttft_s"] for row in rows]),
        }
    # Per-round ratios (each against the llama.cpp run measured minutes before it): their median is less
    # sensitive to drift on a shared machine than the ratio of medians.
    ratios = {}
    for key, ours_key in (("pp512", "prefill_tok_s"), ("tg128", "decode_tok_s")):
        per_round = []
        for e, row in zip(rounds, one):
            theirs = e["llama"]["bf16"].get(key, {}).get("tok_s")
            if row and theirs:
                per_round.append(row[ours_key] / theirs)
        ratios[key] = {"per_round": per_round, "median": median(per_round)}

    gb = lambda kb: kb / 1e6 if kb else None  # noqa: E731 (kB -> GB, decimal)
    L, O = summary["llama"]["bf16"], summary["ours"]
    lines = []
    lines.append(f"gpt-oss-20b ({args.model}), {args.threads} threads, {args.rounds} alternating round(s); "
                 f"median over rounds (llama-bench: mean of its repetitions per round)")
    lines.append(f"llama.cpp: llama-cpp-python {args.llama_version}'s vendored copy, "
                 f"build {L and rounds[0]['llama']['bf16'].get('_meta', {}).get('build_number')}, "
                 f"bf16 GGUF with MXFP4 experts; ours: kernels {rounds[0]['ours']['kernels']}, "
                 f"dense weights {main_format} (the same safetensors)")
    lines.append("")
    head = f"{'':32} {'llama.cpp':>12} {'ours':>12} {'ours/llama':>11}"
    lines.append(head)
    lines.append("-" * len(head))

    def ratio(a, b):
        return a / b if a and b else None

    lines.append(f"{'pp512 tok/s (1 stream)':32} {fmt(L['pp512_tok_s']):>12} {fmt(O['pp512_tok_s']):>12} "
                 f"{fmt(ratios['pp512']['median']):>11}")
    lines.append(f"{'tg128 tok/s (1 stream)':32} {fmt(L['tg128_tok_s']):>12} {fmt(O['tg128_tok_s']):>12} "
                 f"{fmt(ratios['tg128']['median']):>11}")
    lines.append(f"{'peak RSS GB':32} {fmt(gb(L['peak_rss_kb'])):>12} {fmt(gb(O['peak_rss_kb'])):>12} "
                 f"{fmt(ratio(O['peak_rss_kb'], L['peak_rss_kb'])):>11}")
    lines.append(f"{'tg128 of the bandwidth bound':32} {fmt(ratio(L['tg128_tok_s'], bound_tok_s)):>12} "
                 f"{fmt(ratio(O['tg128_tok_s'], bound_tok_s)):>12}")
    for v in variants[1:]:
        Q = summary["llama"][v]
        lines.append(f"{'llama.cpp ' + v + ' pp512 / tg128':32} {fmt(Q['pp512_tok_s']):>12} / {fmt(Q['tg128_tok_s'])}"
                     f"  (peak RSS {fmt(gb(Q['peak_rss_kb']))} GB)")
    summary["ours_other_formats"] = {}
    for f in formats[1:]:
        rows = [ours_row(e, 1, f) for e in rounds]
        pp = median([row and row["prefill_tok_s"] for row in rows])
        tg = median([row and row["decode_tok_s"] for row in rows])
        rss = max((e["ours_by_format"][f]["peak_rss_kb"] or 0) for e in rounds) or None
        bound_f = bw * 1e9 / bpt_of[f]["total"] if bw else None
        # Per-round ratios against llama.cpp's bf16 and (with --q8) q8_0 runs of the same round.
        vs = {}
        for v in variants:
            per_round = [row["decode_tok_s"] / e["llama"][v]["tg128"]["tok_s"] for e, row in zip(rounds, rows)
                         if row and e["llama"][v].get("tg128", {}).get("tok_s")]
            vs[v] = median(per_round)
        summary["ours_other_formats"][f] = {"pp512_tok_s": pp, "tg128_tok_s": tg, "peak_rss_kb": rss,
                                            "bytes_per_token": bpt_of[f]["total"], "bound_tok_s": bound_f,
                                            "tg128_over_llama": vs}
        against = ", ".join(f"{fmt(x)} x llama.cpp {v}" for v, x in vs.items())
        lines.append(f"{'ours ' + f + ' pp512 / tg128':32} {fmt(pp):>12} / {fmt(tg)}  (tg128 {against}; "
                     f"{fmt(ratio(tg, bound_f))} of its bound, {bpt_of[f]['total'] / 1e9:.3f} GB/token; "
                     f"peak RSS {fmt(gb(rss))} GB)")
    summary["ours_greedy_argmax_head"] = {}
    for f in head_formats:
        bpt_greedy = argmax_head_bytes_per_token(config, f)
        rows = [next((row for row in e["ours_greedy_argmax_head"][f]["runs"] if row["streams"] == 1), None)
                for e in rounds]
        tg = median([row and row["decode_tok_s"] for row in rows])
        rss = max((e["ours_greedy_argmax_head"][f]["peak_rss_kb"] or 0) for e in rounds) or None
        bound_g = bw * 1e9 / bpt_greedy["total"] if bw else None
        vs = {}
        for v in variants:
            per_round = [row["decode_tok_s"] / e["llama"][v]["tg128"]["tok_s"] for e, row in zip(rounds, rows)
                         if row and e["llama"][v].get("tg128", {}).get("tok_s")]
            vs[v] = median(per_round)
        summary["ours_greedy_argmax_head"][f] = {"tg128_tok_s": tg, "peak_rss_kb": rss,
                                                 "bytes_per_token": bpt_greedy["total"], "bound_tok_s": bound_g,
                                                 "tg128_over_llama": vs}
        against = ", ".join(f"{fmt(x)} x llama.cpp {v}" for v, x in vs.items())
        lines.append(f"{'ours ' + f + ' greedy --argmax-head tg128':32} {fmt(tg):>12}  ({against}; "
                     f"{fmt(ratio(tg, bound_g))} of its bound, {bpt_greedy['total'] / 1e9:.3f} GB/token; "
                     f"peak RSS {fmt(gb(rss))} GB)")
    lines.append("")
    lines.append(f"read bandwidth: {fmt(bw)} GB/s (the highest of {len(probes)} probes, one before each round and one "
                 f"after each run; median {fmt(median(probes))}), {args.threads} threads, 1 GiB, "
                 f"best of 5")
    lines.append("probes by round: " + "; ".join(", ".join(fmt(x) for x in e["bandwidth_probes_gb_s"]) for e in rounds))
    lines.append(f"bytes read per decoded token: {bpt['total'] / 1e9:.3f} GB (attention {bpt['attention'] / 1e9:.3f}, "
                 f"{bpt['active_experts_per_layer']} experts/layer {bpt['active_experts'] / 1e9:.3f}, "
                 f"unembedding {bpt['unembedding'] / 1e9:.3f}, router+norms {bpt['router_and_norms'] / 1e9:.4f})")
    lines.append(f"bandwidth bound on decode: {fmt(bound_tok_s)} tok/s (dense weights {main_format})")
    one_rate = O["streams"].get("1", {}).get("decode_tok_s")
    for s in all_streams:
        if s == 1:
            continue
        rate = O["streams"][str(s)]["decode_tok_s"]
        lines.append(f"ours, {s} streams: aggregate decode {fmt(rate)} tok/s = {fmt(ratio(rate, one_rate))} x 1 stream; "
                     f"prefill of {s} x {rounds[0]['ours'].get('prompt_tokens', '?')} tokens {fmt(O['streams'][str(s)]['prefill_tok_s'])} tok/s")
    phase_lines = []
    summary["decode_phases"] = {}
    runs_by_label = [(f"ours {main_format}", one, bpt)]
    runs_by_label += [(f"ours {f}", [ours_row(e, 1, f) for e in rounds], bpt_of[f]) for f in formats[1:]]
    runs_by_label += [(f"ours {f} greedy --argmax-head",
                       [next((row for row in e["ours_greedy_argmax_head"][f]["runs"] if row["streams"] == 1), None)
                        for e in rounds], argmax_head_bytes_per_token(config, f)) for f in head_formats]
    for label, rows, bytes_of in runs_by_label:
        found = phase_line(label, rows, bytes_of)
        if found:
            phase_lines.append(found[0])
            summary["decode_phases"][label] = found[1]
    if phase_lines:
        lines.append("decode time per token, 1 stream, by part of the model (and the read rate of its weights):")
        lines.extend(phase_lines)
    lines.append("per-round ours/llama: pp512 " + ", ".join(fmt(x) for x in ratios["pp512"]["per_round"])
                 + "; tg128 " + ", ".join(fmt(x) for x in ratios["tg128"]["per_round"]))
    table = "\n".join(lines)
    print(table)

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    document = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "nproc": os.cpu_count(),
        "load_average_at_end": load,
        "threads": args.threads,
        "rounds": args.rounds,
        "model": args.model,
        "llama_cpp_python_version": args.llama_version,
        "llama_bench": args.llama_bench,
        "gguf": {"bf16": args.gguf_bf16, **({"q8_0": args.gguf_q8} if args.gguf_q8 else {})},
        "bytes_per_token": bpt,
        "bytes_per_token_by_dense_format": bpt_of,
        "dense_formats": formats,
        "bandwidth_gb_s_max": bw,
        "bandwidth_gb_s_median": median(probes),
        "bandwidth_bound_tok_s": bound_tok_s,
        "summary": summary,
        "ratios_ours_over_llama_bf16": ratios,
        "per_round": rounds,
        "table": table,
    }
    with open(args.results, "w") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
