/**
 * The one rule for network addresses, used by the config, the election's member data and the lab's
 * settings alike: a host is a name, an IPv4 address or a bracketed IPv6 address (`[::1]`); an
 * address is `host:port` with a port from 1 to 65535. Pure.
 */

const HOST = /^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])$/;
const HOST_PORT = /^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** An address split into the parts `Deno.connect` takes (IPv6 without its brackets). */
export interface HostPort {
  readonly hostname: string;
  readonly port: number;
}

/** True for a host name, an IPv4 address or a bracketed IPv6 address. */
export function isHost(value: string): boolean {
  return HOST.test(value);
}

/** Splits `host:port`; undefined when `value` is not one (see the module comment). */
export function parseHostPort(value: string): HostPort | undefined {
  const match = HOST_PORT.exec(value);
  if (match === null) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { hostname: match[1].replace(/^\[(.*)\]$/, "$1"), port };
}

/** True for `host:port` with a port from 1 to 65535. */
export function isHostPort(value: string): boolean {
  return parseHostPort(value) !== undefined;
}
