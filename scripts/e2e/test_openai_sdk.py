"""End-to-end tests: the real `openai` Python SDK against `gpt-oss serve`.

Run by scripts/e2e.sh, which builds the server, writes the tiny checkpoint (random weights, the real o200k_harmony
vocabulary), starts two servers and points these tests at them through the environment:

    GPT_OSS_E2E_BASE_URL   the open server, default context (http://127.0.0.1:PORT/v1)
    GPT_OSS_E2E_AUTH_URL   the second server: --api-key, --max-model-len 512, --argmax-head (auth, context-length
                           and argmax-head tests)
    GPT_OSS_E2E_API_KEY    that server's key
    GPT_OSS_E2E_MODEL      the served model name (gpt-oss-tiny)
    GPT_OSS_E2E_BIN        the `gpt-oss` binary and
    GPT_OSS_E2E_MODEL_DIR  the checkpoint directory, for the tests that start a server of their own (SIGTERM);
                           they are skipped without them

A random tiny model writes random text (rarely with harmony structure, so it comes back as `content`): the tests
assert on the shape of the answers, on greedy determinism and on the server's bookkeeping, never on the words.
The tests share one server and read its global /metrics, so they must run one at a time (no pytest-xdist).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import math
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import time
import typing
import urllib.error
import urllib.request

import openai
import pytest
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseFunctionToolCall,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseOutputMessage,
    ResponseReasoningItem,
    ResponseStreamEvent,
)

BASE_URL = os.environ.get("GPT_OSS_E2E_BASE_URL", "http://127.0.0.1:8000/v1").rstrip("/")
AUTH_URL = os.environ.get("GPT_OSS_E2E_AUTH_URL", "http://127.0.0.1:8001/v1").rstrip("/")
API_KEY = os.environ.get("GPT_OSS_E2E_API_KEY", "secret")
MODEL = os.environ.get("GPT_OSS_E2E_MODEL", "gpt-oss-tiny")
SERVER_BIN = os.environ.get("GPT_OSS_E2E_BIN")
SERVER_MODEL_DIR = os.environ.get("GPT_OSS_E2E_MODEL_DIR")

# The open server needs no key, but the SDK refuses to send a request without one.
UNUSED_KEY = "e2e-no-key-needed"
MESSAGES = [{"role": "user", "content": "Write a short poem about the sea."}]
FINISH_REASONS = {"length", "stop"}
TIMEOUT = 120.0


def server_root(url: str) -> str:
    """http://host:port of a .../v1 base URL."""
    return url[: -len("/v1")] if url.endswith("/v1") else url


