#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""report.py CONSOLE_LOG OUTDIR: make bench's tables.

Reads the figures bench-vm.sh repeated on "HVB," lines of the VM's console
(rep,family,measure,size,value,unit) and the "HVB-FAILED," lines, and writes
to OUTDIR:

  raw.csv       every figure of every run
  results.csv   one line per figure: the median over the runs, min, max,
                runs measured and runs failed
  results.md    the table: one row per figure, one column per family, and
                the ratio AF_HYPERV / AF_VSOCK over the Hyper-V transport

then prints results.md. Exits 1 if any cell of the table is empty.
"""
import csv
import os
import re
import statistics
import sys

FAMILIES = [
    ("hyperv", "AF_HYPERV"),
    ("vsock-hv", "AF_VSOCK, Hyper-V transport"),
    ("vsock-lo", "AF_VSOCK loopback"),
    ("unix", "AF_UNIX"),
    ("tcp", "TCP loopback"),
]

# (measure, size, label, unit, decimals)
ROWS = [
    ("tx", 4096, "Throughput guest → host, 4 KiB writes", "MiB/s", 1),
    ("tx", 65536, "Throughput guest → host, 64 KiB writes", "MiB/s", 1),
    ("tx", 1048576, "Throughput guest → host, 1 MiB writes", "MiB/s", 1),
    ("rx", 4096, "Throughput host → guest, 4 KiB writes", "MiB/s", 1),
    ("rx", 65536, "Throughput host → guest, 64 KiB writes", "MiB/s", 1),
    ("rx", 1048576, "Throughput host → guest, 1 MiB writes", "MiB/s", 1),
    ("rtt_p50", 1, "RTT, 1 byte ping-pong, median", "µs", 1),
    ("rtt_p99", 1, "RTT, 1 byte ping-pong, p99", "µs", 1),
    ("conn_rate", 0, "Connect + close", "conn/s", 0),
    ("mem_total", 0, "Memory per idle connection", "KiB", 1),
    ("mem_slab", 0, "… of which slab", "KiB", 1),
]

# hvperf's FAILED lines name a figure by its measure, rtt and mem by
# their own names
FAILED_AS = {"rtt_p50": "rtt", "rtt_p99": "rtt", "conn_rate": "conn",
             "mem_total": "mem", "mem_slab": "mem", "mem_vmalloc": "mem"}

HVB = re.compile(r"^HVB,(\d+),([a-z-]+),([a-z_0-9]+),(\d+),(-?[0-9.]+),(\S+)$")
FAILED = re.compile(r"^HVB-FAILED,([a-z-]+) ([a-z_]+) (\d+): FAILED: (.*)$")


def parse(log):
    raw, failed, info = [], {}, {}
    with open(log, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = HVB.match(line)
            if m:
                rep, fam, meas, size, value, unit = m.groups()
                raw.append((int(rep), fam, meas, int(size), float(value),
                            unit))
                continue
            m = FAILED.match(line)
            if m:
                fam, meas, size, why = m.groups()
                failed.setdefault((fam, meas), []).append((int(size), why))
                continue
            m = re.match(r"^# kernel (\S+), (\d+) CPUs", line)
            if m:
                info["kernel"], info["cpus"] = m.groups()
            m = re.match(r"^# bench: (\d+) repetitions of hvperf (.*)$",
                         line)
            if m:
                info["reps"], info["args"] = m.groups()
    return raw, failed, info


def nfailed(failed, fam, meas, size):
    """Failed runs of one figure; tx and rx fail per write size."""
    runs = failed.get((fam, FAILED_AS.get(meas, meas)), [])
    if meas in ("tx", "rx"):
        runs = [r for r in runs if r[0] == size]
    return len(runs)


def fmt(v, decimals):
    return f"{v:,.{decimals}f}"


def main():
    log, out = sys.argv[1], sys.argv[2]
    raw, failed, info = parse(log)
    reps = int(info.get("reps", "0") or 0)

    with open(os.path.join(out, "raw.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run", "family", "measure", "size", "value", "unit"])
        for r in raw:
            w.writerow(r)

    values, units, order = {}, {}, []
    for rep, fam, meas, size, value, unit in raw:
        key = (fam, meas, size)
        if key not in values:
            values[key] = []
            order.append(key)
        values[key].append(value)
        units[key] = unit

    med = {}
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["family", "measure", "size", "median", "min", "max",
                    "unit", "runs", "failed_runs"])
        for key in order:
            v = values[key]
            med[key] = statistics.median(v)
            nfail = nfailed(failed, *key)
            w.writerow([key[0], key[1], key[2], f"{med[key]:.3f}",
                        f"{min(v):.3f}", f"{max(v):.3f}", units[key], len(v),
                        nfail])

    m = re.search(r"-b (\S+)", info.get("args", ""))
    nbytes = m.group(1) if m else "16M"
    if nbytes[-1] in "KMG":
        nbytes = nbytes[:-1] + " " + nbytes[-1] + "i"
    missing = 0
    lines = [
        "# AF_HYPERV benchmark",
        "",
        f"Median of {reps} runs of `hvperf {info.get('args', '?')}` in the "
        f"QEMU test VM (TCG, {info.get('cpus', '?')} vCPUs) on kernel "
        f"`{info.get('kernel', '?')}` (test.config + bench.config: no KASAN, "
        "lockdep, kmemleak, UBSAN, debug objects). The host side of "
        "AF_HYPERV and of AF_VSOCK over the Hyper-V transport is the "
        "simulated Hyper-V host (`/dev/hvsim`) in the same VM; the other "
        "families have both ends in the VM.",
        "",
        "| | unit | " + " | ".join(n for _, n in FAMILIES) +
        " | AF_HYPERV / vsock-hv |",
        "|---|---|" + "---:|" * (len(FAMILIES) + 1),
    ]
    for meas, size, label, unit, dec in ROWS:
        cells = []
        for fam, _ in FAMILIES:
            key = (fam, meas, size)
            nfail = nfailed(failed, fam, meas, size)
            if key in med:
                c = fmt(med[key], dec)
                n = len(values[key])
                if reps and n < reps:
                    c += f" ({n} of {reps} runs" + \
                        (f", {nfail} failed)" if nfail else ")")
                cells.append(c)
            else:
                missing += 1
                cells.append("failed" if nfail else "—")
        h, v = ("hyperv", meas, size), ("vsock-hv", meas, size)
        if h in med and v in med and med[v]:
            ratio = f"{med[h] / med[v]:.2f}"
        else:
            ratio = "—"
        lines.append(f"| {label} | {unit} | " + " | ".join(cells) +
                     f" | {ratio} |")

    lines += [
        "",
        f"Throughput: the guest writes (tx) or reads (rx) {nbytes}B in "
        "writes of the given size, end of stream included. RTT: 1-byte "
        "ping-pong. Connect + close: connect, shutdown, wait for the peer's "
        "end of stream, close. Memory: growth of the kernel's memory (free "
        "pages counted with the per-CPU lists, /proc/zoneinfo) with 1024 "
        "idle connections open at once, per connection; both ends where "
        "both live in the VM (two sockets for vsock loopback, AF_UNIX and "
        "TCP; the guest socket, its rings and the simulated host's endpoint "
        "for AF_HYPERV and vsock-hv). The ratio is plain AF_HYPERV / vsock-hv:"
        " above 1 is better for throughput and connection rate, worse for "
        "RTT and memory.",
    ]
    if failed:
        lines += ["", "Failed measurements (from hvperf):", ""]
        for (fam, meas), runs in sorted(failed.items()):
            for size in sorted(set(r[0] for r in runs)):
                whys = [r[1] for r in runs if r[0] == size]
                lines.append(f"- {fam} {meas} {size}: {len(whys)} of {reps} "
                             f"runs failed: {'; '.join(sorted(set(whys)))}")
    if missing:
        lines += ["", f"**{missing} cell(s) of the table could not be "
                  "measured.**"]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(text)
    print(text, end="")
    return 1 if missing or not raw else 0


if __name__ == "__main__":
    sys.exit(main())
