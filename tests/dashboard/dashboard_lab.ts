/**
 * A real local lab (`deno task up --backend local` in a temp state folder, free ports), the
 * dashboard as its own process on a free port, and headless Chromium on its page, for the browser
 * tests and the latency measurement. `close()` stops all of it: the browser, the dashboard, the lab
 * (`deno task down`) and any process of the lab still alive after that.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { LocalLab } from "../harness/local_lab.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
/** Where the screenshots go (git-ignored test artifacts). */
export const ARTIFACTS = join(ROOT, ".lab", "dashboard");

/** See the module comment. */
export class DashboardLab implements AsyncDisposable {
  // The lab's ZooKeeper grants at least 4 s (tickTime 2000); ask for the least.
  readonly lab = new LocalLab({ env: { ZK_SESSION_TIMEOUT_MS: "4000" }, extraPorts: 1 });
  readonly dashboardPort = this.lab.extraPorts[0];
  readonly zkPort = Number(this.lab.env.LAB_ZK_PORT);
  dashboard?: Deno.ChildProcess;
  browser?: Browser;
  page?: Page;
  #pids = new Set<number>();

  /** The dashboard's own origin. */
  get url(): string {
    return `http://127.0.0.1:${this.dashboardPort}`;
  }

  /** Runs `deno task <args>` in the project root; its stdout, or fails the test on a non-zero exit. */
  task(...args: string[]): Promise<string> {
    return this.lab.ok(...args);
  }

  /** Brings the lab up, starts the dashboard and opens its page. */
  async start(): Promise<Page> {
    const up = await this.task("up", "--backend", "local");
    // The last hint of `up` says how to watch it live, on the port this environment gives.
    assert.match(
      up.trim().split("\n").at(-1)!,
      /^Watch it live: "deno task dashboard", then open http:\/\/127\.0\.0\.1:8080\/$/,
    );
    this.#rememberPids();
    this.dashboard = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "dashboard.ts", "--port", String(this.dashboardPort)],
      cwd: ROOT,
      env: this.lab.env,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    await this.#waitForListening(this.dashboard);
    this.browser = await puppeteer.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox"],
    });
    this.page = await this.browser.newPage();
    await this.page.setViewport({ width: 1200, height: 1000 });
    await this.page.goto(this.url);
    return this.page;
  }

  /** Saves a screenshot of the page as `.lab/dashboard/<name>.png`. */
  async screenshot(name: string): Promise<void> {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    await this.page!.screenshot({ path: join(ARTIFACTS, `${name}.png`) as `${string}.png` });
  }

  /** Prints the dashboard's state and the tail of each log, to explain a failure. */
  async dump(): Promise<void> {
    const state = await fetch(`${this.url}/api/state`).then((r) => r.json()).catch(String);
    console.error("Dashboard state:", JSON.stringify(state, null, 1).slice(0, 20_000));
    for (const service of ["zookeeper", "worker", "master1", "master2"]) {
      const text = this.lab.log(service);
      console.error(`--- ${service}.log\n${text.split("\n").slice(-25).join("\n")}`);
    }
  }

  /** The pid of the dashboard process. */
  get dashboardPid(): number {
    return this.dashboard!.pid;
  }

  async close(): Promise<void> {
    await this.browser?.close().catch(() => {});
    if (this.dashboard) {
      try {
        this.dashboard.kill("SIGTERM");
      } catch {
        // Exited already.
      }
      await this.dashboard.status;
    }
    this.#rememberPids();
    await this.lab.close([...this.#pids]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Notes the lab's pids (a service restarted from the page gets a new one). */
  #rememberPids(): void {
    for (const pid of this.lab.pids()) this.#pids.add(pid);
  }

  /** Reads the dashboard's stdout until it says where it listens; then drains the rest. */
  async #waitForListening(child: Deno.ChildProcess): Promise<void> {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const deadline = setTimeout(() => reader.cancel(), 30_000);
    while (!seen.includes("Dashboard: http://")) {
      const { value, done } = await reader.read();
      if (done) assert.fail(`The dashboard did not start:\n${seen}`);
      seen += value;
    }
    clearTimeout(deadline);
    (async () => {
      while (!(await reader.read()).done) { /* keep the pipe flowing */ }
    })().catch(() => {});
  }

  /** Call after an action that started services, so close() knows every pid. */
  notePids(): void {
    this.#rememberPids();
  }
}
