#!/usr/bin/env python3
# The outbox's cost per notification row on SQLite alone (no server), the schema before
# migration 0011 (0001-0010) against after it (docs/performance.md, "Migration 0011"):
# the writer inserts 64 rows per transaction in one multi-row INSERT (a group-commit batch of
# holds), the sequencer numbers up to 1,000 per transaction with the server's UPDATE ... FROM.
# WAL and synchronous=NORMAL as the server. Three rounds, the order alternating; CPU time of
# this process (SQLite's work plus the Python driver's, the same for both schemas).
#   python3 bench/outbox-rows.py [ROWS=100000] [DIR=/tmp/outbox-rows]
import sqlite3, os, glob, time, sys, json, random
mig = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "boxoffice", "migrations", "sqlite")
def make(path, with11):
    for f in glob.glob(path + "*"): os.remove(f)
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=NORMAL")
    for f in sorted(glob.glob(mig + "/*.sql")):
        if "0011" in f and not with11: continue
        c.executescript(open(f).read())
    return c
data = json.dumps({"id": "x"*24, "eventId": "y"*24, "userId": "z"*24, "status": "active",
                   "seatCount": 1, "expiresAt": "2026-11-30T10:00:00.000Z", "createdAt": "2026-11-30T09:00:00.000Z"})
N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/outbox-rows"
os.makedirs(out, exist_ok=True)
def run(c):
    # The rows are made before the clock starts; the clock is this process's CPU time (SQLite
    # runs in it), which a busy machine disturbs less than wall time.
    batches = [[v for k in range(b * 64 + 1, b * 64 + 65)
                for v in ("%024x" % random.getrandbits(96), "lock.created", "%024x" % k, data,
                          1764493200000 + k)] for b in range(N // 64)]
    insert = ("INSERT INTO notifications (id, type, ordering_key, data, created_at) VALUES " +
              ",".join(["(?,?,?,?,?)"] * 64))
    number = ("UPDATE notifications SET sequence = ? + r.rn FROM (SELECT position, "
              "ROW_NUMBER() OVER (ORDER BY position) AS rn FROM notifications "
              "WHERE sequence IS NULL ORDER BY position LIMIT 1000) AS r "
              "WHERE notifications.position = r.position")
    ins = seq = 0.0; last = 0
    for i, rows in enumerate(batches):
        a = time.process_time()
        c.execute("BEGIN IMMEDIATE"); c.execute(insert, rows); c.execute("COMMIT")
        b = time.process_time(); ins += b - a
        if (i + 1) % 16 == 0:
            c.execute("BEGIN IMMEDIATE")
            last += c.execute(number, (last,)).rowcount
            c.execute("COMMIT"); seq += time.process_time() - b
    return ins, seq
for rnd in range(3):
    for name, w in ([("old", False), ("new", True)] if rnd % 2 == 0 else [("new", True), ("old", False)]):
        c = make(os.path.join(out, name + ".db"), w)
        ins, seq = run(c)
        print(f"round {rnd+1} {name}: {N // 64 * 64} rows, insert {ins/(N//64*64)*1e6:.2f} us/row, number {seq/(N//64*64)*1e6:.2f} us/row, total {(ins+seq)/(N//64*64)*1e6:.2f} us/row", flush=True)
        c.close()
