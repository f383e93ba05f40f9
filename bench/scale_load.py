#!/usr/bin/env python3
"""Bulk-loads a Cameo database for bench/scale.sh: N confirmed email addresses
(user0@scale.example ... user{N-1}@scale.example, MD5 and SHA-256 digests) spread over the
photos already stored, in one transaction, straight into SQLite (the triggers of the change
feed fire as for any write). Afterwards the feed is trimmed as a day-old install's would be.
Writes the hashes the bench asks for: hot.txt (the first 1,000 addresses) and all.txt (a
random sample of 200,000 of all N, MD5 and SHA-256 mixed).

Usage: scale_load.py DATABASE COUNT OUTDIR
"""

import hashlib
import os
import random
import sqlite3
import sys
import time


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit("usage: scale_load.py DATABASE COUNT OUTDIR")
    database, count, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    db = sqlite3.connect(database)
    photos = [row[0] for row in db.execute("SELECT id FROM photos ORDER BY id")]
    if not photos:
        sys.exit("no photos stored: import some first")
    now = int(time.time())
    start = db.execute("SELECT COALESCE(MAX(id), 0) FROM addresses").fetchone()[0] + 1
    hot, sample = [], []
    keep = 200_000 / max(count, 1)
    rng = random.Random(42)
    db.execute("BEGIN")
    batch_addresses, batch_digests = [], []
    for n in range(count):
        address = f"user{n}@scale.example"
        address_id = start + n
        md5 = hashlib.md5(address.encode()).hexdigest()
        sha256 = hashlib.sha256(address.encode()).hexdigest()
        batch_addresses.append(
            (address_id, address, photos[n % len(photos)], now, now, now)
        )
        batch_digests.append((md5, address_id))
        batch_digests.append((sha256, address_id))
        if n < 1000:
            hot.append(md5)
        if rng.random() < keep:
            sample.append(md5 if rng.random() < 0.5 else sha256)
        if len(batch_addresses) >= 50_000:
            flush(db, batch_addresses, batch_digests)
    flush(db, batch_addresses, batch_digests)
    newest = db.execute("SELECT COALESCE(MAX(seq), 0) FROM avatar_changes").fetchone()[0]
    db.execute("DELETE FROM avatar_changes")
    db.execute("UPDATE avatar_feed SET trimmed_through = ?", (newest,))
    db.execute("COMMIT")
    db.close()
    rng.shuffle(sample)
    for name, hashes in (("hot.txt", hot), ("all.txt", sample)):
        with open(os.path.join(outdir, name), "w") as out:
            out.write("\n".join(hashes) + "\n")


def flush(db, addresses, digests) -> None:
    db.executemany(
        "INSERT INTO addresses (id, kind, address, photo_id, confirmed_at, created_at, updated_at)"
        " VALUES (?, 'email', ?, ?, ?, ?, ?)",
        addresses,
    )
    db.executemany(
        "INSERT INTO address_digests (digest, address_id, exact) VALUES (?, ?, 1)", digests
    )
    addresses.clear()
    digests.clear()


if __name__ == "__main__":
    main()
