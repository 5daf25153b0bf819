/**
 * The dashboard's HTTP server (Deno.serve): the static page, and the JSON API that the page and
 * scripts both use:
 *   GET  /api/state                        the whole state
 *   GET  /api/events                       Server-Sent Events: the whole state first, then on change
 *   POST /api/services/<name>/<action>     stop, kill, pause, resume, start
 *   POST /api/lab/submit  {"message": …}   one task through the leader
 *   POST /api/lab/failover                 the measured clean handover of `deno task failover`
 * Every request passes {@linkcode refusal} first (Host and Origin checks).
 */
import type { DashboardState } from "./state_model.ts";
import type { ActionResult, Hub } from "./hub.ts";
import { allowedHosts, refusal } from "./request_guard.ts";

const STATIC_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

/** Options of {@linkcode serveDashboard}. */
export interface ServeOptions {
  readonly hostname: string;
  readonly port: number;
  readonly signal: AbortSignal;
  readonly onListen?: (address: Deno.NetAddr) => void;
}

/** Serves the dashboard of `hub` until `signal` aborts. */
export async function serveDashboard(hub: Hub, options: ServeOptions): Promise<Deno.HttpServer> {
  const files = new Map<string, { body: Uint8Array<ArrayBuffer>; type: string }>();
  for (const [path, { file, type }] of Object.entries(STATIC_FILES)) {
    files.set(path, {
      body: await Deno.readFile(new URL(`static/${file}`, import.meta.url)),
      type,
    });
  }
  const events = new EventStream(hub);
  options.signal.addEventListener("abort", () => events.close(), { once: true });
  let hosts = allowedHosts(options.hostname, options.port);
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    signal: options.signal,
    onListen: (address) => {
      hosts = allowedHosts(options.hostname, address.port);
      options.onListen?.(address);
    },
  }, async (request) => {
    const refused = refusal(request, hosts);
    if (refused) return json(403, { error: refused });
    const { pathname } = new URL(request.url);
    const file = files.get(pathname);
    if (file && request.method === "GET") {
      return new Response(file.body, {
        headers: { "content-type": file.type, "cache-control": "no-cache" },
      });
    }
    if (pathname === "/api/state" && request.method === "GET") return json(200, hub.state);
    if (pathname === "/api/events" && request.method === "GET") return events.open();
    if (request.method === "POST") return result(await post(hub, pathname, request));
    return json(404, { error: `Not found: ${request.method} ${pathname}` });
  });
  return server;
}

async function post(hub: Hub, pathname: string, request: Request): Promise<ActionResult> {
  const service = /^\/api\/services\/([^/]+)\/([^/]+)$/.exec(pathname);
  if (service) return await hub.act(decodeURIComponent(service[1]), decodeURIComponent(service[2]));
  if (pathname === "/api/lab/failover") return await hub.failover();
  if (pathname === "/api/lab/submit") {
    const body = await request.json().catch(() => undefined);
    const message = body?.message;
    if (typeof message !== "string" || message.trim() === "" || message.length > 200) {
      return {
        status: 400,
        message: 'The body must be JSON with a "message" of 1 to 200 characters',
      };
    }
    return await hub.submit(message);
  }
  return { status: 404, message: `Not found: POST ${pathname}` };
}

function result({ status, message }: ActionResult): Response {
  return json(status, status < 400 ? { message } : { error: message });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/**
 * Server-Sent Events: each client gets the whole state at once, then again after each change. The
 * changes of one turn of the event loop are sent as one message, serialised once for all clients.
 */
class EventStream {
  readonly #clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  readonly #encoder = new TextEncoder();
  #pending = false;
  readonly #unsubscribe: () => void;
  readonly #keepAlive: ReturnType<typeof setInterval>;

  constructor(private readonly hub: Hub) {
    this.#unsubscribe = hub.subscribe(() => this.#schedule());
    // Proxies and browsers drop a silent stream; a comment line every 15 s keeps it open.
    this.#keepAlive = setInterval(
      () => this.#send(this.#encoder.encode(": keep-alive\n\n")),
      15_000,
    );
  }

  open(): Response {
    let self: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller;
        // `retry`: the browser reconnects after 1 s instead of its default 3 s.
        controller.enqueue(this.#encoder.encode(`retry: 1000\n${message(this.hub.state)}`));
        this.#clients.add(controller);
      },
      cancel: () => void this.#clients.delete(self),
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
    });
  }

  close(): void {
    this.#unsubscribe();
    clearInterval(this.#keepAlive);
    for (const client of this.#clients) {
      try {
        client.close();
      } catch {
        // Already closed by the client.
      }
    }
    this.#clients.clear();
  }

  #schedule(): void {
    if (this.#pending) return;
    this.#pending = true;
    queueMicrotask(() => {
      this.#pending = false;
      this.#send(this.#encoder.encode(message(this.hub.state)));
    });
  }

  #send(bytes: Uint8Array): void {
    for (const client of this.#clients) {
      try {
        client.enqueue(bytes);
      } catch {
        this.#clients.delete(client);
      }
    }
  }
}

function message(state: DashboardState): string {
  // `sentAt` lets a page (and the latency measurement) tell how old a state is on arrival.
  return `event: state\ndata: ${JSON.stringify({ ...state, sentAt: Date.now() })}\n\n`;
}
