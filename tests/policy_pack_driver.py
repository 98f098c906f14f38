"""Answers CrossGuard requests with the policy pack as Pulumi starts it (tests/test_policy_pack.py).

Run from the repository's root with the pack's own interpreter (policy/venv/bin/python): it runs
policy/ as `python -m pulumi.policy` does (runpy, as `__main__`), with a PolicyPack that keeps what
the pack gives it instead of serving it on a port, builds the SDK's own servicer from that, and
answers each request read from stdin, as the engine would send it:

    {"requests": [{"method": "GetAnalyzerInfo" | "Analyze" | "AnalyzeStack",
                   "request": <AnalyzeRequest or AnalyzeStackRequest, protobuf JSON>,
                   "config": <the stack's config, as the engine puts it in PULUMI_CONFIG>}]}

Prints the responses, as protobuf JSON, in the same order.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from typing import Any
from unittest import mock

from google.protobuf import json_format
from google.protobuf.message import Message
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy.policy import _PolicyAnalyzerServicer

PACK = "policy"
# PolicyPack's own; the engine labels diagnostics with PulumiPolicy.yaml's version instead.
VERSION = "0.0.1"
REQUESTS: dict[str, type[Message]] = {
    "Analyze": analyzer_pb2.AnalyzeRequest,
    "AnalyzeStack": analyzer_pb2.AnalyzeStackRequest,
}


def servicer() -> _PolicyAnalyzerServicer:
    packs: list[dict[str, Any]] = []
    with mock.patch("pulumi_policy.PolicyPack", lambda **pack: packs.append(pack)):
        runpy.run_path(PACK, run_name="__main__")
    (pack,) = packs
    return _PolicyAnalyzerServicer(
        pack["name"], VERSION, pack["policies"], pack["enforcement_level"]
    )


def answer(analyzer: _PolicyAnalyzerServicer, entry: dict[str, Any]) -> dict[str, Any]:
    method = entry["method"]
    if method == "GetAnalyzerInfo":
        response = analyzer.GetAnalyzerInfo(None, None)
    else:
        request = json_format.ParseDict(entry["request"], REQUESTS[method]())
        os.environ["PULUMI_CONFIG"] = json.dumps(entry.get("config", {}))
        response = getattr(analyzer, method)(request, None)
    return json_format.MessageToDict(response, always_print_fields_with_no_presence=True)


def main() -> None:
    requests = json.load(sys.stdin)["requests"]
    analyzer = servicer()
    json.dump([answer(analyzer, entry) for entry in requests], sys.stdout)


if __name__ == "__main__":
    main()
