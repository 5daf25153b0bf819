"""A kazoo Election contender for the bench (bench/peers/peers.ts).

Usage: /usr/bin/python3 kazoo_contender.py <zk hosts> <election path> <name> <session timeout ms>

Joins kazoo's Election recipe (a Lock underneath: a contender waits on its predecessor's
deletion, then lists the children) and prints, as soon as its leadership callback runs,
`LEADER <name> <unix time in ms>`. On SIGTERM it stops the client, which closes the session so
ZooKeeper deletes the contender's node at once, as an application shutting down would.
"""
import signal
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.recipe.election import Election


def main():
    hosts, path, name, timeout_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    client = KazooClient(hosts=hosts, timeout=timeout_ms / 1000)
    client.start(timeout=10)
    election = Election(client, path, identifier=name)
    stopped = threading.Event()

    def lead():
        print(f"LEADER {name} {time.time() * 1000:.3f}", flush=True)
        stopped.wait()

    def on_term(_signum, _frame):
        client.stop()
        client.close()
        sys.stdout.flush()
        # The election thread is still blocked in the callback: leave without joining it.
        import os
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    threading.Thread(target=election.run, args=(lead,), daemon=True).start()
    print(f"READY {name}", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