def http(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
    """A plain HTTP request (no SDK): status and body text, errors included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def metrics(url: str = BASE_URL, headers: dict | None = None) -> dict[str, float]:
    """The unlabelled samples of /metrics, by name."""
    status, text = http("GET", server_root(url) + "/metrics", headers=headers)
    assert status == 200, text
    samples = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)", line.strip())
        if match:
            samples[match.group(1)] = float(match.group(2))
    return samples


def forward_seconds(url: str = BASE_URL) -> dict[str, float]:
    """gpt_oss_forward_seconds_total of /metrics, by phase."""
    status, text = http("GET", server_root(url) + "/metrics")
    assert status == 200, text
    pattern = r'^gpt_oss_forward_seconds_total\{phase="(\w+)"\} (\S+)$'
    return {m.group(1): float(m.group(2)) for m in re.finditer(pattern, text, re.MULTILINE)}


def wait_idle(seconds: float) -> dict[str, float]:
    """Polls /metrics until no sequence runs and the KV caches are freed; returns the last sample."""
    deadline = time.monotonic() + seconds
    while True:
        sample = metrics()
        assert "gpt_oss_running_sequences" in sample, sorted(sample)
        assert "gpt_oss_kv_cache_bytes" in sample, sorted(sample)
        idle = sample["gpt_oss_running_sequences"] == 0 and sample["gpt_oss_kv_cache_bytes"] == 0
        if idle or time.monotonic() > deadline:
            return sample
        time.sleep(0.05)


@pytest.fixture(scope="session")
def client() -> openai.OpenAI:
    with openai.OpenAI(base_url=BASE_URL, api_key=UNUSED_KEY, max_retries=0, timeout=TIMEOUT) as c:
        yield c


@pytest.fixture(scope="session")
def auth_client() -> openai.OpenAI:
    with openai.OpenAI(base_url=AUTH_URL, api_key=API_KEY, max_retries=0, timeout=TIMEOUT) as c:
        yield c


def chat(client: openai.OpenAI, **kwargs):
    args = {"model": MODEL, "messages": MESSAGES, "max_tokens": 8, "temperature": 0}
    args.update(kwargs)
    return client.chat.completions.create(**args)


# --- models ---------------------------------------------------------------------------------------------------


def test_models_list(client):
    models = client.models.list()
    ids = [model.id for model in models.data]
    assert MODEL in ids, ids


def test_models_retrieve(client):
    model = client.models.retrieve(MODEL)
    assert model.id == MODEL
    assert model.object == "model"


# --- chat completions -----------------------------------------------------------------------------------------


def test_chat_completion_shape(client):
    completion = chat(client)
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.finish_reason in FINISH_REASONS
    assert isinstance(choice.message.content, str)
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert 0 <= usage.completion_tokens <= 8
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert isinstance(usage.completion_tokens_details.reasoning_tokens, int)
    assert isinstance(usage.prompt_tokens_details.cached_tokens, int)


def test_greedy_with_seed_is_deterministic(client):
    first = chat(client, seed=1234, max_tokens=12)
    second = chat(client, seed=1234, max_tokens=12)
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.choices[0].finish_reason == second.choices[0].finish_reason
    assert first.usage.completion_tokens == second.usage.completion_tokens


def test_metrics_split_forward_time_by_part_of_the_model(client):
    before = forward_seconds()
    chat(client, max_tokens=4)
    after = forward_seconds()
    assert set(after) == {"attention", "experts", "unembedding", "other"}, after
    for phase, seconds in after.items():
        assert seconds > before.get(phase, 0.0), (phase, before, after)


def test_argmax_head_decodes_greedy_requests_as_every_logit_would(client, auth_client):
    # The second server finds greedy tokens through its 8-bit copy of the unembedding and the exact rows that
    # could win; the first computes every logit. Same tokens, whatever the batch (two streams at once too).
    prompts = ["Hello", "Write a haiku about the sea.", "What is 17 times 23?"]
    auth = {"Authorization": f"Bearer {API_KEY}"}
    before = metrics(AUTH_URL, auth)["gpt_oss_argmax_head_tokens_total"]
    greedy_tokens = 0
    for content in prompts:
        messages = [{"role": "user", "content": content}]
        full = chat(client, messages=messages, max_tokens=24)
        via_head = chat(auth_client, messages=messages, max_tokens=24)
        greedy_tokens += via_head.usage.completion_tokens
        # The whole message: answer, reasoning and any tool call.
        assert via_head.choices[0].message.model_dump() == full.choices[0].message.model_dump(), content
        assert via_head.usage.completion_tokens == full.usage.completion_tokens
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        pair = list(pool.map(lambda c: chat(auth_client, messages=[{"role": "user", "content": c}], max_tokens=24), prompts[:2]))
    for content, got in zip(prompts[:2], pair):
        want = chat(client, messages=[{"role": "user", "content": content}], max_tokens=24)
        assert got.choices[0].message.model_dump() == want.choices[0].message.model_dump(), content
    # Every token of the one-at-a-time requests came through the head (the first server has none).
    via_head_count = metrics(AUTH_URL, auth)["gpt_oss_argmax_head_tokens_total"] - before
    assert via_head_count >= greedy_tokens > 0, (via_head_count, greedy_tokens)
    assert metrics()["gpt_oss_argmax_head_tokens_total"] == 0
    # Asking for log-probabilities computes every logit there too.
    with_logprobs = chat(auth_client, logprobs=True, top_logprobs=2, max_tokens=6)
    tokens = with_logprobs.choices[0].logprobs.content or []
    assert all(math.isfinite(t.logprob) and t.logprob <= 0 and len(t.top_logprobs) == 2 for t in tokens)


def test_argmax_head_samples_at_a_temperature_by_the_same_race_on_either_path(auth_client):
    # With --argmax-head, a request that samples at a temperature alone draws by the Gumbel-max race: through the
    # head while at most two sequences decode, from every logit beyond that. A seed gives the same tokens either way.
    auth = {"Authorization": f"Bearer {API_KEY}"}
    messages = [{"role": "user", "content": "Tell me a story about a lighthouse."}]

    def sample(seed):
        return chat(auth_client, messages=messages, temperature=1.0, seed=seed, max_tokens=24)

    before = metrics(AUTH_URL, auth)
    alone = sample(99)
    after = metrics(AUTH_URL, auth)
    drawn = after["gpt_oss_argmax_head_tokens_total"] - before["gpt_oss_argmax_head_tokens_total"]
    assert drawn >= alone.usage.completion_tokens > 0, (drawn, alone.usage.completion_tokens)
    assert sample(99).choices[0].message.model_dump() == alone.choices[0].message.model_dump()
    # Four at once: past two sequences every logit is computed, and the same race draws from them.
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        crowd = list(pool.map(sample, [99, 1, 2, 3]))
    end = metrics(AUTH_URL, auth)
    crowd_tokens = sum(c.usage.completion_tokens for c in crowd)
    assert end["gpt_oss_argmax_head_tokens_total"] - after["gpt_oss_argmax_head_tokens_total"] < crowd_tokens + alone.usage.completion_tokens
    assert crowd[0].choices[0].message.model_dump() == alone.choices[0].message.model_dump()
    assert any(c.choices[0].message.model_dump() != alone.choices[0].message.model_dump() for c in crowd[1:])


def test_n_choices(client):
    completion = chat(client, n=2, temperature=1.0, seed=7)
    assert [choice.index for choice in completion.choices] == [0, 1]
    for choice in completion.choices:
        assert choice.message.role == "assistant"
        assert choice.finish_reason in FINISH_REASONS
    assert completion.usage.completion_tokens <= 2 * 8


def test_max_completion_tokens(client):
    completion = chat(client, max_tokens=None, max_completion_tokens=3)
    assert completion.usage.completion_tokens <= 3
    assert completion.choices[0].finish_reason in FINISH_REASONS


def test_stop_accepted(client):
    completion = chat(client, stop=["x"])
    choice = completion.choices[0]
    assert choice.finish_reason in FINISH_REASONS
    assert "x" not in (choice.message.content or "")


def test_tools_auto_accepted(client):
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    completion = chat(client, tools=tools, tool_choice="auto")
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    # The random model may happen to call the tool; either way the answer is well formed.
    assert choice.finish_reason in FINISH_REASONS | {"tool_calls"}


def test_response_format_json_schema_accepted(client):
    response_format = {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": {
                "type": "object",
                "properties": {"answer": {"type": "string"}},
                "required": ["answer"],
                "additionalProperties": False,
            },
            "strict": True,
        },
    }
    completion = chat(client, response_format=response_format)
    assert completion.choices[0].finish_reason in FINISH_REASONS


# --- reasoning effort -----------------------------------------------------------------------------------------


def test_reasoning_effort_high(client):
    completion = chat(client, reasoning_effort="high")
    assert completion.choices[0].message.role == "assistant"


def test_reasoning_object_low(client):
    completion = chat(client, extra_body={"reasoning": {"effort": "low"}})
    assert completion.choices[0].message.role == "assistant"


def test_reasoning_effort_invalid(client):
    with pytest.raises(openai.BadRequestError) as error:
        chat(client, reasoning_effort="extreme")
    assert error.value.status_code == 400
    assert "extreme" in error.value.message


# --- streaming ------------------------------------------------------------------------------------------------


def test_stream_matches_non_stream(client):
    expected = chat(client, seed=42, max_tokens=16)
    stream = chat(client, seed=42, max_tokens=16, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks, "the stream carried no chunk"
    for chunk in chunks:
        assert chunk.object == "chat.completion.chunk"
        assert chunk.model == MODEL
    assert len({chunk.id for chunk in chunks}) == 1, "every chunk of a stream has the same id"

    assert chunks[0].choices, chunks[0]
    assert chunks[0].choices[0].delta.role == "assistant"

    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens == expected.usage.prompt_tokens
    assert last.usage.completion_tokens == expected.usage.completion_tokens
    assert isinstance(last.usage.completion_tokens_details.reasoning_tokens, int)
    assert isinstance(last.usage.prompt_tokens_details.cached_tokens, int)

    body = [chunk for chunk in chunks[:-1]]
    assert all(chunk.usage is None for chunk in body), "only the last chunk carries usage"
    content = "".join(choice.delta.content or "" for chunk in body for choice in chunk.choices)
    finishes = [choice.finish_reason for chunk in body for choice in chunk.choices if choice.finish_reason]
    assert finishes == [expected.choices[0].finish_reason]
    assert content == (expected.choices[0].message.content or "")


def test_stream_logprobs(client):
    stream = chat(client, max_tokens=6, stream=True, logprobs=True, top_logprobs=2)
    with_logprobs = []
    content = ""
    for chunk in stream:
        for choice in chunk.choices:
            content += choice.delta.content or ""
            if choice.logprobs is not None and choice.logprobs.content:
                with_logprobs.extend(choice.logprobs.content)
    if content:
        assert with_logprobs, "text was streamed without its log-probabilities"
    for logprob in with_logprobs:
        assert logprob.logprob <= 0.0
        assert len(logprob.top_logprobs) == 2


# --- errors ---------------------------------------------------------------------------------------------------


def test_unknown_model(client):
    with pytest.raises(openai.NotFoundError) as error:
        chat(client, model="no-such-model")
    assert error.value.status_code == 404


def test_temperature_out_of_range(client):
    with pytest.raises(openai.BadRequestError) as error:
        chat(client, temperature=5)
    assert error.value.status_code == 400


def test_unknown_parameter(client):
    with pytest.raises(openai.BadRequestError) as error:
        chat(client, extra_body={"foo": 1})
    assert "Unrecognized request argument supplied: foo" in error.value.message


def test_context_length_exceeded(auth_client):
    # The second server runs with --max-model-len 512.
    long_message = " ".join(["word"] * 2000)
    with pytest.raises(openai.BadRequestError) as error:
        chat(auth_client, messages=[{"role": "user", "content": long_message}])
    assert error.value.code == "context_length_exceeded"
    assert error.value.param == "messages"


def test_authenticated_request(auth_client):
    assert MODEL in [model.id for model in auth_client.models.list().data]
    completion = chat(auth_client)
    assert completion.choices[0].finish_reason in FINISH_REASONS


def test_wrong_api_key():
    with openai.OpenAI(base_url=AUTH_URL, api_key="not-the-key", max_retries=0, timeout=TIMEOUT) as wrong:
        with pytest.raises(openai.AuthenticationError) as error:
            chat(wrong)
        assert error.value.status_code == 401
        assert error.value.code == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError):
            wrong.models.list()


def test_missing_api_key():
    # The SDK will not send a request without a key unless the Authorization header is omitted explicitly.
    with openai.OpenAI(base_url=AUTH_URL, api_key="unused", max_retries=0, timeout=TIMEOUT) as anonymous:
        with pytest.raises(openai.AuthenticationError) as error:
            chat(anonymous, extra_headers={"Authorization": openai.Omit()})
        assert error.value.status_code == 401
    status, body = http("GET", AUTH_URL + "/models")
    assert status == 401, body
    assert json.loads(body)["error"]["type"] == "authentication_error"


def test_health_needs_no_key():
    status, body = http("GET", server_root(AUTH_URL) + "/health")
    assert status == 200, body
    assert json.loads(body)["status"] == "ok"


# --- concurrency, KV cache, cancellation ----------------------------------------------------------------------


def test_concurrent_streams_free_the_kv_cache():
    async def one(client: openai.AsyncOpenAI, index: int):
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": f"Count to {index + 3}."}],
            max_tokens=16,
            temperature=0.7,
            seed=index,
            stream=True,
            stream_options={"include_usage": True},
        )
        finish, usage = None, None
        async for chunk in stream:
            for choice in chunk.choices:
                finish = choice.finish_reason or finish
            usage = chunk.usage or usage
        return finish, usage

    async def all_of_them():
        async with openai.AsyncOpenAI(base_url=BASE_URL, api_key=UNUSED_KEY, max_retries=0, timeout=TIMEOUT) as c:
            return await asyncio.gather(*(one(c, i) for i in range(8)))

    results = asyncio.run(all_of_them())
    assert len(results) == 8
    for finish, usage in results:
        assert finish in FINISH_REASONS
        assert usage is not None
        assert usage.prompt_tokens > 0
        assert usage.completion_tokens <= 16
    sample = wait_idle(5.0)
    assert sample["gpt_oss_running_sequences"] == 0, sample
    assert sample["gpt_oss_kv_cache_bytes"] == 0, sample


def test_closing_a_stream_cancels_the_generation(client):
    wait_idle(5.0)
    before = metrics()["gpt_oss_generation_tokens_total"]
    stream = chat(client, max_tokens=2000, temperature=1.0, seed=3, stream=True)
    read = 0
    for _ in stream:
        read += 1
        if read == 2:
            break
    assert read == 2, "the stream ended before two chunks"
    stream.close()
    sample = wait_idle(5.0)
    assert sample["gpt_oss_running_sequences"] == 0, f"the sequence still runs 5 s after the client left: {sample}"
    assert sample["gpt_oss_kv_cache_bytes"] == 0, sample
    generated = sample["gpt_oss_generation_tokens_total"] - before
    assert generated < 2000, f"the generation ran to max_tokens ({generated} tokens) after the stream was closed"


# --- shutdown -------------------------------------------------------------------------------------------------

# Generous against a slow machine: 8 streams of 200 tokens take about 15 s on two busy cores (dev profile).
DRAIN_TIMEOUT = 60
STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_own_server(log, *args: str) -> tuple[subprocess.Popen, str]:
    """A `gpt-oss serve` of the test's own on a free port, logging to `log`, once it answers /health; returns it
    and its http://host:port."""
    port = free_port()
    command = [SERVER_BIN, "serve", "--model", SERVER_MODEL_DIR, "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--served-model-name", MODEL, *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        assert server.poll() is None, f"the server exited with status {server.returncode} before answering /health"
        try:
            if http("GET", root + "/health")[0] == 200:
                return server, root
        except OSError:
            pass
        assert time.monotonic() < deadline, f"the server did not answer /health within {STARTUP_TIMEOUT:g} s"
        time.sleep(0.1)


@pytest.mark.skipif(
    not (SERVER_BIN and SERVER_MODEL_DIR),
    reason="GPT_OSS_E2E_BIN and GPT_OSS_E2E_MODEL_DIR are not set (scripts/e2e.sh sets them): "
    "the test starts and stops a server of its own",
)
def test_sigterm_drains_running_streams(tmp_path):
    """SIGTERM while 8 streams are mid-way: the server refuses new connections at once, finishes every running
    stream (finish_reason, usage, within --shutdown-timeout), then exits with status 0."""
    log_path = tmp_path / "server.log"
    streams, max_tokens = 8, 200
    with open(log_path, "wb") as log:
        server, root = start_own_server(log, "--shutdown-timeout", str(DRAIN_TIMEOUT))
    try:
        outcome = asyncio.run(sigterm_during_streams(server, root, streams, max_tokens))
        try:
            status = server.wait(timeout=DRAIN_TIMEOUT + 30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server still runs {DRAIN_TIMEOUT + 30} s after SIGTERM; log:\n{log_path.read_text()}")
        exited_after = time.monotonic() - outcome["drained_at"]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    log_text = log_path.read_text(errors="replace")
    assert outcome["unfinished_at_sigterm"] == streams, f"streams ended before SIGTERM, which proves nothing: {outcome}"
    assert outcome["refused"], f"a new connection was still accepted 5 s after SIGTERM: {outcome}\n{log_text}"
    assert outcome["running_when_refused"] > 0, f"no stream was left to drain when connections were refused: {outcome}"
    for index, (error, chunks, finish, usage, usage_last) in enumerate(outcome["results"]):
        assert error is None, f"stream {index} failed after {chunks} chunks: {error}\n{log_text}"
        assert finish in FINISH_REASONS, f"stream {index} ended without a finish_reason after {chunks} chunks"
        assert usage is not None and usage_last, f"stream {index} has no usage chunk last"
        if finish == "length":
            assert usage.completion_tokens == max_tokens, usage
    assert status == 0, f"the server exited with status {status} after SIGTERM\n{log_text}"
    assert exited_after < 10, f"the server took {exited_after:.1f} s to exit after its last stream ended"
    assert "shutting down" in log_text, log_text
    assert "still running after" not in log_text, log_text


@pytest.mark.skipif(
    not (SERVER_BIN and SERVER_MODEL_DIR),
    reason="GPT_OSS_E2E_BIN and GPT_OSS_E2E_MODEL_DIR are not set (scripts/e2e.sh sets them): "
    "the test starts and stops a server of its own",
)
def test_sigterm_deadline_ends_the_streams_left(tmp_path):
    """Streams longer than the drain: at --shutdown-timeout the server exits with status 0 and the streams still
    running end at once with an error event that says the server is shutting down, none hangs."""
    log_path = tmp_path / "server.log"
    streams, deadline = 8, 2
    with open(log_path, "wb") as log:
        server, root = start_own_server(log, "--shutdown-timeout", str(deadline))
    try:
        outcome = asyncio.run(sigterm_during_streams(server, root, streams, max_tokens=4000))
        try:
            status = server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server still runs 30 s after SIGTERM; log:\n{log_path.read_text()}")
        exited_after = time.monotonic() - outcome["sigterm_at"]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    log_text = log_path.read_text(errors="replace")
    assert outcome["unfinished_at_sigterm"] == streams, f"streams ended before SIGTERM, which proves nothing: {outcome}"
    assert outcome["refused"], f"a new connection was still accepted 5 s after SIGTERM: {outcome}\n{log_text}"
    assert outcome["drain_seconds"] < deadline + 10, f"the streams hung past the drain deadline: {outcome}"
    for index, (error, chunks, finish, _, _) in enumerate(outcome["results"]):
        if finish in FINISH_REASONS:
            continue
        # Cut by the deadline: an error event the client reads, not a broken connection.
        assert error is not None and error.startswith("APIError: ") and "shutting down" in error, (
            f"stream {index} ended without a finish reason or a shutdown error event after {chunks} chunks: {error}"
        )
    assert status == 0, f"the server exited with status {status} after SIGTERM\n{log_text}"
    assert exited_after < deadline + 10, f"the server took {exited_after:.1f} s to exit after SIGTERM"
    assert "still running after" in log_text, log_text


async def sigterm_during_streams(server: subprocess.Popen, root: str, streams: int, max_tokens: int) -> dict:
    """Opens the streams, sends SIGTERM once each has a chunk of text (two chunks: the role, then text), then
    tries new connections until one is refused and reads every stream to its end."""
    host, port = "127.0.0.1", int(root.rsplit(":", 1)[1])
    started = {"count": 0, "event": asyncio.Event()}
    finished = {"count": 0}

    async def one(client: openai.AsyncOpenAI, index: int):
        chunks, finish, usage, usage_last = 0, None, None, False
        try:
            stream = await client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": f"Tell a long story, number {index}."}],
                max_tokens=max_tokens,
                temperature=1.0,
                seed=index,
                stream=True,
                stream_options={"include_usage": True},
            )
            async for chunk in stream:
                chunks += 1
                if chunks == 2:
                    started["count"] += 1
                    if started["count"] == streams:
                        started["event"].set()
                for choice in chunk.choices:
                    finish = choice.finish_reason or finish
                usage_last = chunk.usage is not None and not chunk.choices
                usage = chunk.usage or usage
            return None, chunks, finish, usage, usage_last
        except Exception as error:  # reported by the test with the stream's index
            return f"{type(error).__name__}: {error}", chunks, finish, usage, usage_last
        finally:
            finished["count"] += 1
            if chunks < 2:
                started["event"].set()  # do not wait for a stream that ended early: the test reports it

    async with openai.AsyncOpenAI(base_url=root + "/v1", api_key=UNUSED_KEY, max_retries=0, timeout=TIMEOUT) as c:
        tasks = [asyncio.create_task(one(c, i)) for i in range(streams)]
        await asyncio.wait_for(started["event"].wait(), TIMEOUT)
        unfinished = streams - finished["count"]
        server.send_signal(signal.SIGTERM)
        sigterm_at = time.monotonic()
        refused, running_when_refused = False, None
        while time.monotonic() < sigterm_at + 5:
            try:
                _, writer = await asyncio.open_connection(host, port)
            # A connection the closing listener had queued but never accepted is reset instead of refused.
            except (ConnectionRefusedError, ConnectionResetError):
                refused, running_when_refused = True, streams - finished["count"]
                break
            writer.close()
            await asyncio.sleep(0.02)
        results = await asyncio.wait_for(asyncio.gather(*tasks), DRAIN_TIMEOUT + 30)
        drained_at = time.monotonic()
    return {
        "drained_at": drained_at,
        "drain_seconds": round(drained_at - sigterm_at, 1),
        "unfinished_at_sigterm": unfinished,
        "sigterm_at": sigterm_at,
        "refused": refused,
        "running_when_refused": running_when_refused,
        "results": results,
    }


# --- responses ------------------------------------------------------------------------------------------------
#
# The random model never ends its turn (no <|return|> or <|call|> within any small budget), so responses stop at
# max_output_tokens: status "incomplete". The tests accept "completed" too, so that they hold for a real model.
# Its text has no harmony header, so an answer's text comes as one delta when the output ends; a forced call's
# arguments (the prompt ends with the call's header) stream token by token.

RESPONSE_STATUSES = {"completed", "incomplete"}
RESPONSE_BUDGET = 16
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
FORCE_WEATHER = {"type": "function", "name": "get_weather"}
OUTPUT_ITEM_TYPES = {
    "reasoning": ResponseReasoningItem,
    "message": ResponseOutputMessage,
    "function_call": ResponseFunctionToolCall,
}
# The typed class of each event type the SDK knows (the members of its ResponseStreamEvent union).
STREAM_EVENT_CLASSES = {
    typing.get_args(cls.model_fields["type"].annotation)[0]: cls
    for cls in typing.get_args(typing.get_args(ResponseStreamEvent)[0])
}
TERMINAL_EVENTS = {"response.completed", "response.incomplete", "response.failed"}
# Events with the text of an output item: the deltas add to it, the .done events carry it whole.
DELTA_EVENTS = {"response.reasoning_text.delta", "response.output_text.delta", "response.function_call_arguments.delta"}


def respond(client: openai.OpenAI, **kwargs):
    """client.responses.create with a short greedy budget; keyword arguments override."""
    args = {"model": MODEL, "input": "Hi", "max_output_tokens": RESPONSE_BUDGET, "temperature": 0}
    args.update(kwargs)
    return client.responses.create(**args)


def item_text(item) -> str:
    """The text an output item's deltas build: reasoning or message text, or function call arguments."""
    if item.type == "function_call":
        return item.arguments
    return "".join(part.text for part in item.content or [])


def check_response(response, budget: int = RESPONSE_BUDGET) -> None:
    """The shape of a finished response: status, output items of the SDK's types, usage within the budget."""
    assert response.object == "response"
    assert response.id.startswith("resp_"), response.id
    assert response.model == MODEL
    assert response.status in RESPONSE_STATUSES, response.status
    assert response.error is None
    if response.status == "incomplete":
        assert response.incomplete_details is not None
        assert response.incomplete_details.reason == "max_output_tokens"
    else:
        assert response.incomplete_details is None
    assert response.max_output_tokens == budget
    for item in response.output:
        expected = OUTPUT_ITEM_TYPES.get(item.type)
        assert expected is not None and isinstance(item, expected), f"{item.type}: {type(item).__name__}"
        assert item.status in {"completed", "incomplete"}, item
    if response.status == "incomplete" and response.output:
        assert response.output[-1].status == "incomplete", response.output[-1]
    usage = response.usage
    assert usage is not None
    assert usage.input_tokens > 0
    assert 0 < usage.output_tokens <= budget
    assert 0 <= usage.output_tokens_details.reasoning_tokens <= usage.output_tokens
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert isinstance(usage.input_tokens_details.cached_tokens, int)
    assert isinstance(response.output_text, str)


def function_calls(response) -> list:
    return [item for item in response.output if item.type == "function_call"]


def check_events(events: list) -> None:
    """The order of a Responses stream: created, in_progress, the items' events, one terminal event last;
    sequence numbers from 0; every event of the SDK's class for its type; each item added once at the next
    index and done once, its deltas adding up to its text in the terminal response, whose output is the items
    as done."""
    assert len(events) >= 3, events
    for event in events:
        expected = STREAM_EVENT_CLASSES.get(event.type)
        assert expected is not None, f"an event type the SDK does not know: {event.type}"
        assert isinstance(event, expected), f"{event.type} parsed as {type(event).__name__}"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert isinstance(events[0], ResponseCreatedEvent), events[0]
    assert isinstance(events[1], ResponseInProgressEvent), events[1]
    assert events[0].response.status == "in_progress"
    assert isinstance(events[-1], (ResponseCompletedEvent, ResponseIncompleteEvent)), events[-1]
    assert all(event.type not in TERMINAL_EVENTS for event in events[:-1]), "one terminal event, the last"
    response_id = events[0].response.id
    assert all(event.response.id == response_id for event in events if hasattr(event, "response"))

    added, done, texts = [], {}, {}
    for event in events[2:-1]:
        if event.type == "response.output_item.added":
            assert event.output_index == len(added), event
            assert event.item.status == "in_progress", event
            added.append(event.item)
            texts[event.output_index] = ""
            continue
        assert event.output_index < len(added), f"an event for an item not added yet: {event}"
        assert event.output_index not in done, f"an event after its item was done: {event}"
        item = added[event.output_index]
        if event.type == "response.output_item.done":
            assert event.item.id == item.id and event.item.type == item.type, event
            assert event.item.status != "in_progress", event
            done[event.output_index] = event.item
            continue
        assert event.item_id == item.id, event
        if event.type in DELTA_EVENTS:
            texts[event.output_index] += event.delta
        elif event.type in {"response.reasoning_text.done", "response.output_text.done"}:
            assert event.text == texts[event.output_index], event
        elif event.type == "response.function_call_arguments.done":
            assert event.arguments == texts[event.output_index], event
            assert event.name == item.name, event
        elif event.type == "response.content_part.done":
            assert event.part.text == texts[event.output_index], event
    assert sorted(done) == list(range(len(added))), "every added item is done"

    final = events[-1].response
    assert [item.model_dump() for item in final.output] == [done[i].model_dump() for i in range(len(added))]
    for index, item in enumerate(final.output):
        assert texts[index] == item_text(item), f"the deltas of output[{index}] do not add up to its text"


def test_responses_create(client):
    """A whole response: typed output items, usage within max_output_tokens, output_text."""
    response = respond(client)
    check_response(response)
    assert response.previous_response_id is None
    assert response.store is True
    assert response.temperature == 0
    messages = [item for item in response.output if item.type == "message"]
    assert response.output_text == "".join(
        part.text for message in messages for part in message.content if part.type == "output_text"
    )
    for item in response.output:
        assert item.id


def test_responses_stream_events(client):
    """stream=True: the typed events in order, numbered, adding up to the final response (the same as a whole
    response under greedy decoding)."""
    whole = respond(client)
    events = list(respond(client, stream=True))
    check_events(events)
    final = events[-1].response
    check_response(final)
    assert final.status == whole.status
    assert final.usage.model_dump() == whole.usage.model_dump()
    assert [item_text(item) for item in final.output] == [item_text(item) for item in whole.output]
    expected_terminal = "response.completed" if final.status == "completed" else "response.incomplete"
    assert events[-1].type == expected_terminal


def test_responses_stream_helper_accumulates(client):
    """client.responses.stream: the SDK's own accumulator (ResponseStreamState) takes every event and raises on
    one out of order. get_final_response() needs response.completed; the random model always runs to
    max_output_tokens, and for response.incomplete it raises exactly its RuntimeError. The streamed response is
    stored like a whole one."""
    with client.responses.stream(model=MODEL, input="Hi", max_output_tokens=24, temperature=0) as stream:
        events = list(stream)
        terminal = events[-1]
        if terminal.type == "response.completed":
            assert stream.get_final_response().model_dump() == terminal.response.model_dump()
        else:
            with pytest.raises(RuntimeError, match="Didn't receive a `response.completed` event"):
                stream.get_final_response()
    check_events(events)
    final = terminal.response
    check_response(final, budget=24)
    stored = client.responses.retrieve(final.id)
    assert stored.status == final.status
    assert stored.usage.model_dump() == final.usage.model_dump()
    assert [(item.id, item.type, item_text(item)) for item in stored.output] == [
        (item.id, item.type, item_text(item)) for item in final.output
    ]
    # The accumulator's snapshots: each text and arguments delta carries the item's text so far.
    so_far: dict[int, str] = {}
    for event in events:
        if event.type in DELTA_EVENTS:
            so_far[event.output_index] = so_far.get(event.output_index, "") + event.delta
        if event.type in {"response.output_text.delta", "response.function_call_arguments.delta"}:
            assert event.snapshot == so_far[event.output_index], event


def test_responses_retrieve_and_delete(client):
    """A stored response (store defaults to true) can be read back and deleted; then it is gone."""
    response = respond(client)
    assert response.store is True
    got = client.responses.retrieve(response.id)
    assert got.id == response.id
    assert got.status == response.status
    assert [item.model_dump() for item in got.output] == [item.model_dump() for item in response.output]
    assert got.model_dump() == response.model_dump()
    assert client.responses.delete(response.id) is None
    with pytest.raises(openai.NotFoundError) as error:
        client.responses.retrieve(response.id)
    assert error.value.status_code == 404
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(response.id)


def test_responses_store_false_is_not_kept(client):
    response = respond(client, store=False)
    check_response(response)
    assert response.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


def test_responses_previous_response_id(client):
    """previous_response_id puts the stored conversation before the new input."""
    first = respond(client)
    second = respond(client, input="And then?", previous_response_id=first.id)
    check_response(second)
    assert second.id != first.id
    assert second.previous_response_id == first.id
    assert second.usage.input_tokens > first.usage.input_tokens, (first.usage, second.usage)


def test_responses_unknown_previous_response_id(client):
    with pytest.raises(openai.BadRequestError) as error:
        respond(client, previous_response_id="resp_does_not_exist")
    assert error.value.status_code == 400
    assert error.value.code == "previous_response_not_found"
    assert error.value.param == "previous_response_id"
    assert "resp_does_not_exist" in error.value.message


def test_responses_forced_function_call(client):
    """A named tool_choice makes the model call the function; the result goes back with previous_response_id."""
    response = respond(
        client, input="Weather in Paris?", tools=[WEATHER_TOOL], tool_choice=FORCE_WEATHER, max_output_tokens=24
    )
    check_response(response, budget=24)
    assert response.tool_choice.type == "function" and response.tool_choice.name == "get_weather"
    assert [tool.name for tool in response.tools] == ["get_weather"]
    calls = function_calls(response)
    assert len(calls) == 1, response.output
    call = calls[0]
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.name == "get_weather"
    assert call.call_id
    assert call.id and call.id != call.call_id
    assert isinstance(call.arguments, str)

    answer = respond(
        client,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "20C"}],
        previous_response_id=response.id,
        tools=[WEATHER_TOOL],
    )
    check_response(answer)
    assert answer.previous_response_id == response.id
    assert answer.usage.input_tokens > response.usage.input_tokens


