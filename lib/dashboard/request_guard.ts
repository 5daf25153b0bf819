/**
 * Who may use the dashboard: its buttons kill processes, so a request must be addressed to this
 * dashboard by name (the `Host` header, against DNS rebinding: a hostile name that resolves to
 * 127.0.0.1 carries its own name there) and every POST must come from the dashboard's own page
 * (the `Origin` header, against cross-site requests). Pure.
 */

/** The `host:port` names this dashboard answers to when bound to `hostname`:`port`. */
export function allowedHosts(hostname: string, port: number): Set<string> {
  const names = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  if (hostname !== "0.0.0.0" && hostname !== "::") {
    names.add(`${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`);
  }
  return names;
}

/** Why a request is refused (status 403 and a message), or undefined when it may go on. */
export function refusal(
  request: { readonly method: string; readonly headers: Headers },
  hosts: ReadonlySet<string>,
): string | undefined {
  const host = request.headers.get("host") ?? "";
  if (!hosts.has(host.toLowerCase())) {
    return `Refused: the Host header "${host}" does not name this dashboard (${
      [...hosts].join(", ")
    })`;
  }
  if (request.method === "GET" || request.method === "HEAD") return undefined;
  const origin = request.headers.get("origin");
  if (origin !== `http://${host.toLowerCase()}`) {
    return `Refused: a ${request.method} must come from the dashboard's own page (http://${host}); its Origin was ${
      origin === null ? "missing" : `"${origin}"`
    }`;
  }
  return undefined;
}
