/**
 * The dashboard in a real browser (headless Chromium) against a real local lab: what a person sees
 * and clicks. One lab for the whole story, told in order: the leader shown, Stop of the leader,
 * Pause and Resume past the session timeout, requests from elsewhere refused, ZooKeeper stopped and
 * back. A screenshot of each state is saved under .lab/dashboard/.
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { DashboardLab } from "./dashboard_lab.ts";

// The functions given to page.evaluate/waitForFunction run in the page. Its DOM is declared
// loosely here instead of with lib "dom", which would retype every file of the test run.
// deno-lint-ignore no-explicit-any
declare const document: any;

const OTHER = { master1: "master2", master2: "master1" } as Record<string, string>;

function service(name: string, attribute = ""): string {
  return `[data-service="${name}"]${attribute}`;
}

/** Clicks the enabled button with this accessible name (waits until it is enabled). */
async function click(page: Page, name: string, timeout = 10_000): Promise<void> {
  const button = await page.waitForSelector(`button[aria-label="${name}"]:not([disabled])`, {
    timeout,
  });
  await button!.click();
}

/** The steps of the timeline as drawn: kind and offset, in drawing order. */
function timelineSteps(page: Page): Promise<{ kind: string; offset: number; label: string }[]> {
  return page.$$eval("#timeline g[data-step]", (groups) =>
    groups.map((g) => ({
      kind: (g as { dataset: Record<string, string> }).dataset.step!,
      offset: Number((g as { dataset: Record<string, string> }).dataset.offset),
      label: g.textContent!.trim(),
    })));
}

/** Waits for a complete timeline (the worker accepted) whose fault names `faultText`. */
async function completeTimeline(page: Page, faultText: string, timeout = 20_000) {
  await page.waitForFunction(
    // Complete: the worker accepted, and the new leader's own line is in (it may be read later).
    (text) => {
      const steps = [...document.querySelectorAll("#timeline g[data-step]")] as {
        textContent: string;
        dataset: Record<string, string>;
      }[];
      const kinds = steps.map((g) => (g as { dataset: Record<string, string> }).dataset.step);
      return steps.some((g) => g.textContent!.includes(text)) && kinds.includes("accepted") &&
        kinds.includes("leading");
    },
    { timeout },
    faultText,
  );
  const steps = await timelineSteps(page);
  assert.deepEqual(
    steps.map((step) => step.kind),
    ["fault", "gone", "first", "leading", "accepted"],
    `the steps of the failover, in order: ${JSON.stringify(steps)}`,
  );
  for (let i = 1; i < steps.length; i++) {
    assert.ok(steps[i].offset >= steps[i - 1].offset, `offsets grow: ${JSON.stringify(steps)}`);
  }
  assert.equal(steps[0].offset, 0);
  return steps;
}