def test_responses_function_call_history_in_input(client):
    """The same tool round trip with the whole conversation in input: the call as the SDK returned it (as a dict
    with the fields the server sent, id and status included, and as the typed object), then its output. (A plain
    model_dump() would also send the SDK's Python-only field name async_, which the server refuses as OpenAI
    refuses unknown item fields.)"""
    question = {"role": "user", "content": "Weather in Paris?"}
    response = respond(client, input=[question], tools=[WEATHER_TOOL], tool_choice=FORCE_WEATHER, store=False)
    check_response(response)
    call = function_calls(response)[0]
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "20C"}

    sent = call.model_dump(exclude_unset=True)
    assert {"type", "id", "call_id", "name", "arguments", "status"} <= set(sent), sent
    as_dicts = respond(client, input=[question, sent, result], tools=[WEATHER_TOOL], store=False)
    check_response(as_dicts)
    assert as_dicts.previous_response_id is None
    assert as_dicts.usage.input_tokens > response.usage.input_tokens

    # What the SDK's examples do: append response.output (typed items, reasoning included) to the input.
    as_items = respond(client, input=[question, *response.output, result], tools=[WEATHER_TOOL], store=False)
    check_response(as_items)
    assert as_items.usage.input_tokens == as_dicts.usage.input_tokens


