"""Load generator for `gpt-oss serve`: many concurrent clients of the real `openai` SDK (AsyncOpenAI), with
cancellations mixed in, checking that every answer ends properly and that the server is back to idle afterwards.

Run by scripts/load.sh (which builds the server, writes the tiny checkpoint and starts one server for it); by hand:

    ~/.cache/gpt-oss/e2e-venv/bin/python scripts/load/load.py --base-url http://127.0.0.1:8000/v1 \
        --model gpt-oss-tiny --clients 64 --seconds 300 --pid "$(pgrep -n gpt-oss)"

Each client loops until the time is up, one request at a time, each of them one of:
    chat-stream      chat completions, stream=True with stream_options.include_usage (most requests);
    responses-stream the Responses API, stream=True;
    chat             chat completions, not streamed;
with random prompts (a few words to a few hundred), a random max tokens in [16, 64] and a random temperature.
A fraction of the streams (--cancel-fraction) is closed by the client after a few events: the server must free
their sequences (a cancellation, not an error).

Checks, for every request that was not cancelled:
    chat-stream       a finish_reason, then a last chunk with usage and no choices, then `data: [DONE]` and the
                      end of the body (the SDK consumes [DONE]; a tap on the HTTP transport sees it);
    responses-stream  the last event is response.completed or response.incomplete, then the end of the body;
    chat              a finish_reason and usage.
Any exception (HTTP status >= 400, connection error, timeout, an event the SDK cannot parse) is an error; the
first 20 messages are kept.

The server's resident memory (VmRSS of /proc/PID/status, with --pid) is sampled every --sample-seconds (a quarter
of a second: a window's peak needs many samples to catch the largest batches). Reported:
at the start; after the warm-up (the first 10% of the time, 5 s at least); at the end of the load; idle after it;
the maximum. RSS swings by tens of MiB from step to step under load (a batch's logits and sampling buffers), so
"after the warm-up" and "at the end" are the peaks of two windows as long as the warm-up: the one right after it
and the last one of the load. /metrics is sampled as well (the most running sequences, waiting requests and KV
cache bytes seen).
After the load, /metrics must show gpt_oss_running_sequences, gpt_oss_waiting_requests and
gpt_oss_kv_cache_bytes at 0 within --idle-timeout seconds.

Exit status: 0 when all is well; 1 on any error, any stream not ended properly, a server not back to idle, or
RSS at the end (under load, or idle afterwards) more than --max-rss-growth-mib (64) above the RSS after the warm-up;
2 when the server cannot be reached at all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field

import httpx2
import openai

KINDS = ("chat-stream", "responses-stream", "chat")
FINISH_REASONS = {"stop", "length", "tool_calls", "content_filter"}
TERMINAL_EVENTS = {"response.completed", "response.incomplete"}
IDLE_GAUGES = ("gpt_oss_running_sequences", "gpt_oss_waiting_requests", "gpt_oss_kv_cache_bytes")
KEPT_MESSAGES = 20
TAG_HEADER = "x-load-request"
DONE = b"data: [DONE]"

WORDS = (
    "the sea river mountain forest city night morning light shadow stone glass paper engine signal network "
    "memory cache token stream window garden winter summer autumn spring question answer story poem list "
    "count explain describe compare summarize translate why how what when where seven eleven ninety blue "
    "green red quiet loud fast slow ancient modern small large bright dark bridge tower harbor island"
).split()
TASKS = (
    "Write a short poem about",
    "Explain in one paragraph",
    "List three facts about",
    "Summarize the following:",
    "Translate into French:",
    "Tell a story about",
    "Count to twenty and mention",
)


# --- the HTTP tap: sees the raw body, so that a stream's [DONE] and its clean end are checked -----------------


@dataclass
class Tapped:
    done: bool = False  # `data: [DONE]` went by
    eof: bool = False  # the body was read to its end without an error


class TapStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, record: Tapped):
        self.inner = inner
        self.record = record

    async def __aiter__(self):
        tail = b""
        async for chunk in self.inner:
            if not self.record.done:
                window = tail + chunk
                self.record.done = DONE in window
                tail = window[-len(DONE) :]
            yield chunk
        self.record.eof = True

    async def aclose(self) -> None:
        await self.inner.aclose()


class TapTransport(httpx2.AsyncBaseTransport):
    """The SDK's transport, with the body of every request tagged with TAG_HEADER watched."""

    def __init__(self, connections: int):
        limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.inner = httpx2.AsyncHTTPTransport(limits=limits)
        self.records: dict[str, Tapped] = {}

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        tag = request.headers.get(TAG_HEADER)
        if tag is not None:
            record = self.records.setdefault(tag, Tapped())
            response.stream = TapStream(response.stream, record)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


