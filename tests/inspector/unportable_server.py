#!/usr/bin/env python3
# A minimal stdio MCP server whose one tool has a `type` array: the negative control of
# tests/inspector/run.sh (proves the pinned Inspector still reports such schemas).
import sys, json
for line in sys.stdin:
    m = json.loads(line)
    if "id" not in m: continue
    meth = m["method"]
    if meth == "initialize":
        r = {"protocolVersion": m["params"]["protocolVersion"], "capabilities": {"tools": {}}, "serverInfo": {"name": "f", "version": "1"}}
    elif meth == "tools/list":
        r = {"tools": [{"name": "t", "inputSchema": {"type": "object", "properties": {"a": {"type": ["string", "null"]}}}}]}
    else:
        r = {}
    print(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": r}), flush=True)
