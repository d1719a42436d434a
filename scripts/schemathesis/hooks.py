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

# CPython 3.11 before 3.11.8 (gh-106905) raises "SystemError: AST constructor recursion depth mismatch" from
# ast.parse when the stack is already deep, as it is while Hypothesis draws the nested chat `messages` schema and
# describes a strategy's lambda (it parses the lambda's source file for a repr). A higher recursion limit makes it
# rarer but not impossible (CI met it once in the coverage phase, reported as a flaky schemathesis error). The
# description is only a repr, so where that parse fails the lambda gets Hypothesis' own fallback for a lambda it
# cannot read; the generated data is unchanged.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
if sys.version_info[:3] < (3, 11, 8):
    from hypothesis.internal import lambda_sources

    # The one function that parses (every caller looks it up in the module when it calls).
    _describe_lambda = lambda_sources._lambda_description

    def _lambda_description_or_unknown(f, *args, **kwargs):
        try:
            return _describe_lambda(f, *args, **kwargs)
        except SystemError:
            return "lambda: <unknown>"

    lambda_sources._lambda_description = _lambda_description_or_unknown

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
