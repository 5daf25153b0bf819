/**
 * ZooKeeper's four-letter words (`ruok`, `srvr`, `mntr`, `wchp`…) over a plain TCP connection: the
 * health checks that work without a session, also on a server that has lost its quorum. The one
 * client for them: the lab's status and start-up, and the test harness.
 */
import { parseHostPort } from "../common/host_port.ts";

/**
 * Sends `word` to `address` (`host:port`) and resolves with the whole reply. The deadline covers
 * the connect and the reply: a paused server, or one still starting, accepts the connection (the
 * kernel does) and then never answers. A refused connection rejects with Deno's own error.
 */
export async function fourLetterWord(
  address: string,
  word: string,
  options: { timeoutMs: number },
): Promise<string> {
  const target = parseHostPort(address);
  if (target === undefined) {
    throw new TypeError(`Cannot send "${word}": "${address}" is not "host:port"`);
  }
  const signal = AbortSignal.timeout(options.timeoutMs);
  const timedOut = () =>
    new Error(
      `ZooKeeper on port ${target.port} did not answer "${word}" within ${options.timeoutMs} ms`,
    );
  let connection: Deno.TcpConn;
  try {
    connection = await Deno.connect({ ...target, signal });
  } catch (error) {
    throw signal.aborted ? timedOut() : error;
  }
  const onAbort = () => connection.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await connection.write(new TextEncoder().encode(word));
    // The server closes the connection after its reply: read to the end.
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(4096);
    let reply = "";
    let count = await connection.read(buffer);
    while (count !== null) {
      reply += decoder.decode(buffer.subarray(0, count), { stream: true });
      count = await connection.read(buffer);
    }
    return reply + decoder.decode();
  } catch (error) {
    throw signal.aborted ? timedOut() : error;
  } finally {
    signal.removeEventListener("abort", onAbort);
    try {
      connection.close();
    } catch {
      // Closed by the abort.
    }
  }
}

/** A server's health: `imok` answered, and `Mode: …` when `srvr` tells it (standalone, leader…). */
export async function zooKeeperHealth(
  address: string,
  options: { timeoutMs: number },
): Promise<{ ok: boolean; detail: string }> {
  try {
    const ruok = await fourLetterWord(address, "ruok", options);
    if (ruok.trim() !== "imok") return { ok: false, detail: `ruok: ${ruok.trim() || "no reply"}` };
    const srvr = await fourLetterWord(address, "srvr", options).catch(() => "");
    const mode = /^Mode: (.+)$/m.exec(srvr)?.[1];
    // A server outside a quorum is running (imok) but serves no client: srvr says so.
    if (mode === undefined && /not currently serving/.test(srvr)) {
      return { ok: false, detail: "imok, but not serving (no quorum)" };
    }
    return { ok: true, detail: mode ? `imok (${mode})` : "imok" };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}
