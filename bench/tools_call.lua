-- bench/tools_call.lua: wrk script for bench/run.
--
-- Every request is the same stateless 2026-07-28 `tools/call test_simple_text`
-- (no session, no initialize: protocol version, client capabilities and client info
-- travel in params._meta and in the MCP-* headers).
--
-- Status checking: by default each response's status is checked in response() and
-- anything but 200 is counted (the first one is kept for the report). Set
-- BENCH_CHECK=0 in the environment to drop the per-response hook; wrk then still
-- counts statuses >= 400 itself (errors.status), and bench/run's preflight has checked
-- one response's status and body.
--
-- done() prints one machine-readable line that bench/run parses:
--   BENCH_RESULT requests=… duration_us=… rps=… p50_us=… p90_us=… p99_us=… …

wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/mcp"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "test_simple_text"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test_simple_text","arguments":{},'
    .. '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    .. '"io.modelcontextprotocol/clientCapabilities":{},'
    .. '"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}}}'

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    non200 = 0
    first_bad = ""
end

if os.getenv("BENCH_CHECK") ~= "0" then
    function response(status, headers, body)
        if status ~= 200 then
            non200 = non200 + 1
            if first_bad == "" then
                first_bad = tostring(status) .. " " .. string.sub(tostring(body or ""), 1, 200)
            end
        end
    end
end

function done(summary, latency, requests)
    local bad, first = 0, ""
    for _, t in ipairs(threads) do
        bad = bad + (t:get("non200") or 0)
        local fb = t:get("first_bad")
        if first == "" and fb and fb ~= "" then first = fb end
    end
    local secs = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        "BENCH_RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f "
            .. "non200=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
        summary.requests, summary.duration, summary.requests / secs,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
        bad, e.connect, e.read, e.write, e.status, e.timeout))
    if first ~= "" then
        io.write("BENCH_FIRST_BAD " .. string.gsub(first, "[\r\n]", " ") .. "\n")
    end
end
