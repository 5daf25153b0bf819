/**
 * `deno task dashboard`: reads the options and the lab's settings, serves the page and follows the
 * lab until SIGINT or SIGTERM. A port in use or a bad option ends it at once with one clear line.
 */
import type { Env } from "../config/config.ts";
import { LabSettingsError, parseLabSettings } from "../lab/settings.ts";
import { Hub } from "./hub.ts";
import { DASHBOARD_USAGE, DashboardOptionsError, parseDashboardOptions } from "./options.ts";
import { serveDashboard } from "./server.ts";

/** Runs the dashboard; resolves with the exit code once it was asked to stop. */
export async function runDashboard(args: readonly string[], env: Env): Promise<number> {
  let options, settings;
  try {
    options = parseDashboardOptions(args, env);
    settings = parseLabSettings(env);
  } catch (error) {
    if (!(error instanceof DashboardOptionsError || error instanceof LabSettingsError)) throw error;
    console.error(`${error.message}\n${DASHBOARD_USAGE}`);
    return 2;
  }
  if (!options) {
    console.log(DASHBOARD_USAGE);
    return 0;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const hub = new Hub(settings, env);
  let server: Deno.HttpServer;
  try {
    server = await serveDashboard(hub, {
      hostname: options.hostname,
      port: options.port,
      signal: controller.signal,
      onListen: ({ hostname, port }) => {
        const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
        console.log(`Dashboard: http://${shown}:${port}/  (Ctrl-C stops it)`);
      },
    });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      console.error(
        `Cannot start the dashboard: port ${options.port} on ${options.hostname} is already in use (use --port or LAB_DASHBOARD_PORT)`,
      );
      return 1;
    }
    throw error;
  }
  await Promise.all([hub.run(controller.signal), server.finished]);
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  return 0;
}
