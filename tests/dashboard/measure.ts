/**
 * Measures the dashboard against a real local lab (not a test: it asserts nothing and prints
 * numbers): the time from a ZooKeeper change to the page showing it (20 changes: a foreign node
 * created under the election path, then deleted, each seen through the dashboard's child watch,
 * SSE and the page's render; timed from just before the write to the DOM mutation, both on this
 * machine's clock), the page's weight and the dashboard process's memory.
 *
 *   deno run -A tests/dashboard/measure.ts
 */
import { connectZk } from "../../lib/zookeeper/client.ts";
import { DashboardLab } from "./dashboard_lab.ts";

// The functions given to page.evaluate/waitForFunction run in the page. Its DOM is declared
// loosely here instead of with lib "dom", which would retype every file of the test run.
// deno-lint-ignore no-explicit-any
declare const document: any;
// deno-lint-ignore no-explicit-any
declare const MutationObserver: any;

const CHANGES = 20;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

if (import.meta.main) {
  await using lab = new DashboardLab();
  const page = await lab.start();
  await page.waitForSelector('[data-role="leader"]', { timeout: 10_000 });
  const rssIdle = rssMb(lab.dashboardPid);
  // Each appearance and disappearance of a junk node, stamped by a MutationObserver.
  await page.evaluate(() => {
    const seen: Record<string, number> = {};
    (globalThis as unknown as { seen: typeof seen }).seen = seen;
    new MutationObserver(() => {
      const now = Date.now();
      const present = new Set(
        ([...document.querySelectorAll("[data-junk]")] as { dataset: Record<string, string> }[])
          .map((el) => (el as { dataset: Record<string, string> }).dataset.junk),
      );
      for (const name of present) seen[`+${name}`] ??= now;
      for (const key of Object.keys(seen)) {
        if (key.startsWith("+") && !present.has(key.slice(1))) seen[`-${key.slice(1)}`] ??= now;
      }
    }).observe(document.getElementById("chain")!, { childList: true, subtree: true });
    // A second stream beside the page's own, to learn when each state was sent.
    const messages: { sentAt: number; arrivedAt: number; ignored: string[] }[] = [];
    (globalThis as unknown as { messages: typeof messages }).messages = messages;
    // deno-lint-ignore no-explicit-any
    const source = new (globalThis as any).EventSource("/api/events");
    source.addEventListener("state", (event: { data: string }) => {
      const arrivedAt = Date.now();
      const state = JSON.parse(event.data);
      messages.push({ sentAt: state.sentAt, arrivedAt, ignored: state.ignored });
    });
  });
  const client = await connectZk({
    servers: [`127.0.0.1:${lab.zkPort}`],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
  });
  const latencies: number[] = [];
  const parts = { server: [] as number[], page: [] as number[] };
  try {
    for (let i = 0; i < CHANGES; i++) {
      const name = `junk-${Math.floor(i / 2)}`;
      const key = i % 2 === 0 ? `+${name}` : `-${name}`;
      const before = Date.now();
      if (i % 2 === 0) await client.create(`/election/${name}`, new Uint8Array(), "persistent");
      else await client.remove(`/election/${name}`);
      await page.waitForFunction(
        (k) => (globalThis as unknown as { seen: Record<string, number> }).seen[k] !== undefined,
        { timeout: 5000, polling: "mutation" },
        key,
      );
      const seenAt = await page.evaluate(
        (k) => (globalThis as unknown as { seen: Record<string, number> }).seen[k],
        key,
      );
      latencies.push(seenAt - before);
      // The first state that shows the change: server side until sent, then the stream, then render.
      const message = await page.evaluate(
        (name, created) =>
          (globalThis as unknown as {
            messages: { sentAt: number; arrivedAt: number; ignored: string[] }[];
          }).messages.find((m) => m.ignored.includes(name) === created),
        name,
        i % 2 === 0,
      );
      if (message) {
        parts.server.push(message.sentAt - before);
        parts.page.push(seenAt - message.sentAt);
      }
      await page.evaluate(() =>
        (globalThis as unknown as { messages: unknown[] }).messages.splice(0)
      );
    }
  } finally {
    await client.close();
  }
  const weights: Record<string, { bytes: number; gzip: number }> = {};
  for (const path of ["/", "/app.js", "/style.css"]) {
    const body = new Uint8Array(await (await fetch(`${lab.url}${path}`)).arrayBuffer());
    weights[path] = { bytes: body.length, gzip: await gzipSize(body) };
  }
  const state = await (await fetch(`${lab.url}/api/state`)).text();
  console.log(JSON.stringify(
    {
      zookeeperChangeToPageMs: {
        changes: CHANGES,
        p50: percentile(latencies, 50),
        max: Math.max(...latencies),
        all: latencies,
        // p50 of each part: until the dashboard sent the state (ZooKeeper's write and watch, the
        // dashboard's read and model), then the SSE stream and the page's render.
        p50Parts: {
          zookeeperAndServer: percentile(parts.server, 50),
          streamAndRender: percentile(parts.page, 50),
        },
      },
      pageWeightBytes: {
        ...weights,
        total: Object.values(weights).reduce((sum, w) => sum + w.bytes, 0),
        totalGzip: Object.values(weights).reduce((sum, w) => sum + w.gzip, 0),
      },
      stateJsonBytes: state.length,
      dashboardRssMb: {
        idle: Number(rssIdle.toFixed(1)),
        after: Number(rssMb(lab.dashboardPid).toFixed(1)),
      },
    },
    null,
    2,
  ));
}
