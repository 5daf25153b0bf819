/**
 * The dashboard's command line and environment, read by one pure function so every error message
 * is tested: `--port` / LAB_DASHBOARD_PORT (default 8080) and `--host` / LAB_DASHBOARD_HOST
 * (default 127.0.0.1: the buttons kill processes, so nothing but this machine reaches them unless
 * told otherwise).
 */
import { parseArgs } from "node:util";
import type { Env } from "../config/config.ts";

/** Where the dashboard listens. */
export interface DashboardOptions {
  readonly hostname: string;
  readonly port: number;
}

/** A command line or variable the dashboard cannot use; the message names it and its value. */
export class DashboardOptionsError extends Error {
  override name = "DashboardOptionsError";
}

/** The usage line printed with `--help` and after a usage error. */
export const DASHBOARD_USAGE =
  "Usage: deno task dashboard [--port N] [--host ADDRESS]   (or LAB_DASHBOARD_PORT, LAB_DASHBOARD_HOST)";

/** Parses `args` and `env`; throws {@linkcode DashboardOptionsError}. `undefined`: print the usage. */
export function parseDashboardOptions(
  args: readonly string[],
  env: Env,
): DashboardOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        port: { type: "string" },
        host: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new DashboardOptionsError(
      `Cannot start the dashboard: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (values.help) return undefined;
  const [portName, portText] = values.port !== undefined
    ? ["--port", values.port]
    : ["LAB_DASHBOARD_PORT", env["LAB_DASHBOARD_PORT"]?.trim() || "8080"];
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new DashboardOptionsError(
      `Cannot start the dashboard: "${portName}" must be a port number from 1 to 65535: current value is "${portText}"`,
    );
  }
  const [hostName, hostname] = values.host !== undefined
    ? ["--host", values.host.trim()]
    : ["LAB_DASHBOARD_HOST", env["LAB_DASHBOARD_HOST"]?.trim() || "127.0.0.1"];
  if (!/^[\w.:-]+$/.test(hostname)) {
    throw new DashboardOptionsError(
      `Cannot start the dashboard: "${hostName}" must be a host name or IP address: current value is "${hostname}"`,
    );
  }
  return { hostname, port };
}