def test_responses_stream_forced_function_call(client):
    """A streamed call: output_item.added names the function with its call_id from the start, the arguments
    come as deltas, and function_call_arguments.done has them whole, as in the final item."""
    stream = respond(client, input="Weather in Paris?", tools=[WEATHER_TOOL], tool_choice=FORCE_WEATHER, stream=True)
    events = list(stream)
    check_events(events)
    final = events[-1].response
    check_response(final)
    call = function_calls(final)[0]
    index = final.output.index(call)
    added = [e for e in events if e.type == "response.output_item.added" and e.item.type == "function_call"]
    assert len(added) == 1, added
    assert added[0].output_index == index
    assert isinstance(added[0].item, ResponseFunctionToolCall)
    assert added[0].item.name == "get_weather"
    assert added[0].item.call_id == call.call_id
    assert added[0].item.arguments == ""
    deltas = [e for e in events if e.type == "response.function_call_arguments.delta"]
    assert deltas, "the arguments came in no delta"
    assert all(e.output_index == index and e.item_id == call.id for e in deltas)
    arguments_done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert len(arguments_done) == 1, arguments_done
    assert arguments_done[0].arguments == call.arguments
    assert arguments_done[0].name == "get_weather"
    assert "".join(e.delta for e in deltas) == call.arguments


