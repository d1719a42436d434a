"""Schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

Bounds the work each generated request asks of the server, and nothing else: the OpenAPI document bounds
`max_tokens`, `max_completion_tokens` and `max_output_tokens` only by 2^31 - 1 and `n` by 8 (the server checks
them against --max-model-len and its own `n` limit), and the tiny checkpoint never stops by itself, so one request for
100 000 tokens would run for many minutes on a debug build. Any of these fields generated above the caps below is
lowered to the cap just before the request is sent (before_call runs in every phase: examples, coverage,
fuzzing, stateful). Values at or below the cap, zero, negatives, nulls and non-integers (the cases the server
must reject with 400) are sent as generated, so validation is still exercised. Every other field, every
endpoint and every check is left alone.
"""

import sys

import schemathesis

# CPython 3.11 before 3.11.8 (gh-106905) raises "SystemError: AST constructor recursion depth mismatch" when
# Hypothesis parses a source file (to describe a lambda) while the stack is already deep, as it is when drawing
# the nested chat `messages` schema; a higher limit keeps that parse away from it.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

# Tokens to generate per choice, and choices per request, at most.
MAX_TOKENS_CAP = 8
N_CAP = 2
TOKEN_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


@schemathesis.hook
def before_call(context, case, **kwargs):
    body = case.body
    if not isinstance(body, dict):
        return
    for field in TOKEN_FIELDS:
        if _is_int(body.get(field)) and body[field] > MAX_TOKENS_CAP:
            body[field] = MAX_TOKENS_CAP
    for field in ("n", "best_of"):
        if _is_int(body.get(field)) and body[field] > N_CAP:
            body[field] = N_CAP
