/**
 * The dashboard process without a lab and with bad options: it starts and says that no lab is up
 * (its state and its page), and a bad port or a taken one ends it with one clear line.
 */
import assert from "node:assert/strict";
import { freePort } from "../../lib/common/ports.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

function dashboard(args: string[], env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "dashboard.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

Deno.test("dashboard without a lab serves its page and says that no lab is up", async () => {
  const stateDir = Deno.makeTempDirSync({ prefix: "lab-dashboard-nolab-" });
  const port = freePort();
  const child = dashboard(["--port", String(port)], { LAB_STATE_DIR: stateDir }).spawn();
  try {
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    let state;
    while (!state?.lab?.message?.startsWith("No lab is up")) {
      assert.ok(Date.now() < deadline, `no "No lab is up" state: ${JSON.stringify(state)}`);
      state = await fetch(`${url}/api/state`).then((r) => r.json()).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(state.lab.up, false);
    assert.match(state.lab.message, /run "deno task up" and this page follows it/);
    const page = await fetch(`${url}/`);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(await page.text(), /<script type="module" src="\/app.js">/);
    const post = await fetch(`${url}/api/services/master1/stop`, {
      method: "POST",
      headers: { origin: url },
    });
    assert.equal(post.status, 404);
    assert.deepEqual(await post.json(), {
      error: 'Unknown service "master1": the lab\'s services are none (no lab is up)',
    });
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await child.stdout.cancel();
    await child.stderr.cancel();
    assert.equal(status.code, 0, "SIGTERM ends it cleanly");
    Deno.removeSync(stateDir, { recursive: true });
  }
});

Deno.test("dashboard refuses a bad --port with exit code 2 and a port in use with exit code 1", async () => {
  const bad = await dashboard(["--port", "eighty"], {}).output();
  assert.equal(bad.code, 2);
  assert.match(
    new TextDecoder().decode(bad.stderr),
    /^Cannot start the dashboard: "--port" must be a port number from 1 to 65535: current value is "eighty"$/m,
  );
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const busy = await dashboard([], { LAB_DASHBOARD_PORT: String(port) }).output();
  assert.equal(busy.code, 1);
  assert.match(
    new TextDecoder().decode(busy.stderr),
    new RegExp(
      `^Cannot start the dashboard: port ${port} on 127\\.0\\.0\\.1 is already in use \\(use --port or LAB_DASHBOARD_PORT\\)$`,
      "m",
    ),
  );
});