# --- bookkeeping ----------------------------------------------------------------------------------------------


@dataclass
class KindStats:
    requests: int = 0  # started
    completed: int = 0  # ended properly
    cancelled: int = 0  # closed early by the client, on purpose
    errors: int = 0
    bad_endings: int = 0
    tokens: int = 0  # completion tokens: usage of the finished ones, chunks read of the cancelled ones
    durations: list[float] = field(default_factory=list)  # seconds, finished requests
    first_event: list[float] = field(default_factory=list)  # seconds to the first chunk or event (streams)


@dataclass
class Run:
    stats: dict[str, KindStats] = field(default_factory=lambda: {kind: KindStats() for kind in KINDS})
    error_messages: list[str] = field(default_factory=list)
    bad_ending_messages: list[str] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, KiB)
    gauges_max: dict[str, float] = field(default_factory=dict)
    metrics_errors: int = 0

    def error(self, kind: str, started: float, message: str) -> None:
        self.stats[kind].errors += 1
        if len(self.error_messages) < KEPT_MESSAGES:
            self.error_messages.append(f"{kind} at {started:.1f} s: {message}")

    def bad_ending(self, kind: str, started: float, message: str) -> None:
        self.stats[kind].bad_endings += 1
        if len(self.bad_ending_messages) < KEPT_MESSAGES:
            self.bad_ending_messages.append(f"{kind} at {started:.1f} s: {message}")


def describe(error: BaseException) -> str:
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code}: {error.message}"
    text = str(error) or repr(error)
    cause = error.__cause__ or error.__context__
    if cause is not None and str(cause) and str(cause) not in text:
        text += f" ({type(cause).__name__}: {cause})"
    return f"{type(error).__name__}: {text}"


# --- the requests ---------------------------------------------------------------------------------------------


def random_messages(rng: random.Random) -> list[dict]:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.choice((2, 5, 10, 30, 80, 200))))
    messages = []
    if rng.random() < 0.3:
        messages.append({"role": "system", "content": "You are a helpful assistant. " + rng.choice(WORDS)})
    if rng.random() < 0.2:
        messages.append({"role": "user", "content": rng.choice(TASKS) + " " + rng.choice(WORDS)})
        messages.append({"role": "assistant", "content": " ".join(rng.choice(WORDS) for _ in range(12))})
    messages.append({"role": "user", "content": f"{rng.choice(TASKS)} {words}"})
    return messages


async def chat_stream(client, tap, run, rng, args, tag, cancel_after, started, stats) -> None:
    stream = await client.chat.completions.create(
        model=args.model,
        messages=random_messages(rng),
        max_tokens=rng.randint(args.min_tokens, args.max_tokens),
        temperature=round(rng.uniform(0.0, 1.2), 2),
        seed=rng.randrange(1 << 31),
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={TAG_HEADER: tag},
    )
    chunks, finish, usage, usage_last, content_chunks = 0, None, None, False, 0
    try:
        async for chunk in stream:
            if chunks == 0:
                stats.first_event.append(time.monotonic() - started)
            chunks += 1
            usage_last = False
            for choice in chunk.choices:
                finish = choice.finish_reason or finish
                delta = choice.delta
                if delta.content or getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None):
                    content_chunks += 1
            if chunk.usage is not None:
                usage = chunk.usage
                usage_last = not chunk.choices
            if cancel_after is not None and chunks >= cancel_after and finish is None:
                await stream.close()
                stats.cancelled += 1
                stats.tokens += content_chunks
                return
    finally:
        await stream.close()
    record = tap.records.get(tag, Tapped())
    problems = []
    if finish not in FINISH_REASONS:
        problems.append(f"finish_reason {finish!r}")
    if usage is None or not usage_last:
        problems.append("no usage chunk last" if usage is not None else "no usage chunk")
    if not record.done:
        problems.append("no data: [DONE]")
    if not record.eof:
        problems.append("the body did not end cleanly")
    if problems:
        run.bad_ending("chat-stream", started - run_start, f"{', '.join(problems)} after {chunks} chunks")
        return
    stats.completed += 1
    stats.tokens += usage.completion_tokens
    stats.durations.append(time.monotonic() - started)


