#!/usr/bin/env python3
# Sums `pidstat -u -l 1` output per group of processes over a time window (bench/intake_pg.sh):
#   bench/cpu_split.py target/benchout/NAME.pidstat NAME HH:MM:SS HH:MM:SS [NOTICES]
# With NOTICES (the notices filed in the window), also each group's CPU per notice in ms.
import sys, re, collections
path, db, t0, t1 = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
notices = int(sys.argv[5]) if len(sys.argv) > 5 else None
tot = collections.Counter(); secs = set()
for line in open(path):
    parts = line.split(None, 9)
    if len(parts) < 10 or not re.match(r'\d\d:\d\d:\d\d', parts[0]) or parts[1] == 'UID': continue
    ts = parts[0]
    if not (t0 <= ts < t1): continue
    secs.add(ts)
    cpu = float(parts[7]); cmd = parts[9]
    if 'bench intake' in cmd: k = 'staydown (bench: HTTP server + clients)'
    elif cmd.startswith('postgres: postgres ' + db + ' ') : k = 'postgres backends of the bench db'
    elif cmd.startswith('postgres: ') and ('walwriter' in cmd or 'checkpointer' in cmd or 'background writer' in cmd): k = 'postgres background (all clusters)'
    elif cmd.startswith('postgres: ') or '/postgres ' in cmd: k = 'other postgres'
    else: k = 'other processes (' + cmd.split()[0].split('/')[-1] + ')'
    tot[k] += cpu
n = len(secs)
print(f"{n} s sampled ({t0}..{t1}); mean %CPU of one core (machine = 200%)" + ("; ms CPU a notice" if notices else ""))
for k, v in tot.most_common(12):
    print(f"  {v/n:6.1f}" + (f"  {v * 10 / notices:7.3f}" if notices else "") + f"  {k}")
print(f"  {sum(tot.values())/n:6.1f}" + (f"  {sum(tot.values()) * 10 / notices:7.3f}" if notices else "") + "  all")
