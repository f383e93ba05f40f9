"""Write-to-served latency across nodes, for bench/cross_node.sh.

Usage: cross_node.py CAMEO_BINARY PHOTO WRITES NODE_URL... -- CAMEO_ARGS...

Each write is `cameo CAMEO_ARGS add writerN@cross.example --photo PHOTO` (another process, as an
operator's would be); once it has returned (the write is committed and reported done), every
node is asked for the address's avatar (`d=404`) every 2 ms until it serves it. Prints one
line per node: the median, p90, p99 and largest delay in milliseconds, and fails when a node
never serves a write within 5 s. Writes are spaced 150-350 ms apart (random), so they land at
every phase of the nodes' feed polling.
"""

import hashlib
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request


def served_after(url, started, deadline=5.0):
    """Seconds from `started` until `url` answers 200, or None after `deadline`."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
        if time.monotonic() - started > deadline:
            return None
        time.sleep(0.002)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    split = sys.argv.index("--")
    cameo, photo, writes, *nodes = sys.argv[1:split]
    cameo_args = sys.argv[split + 1:]
    delays = {node: [] for node in nodes}
    for n in range(int(writes)):
        address = f"writer{n}@cross.example"
        digest = hashlib.md5(address.encode()).hexdigest()
        subprocess.run([cameo, *cameo_args, "add", address, "--photo", photo], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        results = {}

        def ask(node):
            results[node] = served_after(f"{node}/avatar/{digest}?s=16&d=404", started)

        threads = [threading.Thread(target=ask, args=(node,)) for node in nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for node, delay in results.items():
            if delay is None:
                sys.exit(f"{node} did not serve {address} within 5 s")
            delays[node].append(delay * 1000)
        time.sleep(random.uniform(0.15, 0.35))
    for index, node in enumerate(nodes):
        values = delays[node]
        print(f"node {index + 1}\t{len(values)} writes\tmedian {percentile(values, 0.5):.0f} ms"
              f"\tp90 {percentile(values, 0.9):.0f} ms\tp99 {percentile(values, 0.99):.0f} ms"
              f"\tmax {max(values):.0f} ms")


if __name__ == "__main__":
    main()