async def responses_stream(client, tap, run, rng, args, tag, cancel_after, started, stats) -> None:
    messages = random_messages(rng)
    stream = await client.responses.create(
        model=args.model,
        input=messages if rng.random() < 0.5 else messages[-1]["content"],
        max_output_tokens=rng.randint(args.min_tokens, args.max_tokens),
        temperature=round(rng.uniform(0.0, 1.2), 2),
        stream=True,
        extra_headers={TAG_HEADER: tag},
    )
    events, last = 0, None
    try:
        async for event in stream:
            if events == 0:
                stats.first_event.append(time.monotonic() - started)
            events += 1
            last = event
            if event.type == "response.failed" or event.type == "error":
                break
            if cancel_after is not None and events >= cancel_after and event.type not in TERMINAL_EVENTS:
                await stream.close()
                stats.cancelled += 1
                return
    finally:
        await stream.close()
    record = tap.records.get(tag, Tapped())
    problems = []
    last_type = getattr(last, "type", None)
    if last_type not in TERMINAL_EVENTS:
        problems.append(f"last event {last_type!r}")
        if last_type in {"response.failed", "error"}:
            problems.append(repr(getattr(getattr(last, "response", None), "error", None) or last))
    if not record.eof and last_type in TERMINAL_EVENTS:
        problems.append("the body did not end cleanly")
    if problems:
        run.bad_ending("responses-stream", started - run_start, f"{', '.join(problems)} after {events} events")
        return
    stats.completed += 1
    stats.tokens += last.response.usage.output_tokens if last.response.usage else 0
    stats.durations.append(time.monotonic() - started)


async def chat_whole(client, tap, run, rng, args, tag, cancel_after, started, stats) -> None:
    completion = await client.chat.completions.create(
        model=args.model,
        messages=random_messages(rng),
        max_tokens=rng.randint(args.min_tokens, args.max_tokens),
        temperature=round(rng.uniform(0.0, 1.2), 2),
        seed=rng.randrange(1 << 31),
        extra_headers={TAG_HEADER: tag},
    )
    finish = completion.choices[0].finish_reason if completion.choices else None
    if finish not in FINISH_REASONS or completion.usage is None:
        run.bad_ending("chat", started - run_start, f"finish_reason {finish!r}, usage {completion.usage!r}")
        return
    stats.completed += 1
    stats.tokens += completion.usage.completion_tokens
    stats.durations.append(time.monotonic() - started)


HANDLERS = {"chat-stream": chat_stream, "responses-stream": responses_stream, "chat": chat_whole}
run_start = 0.0


async def client_loop(index: int, client, tap, run: Run, args, deadline: float) -> None:
    rng = random.Random(args.seed * 1000 + index)
    weights = (1.0 - args.responses_fraction - args.whole_fraction, args.responses_fraction, args.whole_fraction)
    number = 0
    while time.monotonic() < deadline:
        kind = rng.choices(KINDS, weights)[0]
        cancel_after = None
        if kind != "chat" and rng.random() < args.cancel_fraction:
            # Early: a chat stream of the random tiny model comes in a few chunks (its text is held back until
            # the harmony parser knows the channel), a Responses stream in a burst after created/in_progress.
            cancel_after = rng.randint(1, 3)
        tag = f"{index}-{number}"
        number += 1
        stats = run.stats[kind]
        stats.requests += 1
        started = time.monotonic()
        try:
            await HANDLERS[kind](client, tap, run, rng, args, tag, cancel_after, started, stats)
        except Exception as error:  # noqa: BLE001 - every failure is counted and reported
            run.error(kind, started - run_start, describe(error))
        finally:
            tap.records.pop(tag, None)


# --- the server's side: /metrics and RSS ----------------------------------------------------------------------


def parse_metrics(text: str) -> dict[str, float]:
    """The unlabelled samples of a Prometheus text exposition, by name."""
    samples = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)", line.strip())
        if match:
            samples[match.group(1)] = float(match.group(2))
    return samples


