/**
 * The dashboard's pure readers: log lines in both formats, `srvr` replies, the request guard (Host
 * and Origin) and the options with their error messages.
 */
import assert from "node:assert/strict";
import { parseLogLine } from "../../lib/dashboard/log_lines.ts";
import { parseSrvr } from "../../lib/dashboard/service_probes.ts";
import { allowedHosts, refusal } from "../../lib/dashboard/request_guard.ts";
import { parseDashboardOptions } from "../../lib/dashboard/options.ts";
import { parseTimestampedLine } from "../../lib/lab/compose/follow_logs.ts";

Deno.test("parseLogLine reads the text format's message, level and key=value facts", () => {
  const record = parseLogLine(
    '2026/12/01 10:00:05 WARN: I am no longer the leader reason="the session \\"expired\\"" epoch=7',
  )!;
  assert.equal(record.level, "warn");
  assert.equal(record.message, "I am no longer the leader");
  assert.deepEqual(record.fields, { reason: 'the session "expired"', epoch: "7" });
  assert.equal(record.time, new Date(2026, 11, 1, 10, 0, 5).getTime());
  const task = parseLogLine("2026/12/01 10:00:05 Performing task: leader_election")!;
  assert.equal(task.message, "Performing task: leader_election");
  assert.deepEqual(task.fields, {});
});

Deno.test("parseLogLine reads the JSON format too, and skips lines of neither", () => {
  const record = parseLogLine(
    '{"time":"2026-12-01T10:00:05.123Z","level":"info","msg":"I am the leader","epoch":"9"}',
  )!;
  assert.deepEqual(record, {
    level: "info",
    message: "I am the leader",
    fields: { epoch: "9" },
    time: Date.parse("2026-12-01T10:00:05.123Z"),
  });
  assert.equal(parseLogLine("2026-12-01 10:00:05,123 [main] INFO ZooKeeper started"), undefined);
  assert.equal(parseLogLine("{not json"), undefined);
});

Deno.test("parseSrvr takes the mode and last zxid, or says the server is not serving", () => {
  assert.deepEqual(
    parseSrvr(
      "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.5/3\nZxid: 0x1a\nMode: standalone\n",
    ),
    { ok: true, detail: "serving (standalone)", mode: "standalone", zxid: "0x1a" },
  );
  assert.deepEqual(parseSrvr("This ZooKeeper instance is not currently serving requests\n"), {
    ok: false,
    detail: "not serving (no quorum)",
  });
});

Deno.test("parseTimestampedLine splits docker's timestamp from the line", () => {
  assert.deepEqual(parseTimestampedLine("2026-12-01T10:00:05.123456789Z 2026/12/01 hello"), {
    at: Date.parse("2026-12-01T10:00:05.123Z"),
    text: "2026/12/01 hello",
  });
});

const hosts = allowedHosts("127.0.0.1", 8080);
const request = (method: string, headers: Record<string, string>) => ({
  method,
  headers: new Headers(headers),
});

Deno.test("refusal lets the dashboard's own page in, by 127.0.0.1 or localhost", () => {
  assert.equal(refusal(request("GET", { host: "127.0.0.1:8080" }), hosts), undefined);
  assert.equal(
    refusal(request("POST", { host: "localhost:8080", origin: "http://localhost:8080" }), hosts),
    undefined,
  );
});

Deno.test("refusal turns away a POST from another origin, or with none", () => {
  assert.equal(
    refusal(request("POST", { host: "127.0.0.1:8080", origin: "http://evil.example" }), hosts),
    'Refused: a POST must come from the dashboard\'s own page (http://127.0.0.1:8080); its Origin was "http://evil.example"',
  );
  assert.match(refusal(request("POST", { host: "127.0.0.1:8080" }), hosts)!, /Origin was missing/);
  // Same host, other port: another origin.
  assert.ok(
    refusal(request("POST", { host: "127.0.0.1:8080", origin: "http://127.0.0.1:9999" }), hosts),
  );
});

Deno.test("refusal turns away a request whose Host names something else (DNS rebinding)", () => {
  const rebound = request("GET", { host: "evil.example:8080" });
  assert.equal(
    refusal(rebound, hosts),
    'Refused: the Host header "evil.example:8080" does not name this dashboard (127.0.0.1:8080, localhost:8080, [::1]:8080)',
  );
  const post = request("POST", { host: "evil.example:8080", origin: "http://evil.example:8080" });
  assert.ok(refusal(post, hosts));
  assert.ok(refusal(request("GET", { host: "127.0.0.1:8081" }), hosts), "another port");
});

Deno.test("allowedHosts adds the configured bind address, but not a wildcard", () => {
  assert.ok(allowedHosts("192.168.1.5", 8080).has("192.168.1.5:8080"));
  assert.ok(!allowedHosts("0.0.0.0", 8080).has("0.0.0.0:8080"));
});

Deno.test("parseDashboardOptions defaults to 127.0.0.1:8080, --port wins over LAB_DASHBOARD_PORT", () => {
  assert.deepEqual(parseDashboardOptions([], {}), { hostname: "127.0.0.1", port: 8080 });
  assert.deepEqual(parseDashboardOptions([], { LAB_DASHBOARD_PORT: "9090" }), {
    hostname: "127.0.0.1",
    port: 9090,
  });
  assert.deepEqual(
    parseDashboardOptions(["--port", "7000", "--host", "localhost"], {
      LAB_DASHBOARD_PORT: "9090",
    }),
    { hostname: "localhost", port: 7000 },
  );
  assert.equal(parseDashboardOptions(["--help"], {}), undefined);
});

Deno.test("parseDashboardOptions names the option and the value it cannot use", () => {
  assert.throws(() => parseDashboardOptions(["--port", "http"], {}), {
    message:
      'Cannot start the dashboard: "--port" must be a port number from 1 to 65535: current value is "http"',
  });
  assert.throws(() => parseDashboardOptions([], { LAB_DASHBOARD_PORT: "70000" }), {
    message:
      'Cannot start the dashboard: "LAB_DASHBOARD_PORT" must be a port number from 1 to 65535: current value is "70000"',
  });
  assert.throws(() => parseDashboardOptions([], { LAB_DASHBOARD_HOST: "a b" }), {
    message:
      'Cannot start the dashboard: "LAB_DASHBOARD_HOST" must be a host name or IP address: current value is "a b"',
  });
  assert.throws(
    () => parseDashboardOptions(["--bogus"], {}),
    /Cannot start the dashboard: Unknown option '--bogus'/,
  );
});