def test_responses_web_search_tool_refused(client):
    with pytest.raises(openai.BadRequestError) as error:
        respond(client, tools=[{"type": "web_search"}])
    assert error.value.param == "tools[0].type"


def test_responses_unknown_input_item_refused(client):
    with pytest.raises(openai.BadRequestError) as error:
        respond(client, input=[{"type": "computer_call", "call_id": "c1"}])
    assert error.value.param == "input[0].type"


def test_responses_reasoning_effort_max_refused(client):
    with pytest.raises(openai.BadRequestError) as error:
        respond(client, reasoning={"effort": "max"})
    assert error.value.param == "reasoning.effort"


def test_responses_unknown_model(client):
    with pytest.raises(openai.NotFoundError) as error:
        respond(client, model="no-such-model")
    assert error.value.status_code == 404
    assert error.value.code == "model_not_found"


# --- legacy completions (skipped while the server lacks the endpoint) -----------------------------------------


def completions_endpoint_missing() -> bool:
    try:
        status, _ = http("POST", BASE_URL + "/completions", {"model": MODEL, "prompt": "Hello", "max_tokens": 1})
    except OSError:
        return False  # no server: let the test fail on the connection rather than skip
    return status == 404


@pytest.mark.skipif(completions_endpoint_missing(), reason="the server has no POST /v1/completions yet (404)")
def test_completions(client):
    completion = client.completions.create(model=MODEL, prompt="Hello", max_tokens=5, temperature=0)
    assert completion.object == "text_completion"
    assert len(completion.choices) == 1
    assert isinstance(completion.choices[0].text, str)
    assert completion.choices[0].finish_reason in FINISH_REASONS
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens <= 5


