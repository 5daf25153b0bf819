/**
 * ZooKeeper's four-letter words (`ruok`, `srvr`) over a plain TCP connection: the health checks
 * that work without a session, also on a server that has lost its quorum.
 */

/** Sends `word` to `address` (`host:port`) and resolves with the whole reply. */
export async function fourLetterWord(
  address: string,
  word: "ruok" | "srvr",
  options: { timeoutMs: number },
): Promise<string> {
  const [hostname, port] = [address.slice(0, address.lastIndexOf(":")), address.split(":").pop()];
  const signal = AbortSignal.timeout(options.timeoutMs);
  const connection = await Deno.connect({ hostname, port: Number(port), signal });
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
    if (signal.aborted) {
      throw new Error(`No reply to "${word}" from ${address} within ${options.timeoutMs} ms`);
    }
    throw error;
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