async def fetch_metrics(http: httpx2.AsyncClient, root: str) -> dict[str, float]:
    response = await http.get(root + "/metrics", timeout=10)
    response.raise_for_status()
    return parse_metrics(response.text)


def read_rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


async def sampler(run: Run, http: httpx2.AsyncClient, root: str, args, stop: asyncio.Event) -> None:
    while not stop.is_set():
        if args.pid:
            rss = read_rss_kib(args.pid)
            if rss is not None:
                run.rss.append((time.monotonic() - run_start, rss))
        try:
            sample = await fetch_metrics(http, root)
            for name in IDLE_GAUGES:
                if name in sample:
                    run.gauges_max[name] = max(run.gauges_max.get(name, 0.0), sample[name])
        except Exception:  # noqa: BLE001 - a missed sample is counted, not fatal
            run.metrics_errors += 1
        try:
            await asyncio.wait_for(stop.wait(), args.sample_seconds)
        except asyncio.TimeoutError:
            pass


async def wait_idle(http: httpx2.AsyncClient, root: str, seconds: float) -> tuple[bool, dict[str, float]]:
    deadline = time.monotonic() + seconds
    sample: dict[str, float] = {}
    while True:
        try:
            sample = await fetch_metrics(http, root)
        except Exception as error:  # noqa: BLE001
            sample = {"error": describe(error)}  # type: ignore[dict-item]
        idle = all(sample.get(name) == 0 for name in IDLE_GAUGES)
        if idle or time.monotonic() > deadline:
            return idle, sample
        await asyncio.sleep(0.05)


# --- the run --------------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