/** Sends one raw HTTP/1.1 request (any Host header) and returns the status and body. */
async function rawRequest(port: number, head: string): Promise<{ status: number; body: string }> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  await connection.write(new TextEncoder().encode(head + "Connection: close\r\n\r\n"));
  const text = new TextDecoder().decode(
    await new Response(connection.readable).arrayBuffer(),
  );
  const [status] = text.match(/^HTTP\/1\.1 (\d+)/)!.slice(1);
  return { status: Number(status), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

/** Wraps t.step so that a failing step prints what the dashboard and the logs said. */
function failingWithDump(t: Deno.TestContext, lab: DashboardLab): Deno.TestContext["step"] {
  const step = t.step.bind(t) as (name: string, fn: () => Promise<void>) => Promise<boolean>;
  return (async (name: string, fn: () => Promise<void>) =>
    await step(name, async () => {
      try {
        await fn();
      } catch (error) {
        await lab.dump();
        throw error;
      }
    })) as Deno.TestContext["step"];
}

Deno.test({
  name: "dashboard shows a real lab's election live and its buttons break it, in Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using lab = new DashboardLab();
    const page = await lab.start();
    t.step = failingWithDump(t, lab);
    let leader = "";

    await t.step("the page shows the leader, its follower and healthy services", async () => {
      await page.waitForSelector(`[data-role="leader"]`, { timeout: 10_000 });
      leader = await page.$eval(
        `[data-role="leader"]`,
        (el) => (el as { dataset: Record<string, string> }).dataset.service!,
      );
      assert.equal(leader, "master1", "up makes master1 the first leader");
      await page.waitForSelector(service("master2", '[data-role="follower"]'), { timeout: 5000 });
      await page.waitForSelector(service("zookeeper", '[data-health="ok"]'), { timeout: 5000 });
      await page.waitForSelector(service("worker", '[data-health="ok"]'), { timeout: 5000 });
      assert.match(await page.$eval(service("master1"), (el) => el.textContent!), /LEADER/);
      await lab.screenshot("1-leader");
    });

    await t.step(
      "Stop <leader> makes the other master the leader within 2 s, timeline in order",
      async () => {
        const next = OTHER[leader];
        const clickedAt = Date.now();
        await click(page, `Stop ${leader}`);
        await page.waitForSelector(service(next, '[data-role="leader"]'), { timeout: 2000 });
        assert.ok(Date.now() - clickedAt < 2000 + 200, "the new leader is shown within 2 s");
        const steps = await completeTimeline(page, `stop (SIGTERM) sent to ${leader}`);
        assert.match(steps.at(-1)!.label, new RegExp(`the worker accepted ${next}'s epoch \\d+`));
        await page.waitForSelector(service(leader, '[data-role="none"]'), { timeout: 5000 });
        await lab.screenshot("2-after-stop");
        await click(page, `Start ${leader}`);
        await page.waitForSelector(service(leader, '[data-role="follower"]'), { timeout: 20_000 });
        lab.notePids();
        leader = next;
      },
    );

    await t.step(
      "Pause then Resume of the leader past its session timeout: takeover, old leader back as follower",
      async () => {
        const next = OTHER[leader];
        await click(page, `Pause ${leader}`);
        await page.waitForSelector(service(leader, ".process-paused"), { timeout: 5000 });
        // The paused leader's node stays until ZooKeeper expires its session (at least 4 s here).
        await page.waitForSelector(service(next, '[data-role="leader"]'), { timeout: 20_000 });
        await completeTimeline(page, `pause (SIGSTOP) sent to ${leader}`);
        await lab.screenshot("3-paused-leader");
        // By keyboard: focus the button and press Enter.
        await page.focus(`button[aria-label="Resume ${leader}"]`);
        await page.keyboard.press("Enter");
        await page.waitForSelector(service(leader, '[data-role="follower"]'), { timeout: 20_000 });
        await page.waitForSelector(service(next, '[data-role="leader"]'), { timeout: 1000 });
        await lab.screenshot("4-resumed-follower");
        leader = next;
      },
    );

    await t.step(
      "a POST from another origin is refused (403), and so is a wrong Host",
      async () => {
        const since = Date.now();
        // A real page of another origin tries to stop the leader through the browser.
        const evil = Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen() {} },
          () =>
            new Response(
              `<script>fetch("${lab.url}/api/services/${leader}/stop", {method: "POST"})
            .then((r) => document.title = "status " + r.status, () => document.title = "blocked");
          </script>`,
              { headers: { "content-type": "text/html" } },
            ),
        );
        const other = await lab.browser!.newPage();
        try {
          await other.goto(`http://127.0.0.1:${evil.addr.port}/`);
          // The response is unreadable to that page (no CORS); the request was still sent.
          await other.waitForFunction(() => document.title !== "", { timeout: 5000 });
        } finally {
          await other.close();
          await evil.shutdown();
        }
        // Nothing was stopped: the leader still leads and the stop never reached the lab.
        const state = await (await fetch(`${lab.url}/api/state`)).json();
        assert.equal(state.chain[0].name, leader);
        assert.ok(
          !state.events.some((event: { at: number; text: string }) =>
            event.at >= since && event.text === `stop ${leader}: sent`
          ),
          "no refused request reached the backend",
        );
        const raw = await rawRequest(
          lab.dashboardPort,
          `POST /api/services/${leader}/stop HTTP/1.1\r\nHost: 127.0.0.1:${lab.dashboardPort}\r\nOrigin: http://evil.example\r\nContent-Length: 0\r\n`,
        );
        assert.equal(raw.status, 403);
        assert.match(JSON.parse(raw.body).error, /must come from the dashboard's own page/);
        const rebound = await rawRequest(
          lab.dashboardPort,
          `POST /api/services/${leader}/stop HTTP/1.1\r\nHost: evil.example:${lab.dashboardPort}\r\nOrigin: http://evil.example:${lab.dashboardPort}\r\nContent-Length: 0\r\n`,
        );
        assert.equal(rebound.status, 403);
        assert.match(
          JSON.parse(rebound.body).error,
          /Host header "evil\.example:\d+" does not name/,
        );
        const origin =
          `Host: 127.0.0.1:${lab.dashboardPort}\r\nOrigin: ${lab.url}\r\nContent-Length: 0\r\n`;
        const unknown = await rawRequest(
          lab.dashboardPort,
          `POST /api/services/nobody/stop HTTP/1.1\r\n${origin}`,
        );
        assert.equal(unknown.status, 404);
        assert.match(
          JSON.parse(unknown.body).error,
          /^Unknown service "nobody": the lab's services are zookeeper, worker, master1, master2$/,
        );
        const action = await rawRequest(
          lab.dashboardPort,
          `POST /api/services/${leader}/explode HTTP/1.1\r\n${origin}`,
        );
        assert.equal(action.status, 400);
        assert.match(
          JSON.parse(action.body).error,
          /^Unknown action "explode": the actions are stop, kill, pause, resume, start$/,
        );
      },
    );

    await t.step(
      "Submit task goes through the leader; Failover draws the clean handover",
      async () => {
        await page.click("#submit-form button[type=submit]");
        await page.waitForFunction(
          () =>
            /^Task dashboard-\w+: Hello, worker! gatech \(through master[12]/.test(
              document.getElementById("result").textContent,
            ),
          { timeout: 15_000 },
        );
        await page.waitForFunction(
          () => /dashboard-\w+/.test(document.querySelector('[data-service="worker"]').textContent),
          { timeout: 5000 },
        );
        const next = OTHER[leader];
        await page.click("#failover-button");
        await completeTimeline(page, `failover: stop sent to ${leader}`);
        await page.waitForFunction(
          (name) => document.getElementById("result").textContent === `failover ${name}: done`,
          { timeout: 30_000 },
          leader,
        );
        await page.waitForSelector(service(next, '[data-role="leader"]'), { timeout: 1000 });
        await page.waitForSelector(service(leader, '[data-role="follower"]'), { timeout: 5000 });
        lab.notePids();
        leader = next;
      },
    );

    await t.step("with ZooKeeper stopped the page says so, and comes back by itself", async () => {
      await click(page, "Stop zookeeper");
      await page.waitForFunction(
        () =>
          /ZooKeeper is down/.test(document.getElementById("banner")!.textContent ?? "") &&
          !document.getElementById("banner")!.hidden,
        { timeout: 15_000 },
      );
      await page.waitForSelector(service("zookeeper", '[data-health="down"]'), { timeout: 5000 });
      await lab.screenshot("5-zookeeper-down");
      await click(page, "Start zookeeper");
      await page.waitForFunction(() => document.getElementById("banner")!.hidden, {
        timeout: 30_000,
      });
      await page.waitForSelector(service("zookeeper", '[data-health="ok"]'), { timeout: 10_000 });
      await page.waitForSelector(`[data-role="leader"]`, { timeout: 20_000 });
      lab.notePids();
      await lab.screenshot("6-zookeeper-back");
    });
  },
});