# --- broken checkpoints ---------------------------------------------------------------------------------------


def broken_checkpoint(tmp_path, breakage) -> pathlib.Path:
    """A copy of the tiny checkpoint (the safetensors file linked, not copied, unless `breakage` changes it)."""
    source = pathlib.Path(SERVER_MODEL_DIR)
    target = tmp_path / "model"
    target.mkdir()
    for entry in source.iterdir():
        if entry.suffix == ".safetensors":
            (target / entry.name).symlink_to(entry.resolve())
        else:
            shutil.copy(entry, target / entry.name)
    breakage(target)
    return target


def serve_fails(model_dir: pathlib.Path) -> str:
    """Runs `gpt-oss serve` on `model_dir`, which must exit non-zero within the startup timeout; its output."""
    command = [SERVER_BIN, "serve", "--model", str(model_dir), "--port", str(free_port()), "--no-prefetch"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=STARTUP_TIMEOUT, stdin=subprocess.DEVNULL)
    assert done.returncode != 0, f"the server started on a broken checkpoint:\n{done.stdout}{done.stderr}"
    assert "panicked" not in done.stderr, done.stderr
    return done.stdout + done.stderr


def truncate(model_dir: pathlib.Path):
    shard = next(model_dir.glob("*.safetensors"))
    data = shard.resolve().read_bytes()
    shard.unlink()
    shard.write_bytes(data[: len(data) // 2])


def widen(model_dir: pathlib.Path):
    config = json.loads((model_dir / "config.json").read_text())
    config["hidden_size"] = config["hidden_size"] * 2
    (model_dir / "config.json").write_text(json.dumps(config))


@pytest.mark.skipif(
    not (SERVER_BIN and SERVER_MODEL_DIR), reason="GPT_OSS_E2E_BIN and GPT_OSS_E2E_MODEL_DIR are not set"
)
def test_a_truncated_checkpoint_fails_at_start_naming_the_file(tmp_path):
    output = serve_fails(broken_checkpoint(tmp_path, truncate))
    assert ".safetensors" in output, output


@pytest.mark.skipif(
    not (SERVER_BIN and SERVER_MODEL_DIR), reason="GPT_OSS_E2E_BIN and GPT_OSS_E2E_MODEL_DIR are not set"
)
def test_a_checkpoint_that_does_not_match_its_config_fails_naming_the_tensor(tmp_path):
    output = serve_fails(broken_checkpoint(tmp_path, widen))
    assert re.search(r"tensor `[\w.]+`", output), output
    assert "shape" in output, output


# --- slow clients ---------------------------------------------------------------------------------------------


def test_a_client_trickling_headers_is_disconnected():
    """A slow-loris client that sends a header line every 2 s never completes its request: the server closes the
    connection once its header timeout (20 s) has passed, and other clients are served meanwhile."""
    host, port = BASE_URL.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as slow:
        slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        closed_after = None
        while time.monotonic() - started < 60:
            try:
                slow.sendall(b"X-Slow: 1\r\n")
                slow.settimeout(2)
                if slow.recv(1024) == b"":
                    closed_after = time.monotonic() - started
                    break
            except socket.timeout:
                assert http("GET", server_root(BASE_URL) + "/health")[0] == 200, "others are still served"
            except OSError:
                closed_after = time.monotonic() - started
                break
    assert closed_after is not None, "the server kept a connection open for 60 s without a complete request"
    assert 15 < closed_after < 30, f"closed after {closed_after:.1f} s"