async def main_async(args) -> int:
    global run_start
    root = args.base_url.rstrip("/")
    root = root[: -len("/v1")] if root.endswith("/v1") else root
    run = Run()
    async with httpx2.AsyncClient() as http:
        try:
            health = await http.get(root + "/health", timeout=10)
            health.raise_for_status()
            before = await fetch_metrics(http, root)
        except Exception as error:  # noqa: BLE001
            message = f"load: the server at {root} does not answer /health and /metrics: {describe(error)}"
            print(message, file=sys.stderr)
            return 2
        missing = [name for name in IDLE_GAUGES if name not in before]
        if missing:
            print(f"load: /metrics lacks {', '.join(missing)}", file=sys.stderr)
            return 2
        if args.pid and read_rss_kib(args.pid) is None:
            print(f"load: cannot read VmRSS of process {args.pid}", file=sys.stderr)
            return 2

        tap = TapTransport(connections=max(100, args.clients * 2))
        http_client = openai.DefaultAsyncHttpxClient(transport=tap)
        client = openai.AsyncOpenAI(
            base_url=args.base_url,
            api_key=args.api_key,
            max_retries=0,
            timeout=args.request_timeout,
            http_client=http_client,
        )
        warmup = max(5.0, 0.1 * args.seconds)
        run_start = time.monotonic()
        deadline = run_start + args.seconds
        rss_start = read_rss_kib(args.pid) if args.pid else None
        stop = asyncio.Event()
        sampling = asyncio.create_task(sampler(run, http, root, args, stop))
        print(
            f"load: {args.clients} clients for {args.seconds:g} s against {args.base_url} "
            f"(cancel fraction {args.cancel_fraction:g}, warm-up {warmup:g} s)",
            file=sys.stderr,
            flush=True,
        )

        async def progress():
            while True:
                await asyncio.sleep(args.progress_seconds)
                done = sum(s.completed + s.cancelled + s.errors + s.bad_endings for s in run.stats.values())
                errors = sum(s.errors + s.bad_endings for s in run.stats.values())
                rss = f", RSS {mib(run.rss[-1][1])} MiB" if run.rss else ""
                print(
                    f"load: {time.monotonic() - run_start:5.0f} s: {done} requests done, {errors} failed{rss}",
                    file=sys.stderr,
                    flush=True,
                )

        reporter = asyncio.create_task(progress())
        try:
            await asyncio.gather(*(client_loop(i, client, tap, run, args, deadline) for i in range(args.clients)))
        finally:
            reporter.cancel()
            stop.set()
            await sampling
            await client.close()
        elapsed = time.monotonic() - run_start
        idle, after = await wait_idle(http, root, args.idle_timeout)
        rss_idle = read_rss_kib(args.pid) if args.pid else None
        if args.pid and rss_idle is None:
            run.error("chat", elapsed, f"the server process {args.pid} is gone")

    # --- the report ---
    total = KindStats()
    for stats in run.stats.values():
        for name in ("requests", "completed", "cancelled", "errors", "bad_endings", "tokens"):
            setattr(total, name, getattr(total, name) + getattr(stats, name))
        total.durations += stats.durations
        total.first_event += stats.first_event
    server_tokens = after.get("gpt_oss_generation_tokens_total", 0) - before.get("gpt_oss_generation_tokens_total", 0)
    # RSS swings by tens of MiB within a step under load (the batch's logits and sampling buffers), so the
    # figures after the warm-up and at the end are the peaks of two windows of the same length: the one after
    # the warm-up and the last one of the load. Growth: the larger of that end peak and the idle RSS after the
    # load, less the peak after the warm-up.
    window = max(5.0, 0.1 * args.seconds)

    def peak(start: float, end: float) -> int | None:
        inside = [kib for at, kib in run.rss if start <= at <= end]
        return max(inside) if inside else None

    rss_warmup = peak(warmup, warmup + window)
    rss_end = peak(max(warmup + window, args.seconds - window), args.seconds)
    rss_values = [kib for _, kib in run.rss] + [v for v in (rss_start, rss_idle) if v]
    rss = {
        "start_mib": mib(rss_start),
        "after_warmup_mib": mib(rss_warmup),
        "end_of_load_mib": mib(rss_end),
        "idle_after_mib": mib(rss_idle),
        "max_mib": mib(max(rss_values)) if rss_values else None,
        "window_s": window,
        "samples": len(run.rss),
    }
    growth = None
    if rss_warmup and rss_idle:
        growth = round((max(rss_end or 0, rss_idle) - rss_warmup) / 1024, 1)
        rss["growth_mib"] = growth
    summary = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "cancel_fraction": args.cancel_fraction,
        "kinds": {
            kind: {
                "requests": s.requests,
                "completed": s.completed,
                "cancelled": s.cancelled,
                "errors": s.errors,
                "bad_endings": s.bad_endings,
                "tokens": s.tokens,
                "p50_s": percentile(s.durations, 0.5),
                "p95_s": percentile(s.durations, 0.95),
                "first_event_p50_s": percentile(s.first_event, 0.5),
            }
            for kind, s in run.stats.items()
        },
        "requests": total.requests,
        "completed": total.completed,
        "cancelled": total.cancelled,
        "errors": total.errors,
        "bad_endings": total.bad_endings,
        "client_tokens": total.tokens,
        "server_generated_tokens": int(server_tokens),
        "server_tokens_per_s": round(server_tokens / elapsed, 1) if elapsed > 0 else None,
        "requests_per_s": round(total.requests / elapsed, 2) if elapsed > 0 else None,
        "error_messages": run.error_messages,
        "bad_ending_messages": run.bad_ending_messages,
        "rss": rss,
        "gauges_max_during_load": run.gauges_max,
        "metrics_sample_errors": run.metrics_errors,
        "after": {name: after.get(name) for name in IDLE_GAUGES},
        "idle_after": idle,
    }

    failures = []
    if total.requests == 0:
        failures.append("no request was made")
    if total.errors:
        failures.append(f"{total.errors} errors")
    if total.bad_endings:
        failures.append(f"{total.bad_endings} streams or answers not ended properly")
    if not idle:
        failures.append(f"not idle {args.idle_timeout:g} s after the load: {summary['after']}")
    if args.pid and growth is None:
        failures.append("too few RSS samples to compare the end with the warm-up (a run too short?)")
    if growth is not None and growth > args.max_rss_growth_mib:
        failures.append(f"RSS grew {growth} MiB after the warm-up (limit {args.max_rss_growth_mib} MiB)")
    summary["failures"] = failures
    summary["passed"] = not failures

    print_summary(summary)
    if args.json_out:
        with open(args.json_out, "w") as out:
            json.dump(summary, out, indent=2)
            out.write("\n")
    return 1 if failures else 0


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_summary(s: dict) -> None:
    header = ("kind", "requests", "completed", "cancelled", "errors", "bad end", "tokens", "p50 s", "p95 s", "1st ev s")
    rows = [header]
    for kind, k in s["kinds"].items():
        rows.append(
            (
                kind,
                k["requests"],
                k["completed"],
                k["cancelled"],
                k["errors"],
                k["bad_endings"],
                k["tokens"],
                fmt(k["p50_s"]),
                fmt(k["p95_s"]),
                fmt(k["first_event_p50_s"]),
            )
        )
    rows.append(
        ("total", s["requests"], s["completed"], s["cancelled"], s["errors"], s["bad_endings"], s["client_tokens"])
        + ("",) * 3
    )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    print()
    for number, row in enumerate(rows):
        cells = (str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i]) for i, cell in enumerate(row))
        print("  ".join(cells))
        if number == 0 or number == len(rows) - 2:
            print("  ".join("-" * w for w in widths))
    rss = s["rss"]
    lines = [
        ("duration", f"{s['seconds']} s, {s['clients']} clients"),
        ("requests/s", fmt(s["requests_per_s"])),
        ("generated tokens (server)", f"{s['server_generated_tokens']} ({fmt(s['server_tokens_per_s'], 1)} tokens/s)"),
        (
            "RSS MiB",
            f"start {fmt(rss['start_mib'], 1)}, after warm-up {fmt(rss['after_warmup_mib'], 1)}, "
            f"end of load {fmt(rss['end_of_load_mib'], 1)}, idle after {fmt(rss['idle_after_mib'], 1)}, "
            f"max {fmt(rss['max_mib'], 1)}, growth {fmt(rss.get('growth_mib'), 1)}",
        ),
        ("most seen during the load", ", ".join(f"{k} {v:g}" for k, v in s["gauges_max_during_load"].items())),
        ("after the load", ", ".join(f"{k} {v if v is None else f'{v:g}'}" for k, v in s["after"].items())),
    ]
    print()
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name.ljust(width)}  {value}")
    for title, messages in (("errors", s["error_messages"]), ("not ended properly", s["bad_ending_messages"])):
        if messages:
            print(f"\nfirst {len(messages)} {title}:")
            for message in messages:
                print(f"  {message}")
    print()
    print("PASSED" if s["passed"] else "FAILED: " + "; ".join(s["failures"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1", help="the server's /v1 URL")
    parser.add_argument("--model", default="gpt-oss-tiny", help="the served model name")
    parser.add_argument("--api-key", default=os.environ.get("GPT_OSS_API_KEY", "load-no-key-needed"))
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default 64)")
    parser.add_argument("--seconds", type=float, default=300, help="how long the clients start requests (default 300)")
    parser.add_argument("--cancel-fraction", type=float, default=0.2, help="streams closed early (default 0.2)")
    parser.add_argument("--responses-fraction", type=float, default=0.2, help="Responses API streams (default 0.2)")
    parser.add_argument("--whole-fraction", type=float, default=0.1, help="non-streamed chat (default 0.1)")
    parser.add_argument("--min-tokens", type=int, default=16, help="smallest max tokens of a request (default 16)")
    parser.add_argument("--max-tokens", type=int, default=64, help="largest max tokens of a request (default 64)")
    parser.add_argument("--pid", type=int, help="the server's process id, for its RSS (/proc/PID/status VmRSS)")
    parser.add_argument("--max-rss-growth-mib", type=float, default=64, help="RSS growth allowed after the warm-up")
    parser.add_argument("--request-timeout", type=float, default=120, help="seconds per request (default 120)")
    parser.add_argument("--idle-timeout", type=float, default=10, help="seconds to wait for idle (default 10)")
    parser.add_argument(
        "--sample-seconds", type=float, default=0.25, help="RSS and /metrics sampling period (default 0.25)"
    )
    parser.add_argument("--progress-seconds", type=float, default=10, help="progress line period (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the clients' random choices")
    parser.add_argument("--json-out", help="write the summary as JSON to this file")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients and --seconds must be positive")
    if not 0 <= args.cancel_fraction <= 1:
        parser.error("--cancel-fraction must be within [0, 1]")
    if args.responses_fraction < 0 or args.whole_fraction < 0 or args.responses_fraction + args.whole_fraction > 1:
        parser.error("--responses-fraction and --whole-fraction must be non-negative and add up to 1 at most")
    if not 1 <= args.min_tokens <= args.max_tokens:
        parser.error("need 1 <= --min-tokens <= --max-tokens")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
