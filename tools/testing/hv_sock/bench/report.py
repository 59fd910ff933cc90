#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""report.py OUTDIR ICOUNT_LOG [WALL_LOG]: make bench's tables.

Reads the figures bench-vm.sh repeated on "HVB," lines of each VM run's
console (rep,host,place,family,measure,size,value,unit) and the failed
measurements on "HVB-FAILED," lines, and writes to OUTDIR:

  raw.csv       every figure of every repetition
  results.csv   one line per figure: median, min, max, spread, runs
                measured and runs failed
  results.md    the tables: first the instruction-counted run, one table
                per simulated host, then the wall-clock run; one row per
                figure, one column per family (median and min-max), and the
                ratios AF_HYPERV / vsock-hv and AF_HYPERV / AF_UNIX

then prints results.md. Exits 1 if any cell of a table is empty.
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

# (measure, size, place, label, unit, decimals)
ROWS = [
    ("tx", 4096, "any", "Throughput guest → host, 4 KiB writes", "MiB/s", 1),
    ("tx", 65536, "any", "Throughput guest → host, 64 KiB writes", "MiB/s", 1),
    ("tx", 1048576, "any", "Throughput guest → host, 1 MiB writes", "MiB/s",
     1),
    ("rx", 4096, "any", "Throughput host → guest, 4 KiB writes", "MiB/s", 1),
    ("rx", 65536, "any", "Throughput host → guest, 64 KiB writes", "MiB/s", 1),
    ("rx", 1048576, "any", "Throughput host → guest, 1 MiB writes", "MiB/s",
     1),
    ("rtt_p50", 1, "same", "RTT, 1 byte ping-pong, median, same CPU", "µs", 2),
    ("rtt_p50", 1, "diff", "RTT, 1 byte ping-pong, median, different CPUs",
     "µs", 2),
    ("rtt_p99", 1, "same", "RTT, 1 byte ping-pong, p99, same CPU", "µs", 2),
    ("rtt_p99", 1, "diff", "RTT, 1 byte ping-pong, p99, different CPUs", "µs",
     2),
    ("conn_rate", 0, "same", "Connect + close, same CPU", "conn/s", 0),
    ("conn_rate", 0, "diff", "Connect + close, different CPUs", "conn/s", 0),
    ("mem_total", 0, "any", "Memory per idle connection", "KiB", 1),
    ("mem_slab", 0, "any", "… of which slab", "KiB", 1),
]

# hvperf's FAILED lines name a figure by its measure, rtt and mem by
# their own names
FAILED_AS = {"rtt_p50": "rtt", "rtt_p99": "rtt", "conn_rate": "conn",
             "mem_total": "mem", "mem_slab": "mem", "mem_vmalloc": "mem"}

# No ratio for the tail: with the two ends on different CPUs a whole
# measurement runs in one of two modes under 1 µs apart, and the median
# of a few repetitions can flip between them from one run to the next.
# Nor for memory against AF_UNIX: it holds 4 KiB per connection and no
# rings, the ratio says nothing, and the slab pages partly filled before
# the measurement move it by several per cent.
NO_RATIO = ("rtt_p99", ("unix", "mem_total"), ("unix", "mem_slab"))

# A figure whose (max - min) / median exceeds this is flagged.
SPREAD_LIMIT = 0.05

HVB = re.compile(r"^HVB,(\d+),([a-z0-9]+),([a-z]+),([a-z-]+),([a-z_0-9]+),"
                 r"(\d+),(-?[0-9.]+),(\S+)$")
FAILED = re.compile(r"^HVB-FAILED,([a-z0-9]+),([a-z]+),([a-z-]+),([a-z_]+),"
                    r"(\d+),(.*)$")
FAMS_LINE = re.compile(r"^# bench: host ([a-z0-9]+), repetition (\d+), "
                       r"families (\S+)$")

MODES = {
    "icount": "Instruction-counted time: 1 instruction = 1 ns",
    "wall": "Wall-clock time (noisy)",
}


def parse(log):
    raw, failed, info = [], {}, {"fams": {}, "hosts": []}
    with open(log, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = HVB.match(line)
            if m:
                rep, host, place, fam, meas, size, value, unit = m.groups()
                raw.append((int(rep), host, place, fam, meas, int(size),
                            float(value), unit))
                continue
            m = FAILED.match(line)
            if m:
                host, place, fam, meas, size, why = m.groups()
                failed.setdefault((host, place, fam, meas), []).append(
                    (int(size), why))
                continue
            m = FAMS_LINE.match(line)
            if m:
                host, _, fams = m.groups()
                if host not in info["hosts"]:
                    info["hosts"].append(host)
                info["fams"][host] = fams.split(",")
                continue
            m = re.match(r"^# kernel (\S+), (\d+) CPUs", line)
            if m:
                info["kernel"], info["cpus"] = m.groups()
            m = re.match(r"^# bench: (\d+) repetitions on hosts (.*), "
                         r"hvperf (.*)$", line)
            if m:
                info["reps"], _, info["args"] = m.groups()
    return raw, failed, info


def nfailed(failed, host, place, fam, meas, size):
    """Failed runs of one figure; tx and rx fail per write size."""
    runs = failed.get((host, place, fam, FAILED_AS.get(meas, meas)), [])
    if meas in ("tx", "rx"):
        runs = [r for r in runs if r[0] == size]
    return len(runs)


def fmt(v, decimals):
    return f"{v:,.{decimals}f}"


def summarise(raw):
    """{(host, place, fam, meas, size): [values]}, units, in first order."""
    values, units = {}, {}
    for rep, host, place, fam, meas, size, value, unit in raw:
        key = (host, place, fam, meas, size)
        values.setdefault(key, []).append(value)
        units[key] = unit
    return values, units


def spread(v):
    med = statistics.median(v)
    return (max(v) - min(v)) / med if med else 0.0


def table(mode, host, values, failed, info, reps):
    """One table of results.md; returns (lines, missing cells, flagged)."""
    fams = [f for f in FAMILIES if f[0] in info["fams"].get(host, [])]
    lines = [
        f"## {MODES[mode]} — {host} host",
        "",
        "| | unit | " + " | ".join(n for _, n in fams) +
        " | AF_HYPERV / vsock-hv | AF_HYPERV / AF_UNIX |",
        "|---|---|" + "---:|" * (len(fams) + 2),
    ]
    missing, flagged = 0, []
    for meas, size, place, label, unit, dec in ROWS:
        cells, med = [], {}
        for fam, _ in fams:
            key = (host, place, fam, meas, size)
            nfail = nfailed(failed, host, place, fam, meas, size)
            v = values.get(key)
            if not v:
                # no memory figures in the wall-clock run, nor on a host
                # bench.sh does not measure it on; elsewhere from the
                # first repetition only
                if nfail or not meas.startswith("mem") or \
                        any(k[0] == host and k[3] == meas for k in values):
                    missing += 1
                    cells.append("failed" if nfail else "—")
                else:
                    cells.append("")
                continue
            med[fam] = statistics.median(v)
            c = fmt(med[fam], dec)
            if len(v) > 1:
                c += f" ({fmt(min(v), dec)}–{fmt(max(v), dec)})"
                if spread(v) > SPREAD_LIMIT:
                    c += " ⚠"
                    flagged.append(f"{host} {fam} {label}: "
                                   f"{100 * spread(v):.1f} %")
            n = len(v)
            if n < (1 if meas.startswith("mem") else reps):
                c += f" ({n} of {reps} runs" + \
                    (f", {nfail} failed)" if nfail else ")")
            cells.append(c)
        ratios = []
        for other in ("vsock-hv", "unix"):
            if meas in NO_RATIO or (other, meas) in NO_RATIO:
                ratios.append("")
            elif "hyperv" in med and med.get(other):
                ratios.append(f"{med['hyperv'] / med[other]:.3f}")
            else:
                ratios.append("—")
        if all(c == "" for c in cells):
            continue
        lines.append(f"| {label} | {unit} | " + " | ".join(cells) +
                     " | " + " | ".join(ratios) + " |")
    return lines, missing, flagged


def main():
    out, logs = sys.argv[1], sys.argv[2:]
    modes = list(zip(["icount", "wall"], logs))
    parsed = {mode: parse(log) for mode, log in modes}

    with open(os.path.join(out, "raw.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mode", "rep", "host", "place", "family", "measure",
                    "size", "value", "unit"])
        for mode, (raw, _, _) in parsed.items():
            for r in raw:
                w.writerow([mode, *r])

    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mode", "host", "place", "family", "measure", "size",
                    "median", "min", "max", "spread_pct", "unit", "runs",
                    "failed_runs"])
        for mode, (raw, failed, _) in parsed.items():
            values, units = summarise(raw)
            for key, v in values.items():
                w.writerow([mode, *key, f"{statistics.median(v):.3f}",
                            f"{min(v):.3f}", f"{max(v):.3f}",
                            f"{100 * spread(v):.2f}", units[key], len(v),
                            nfailed(failed, *key)])

    missing = 0
    lines = ["# AF_HYPERV benchmark", ""]
    for mode, (raw, failed, info) in parsed.items():
        values, _ = summarise(raw)
        reps = int(info.get("reps", "0") or 0)
        m = re.search(r"-b (\S+)", info.get("args", ""))
        nbytes = m.group(1) if m else "16M"
        if nbytes[-1] in "KMG":
            nbytes = nbytes[:-1] + " " + nbytes[-1] + "i"
        if mode == "icount":
            lines += [
                f"Median (min–max) of {reps} repetitions in the QEMU test VM "
                f"(TCG, {info.get('cpus', '?')} vCPUs) on QEMU's "
                "instruction-counted clock, `-icount shift=0,sleep=off`: "
                "**instruction-counted time: 1 instruction = 1 ns**, idle "
                "time skipped. The figures count the instructions of the "
                "whole path (both ends, the kernel and the simulated host), "
                "not the speed of this machine, and are repeatable whatever "
                "else runs on it: compare them across changes. A string "
                "instruction counts once per iteration: zeroing the 12 ring "
                "pages of a new Hyper-V connection (rep stosb) costs 49 µs "
                "of instruction time, a few µs on hardware. Kernel "
                f"`{info.get('kernel', '?')}` (test.config + bench.config: no "
                "KASAN, lockdep, kmemleak, UBSAN, debug objects), "
                f"`hvperf {info.get('args', '?')}`.",
                "",
            ]
        else:
            lines += [
                "---",
                "",
                f"**Wall-clock figures: noisy.** Median (min–max) of {reps} "
                "repetition(s) of the same measurements on the ordinary "
                "clock. They move with whatever else this machine runs (up "
                "to 10× between runs on a shared machine): a sanity check of "
                "the magnitudes, not a basis for comparing changes.",
                "",
            ]
        for host in info["hosts"]:
            t, miss, flagged = table(mode, host, values, failed, info, reps)
            missing += miss
            lines += t + [""]
            if flagged:
                lines += [f"⚠ spread (max − min) / median above "
                          f"{100 * SPREAD_LIMIT:.0f} %: " +
                          "; ".join(flagged), ""]
            elif reps > 1:
                lines += [f"Every figure within {100 * SPREAD_LIMIT:.0f} % "
                          "(max − min) / median.", ""]
        if failed:
            lines += ["Failed measurements (from hvperf):", ""]
            for (host, place, fam, meas), runs in sorted(failed.items()):
                for size in sorted(set(r[0] for r in runs)):
                    whys = [r[1] for r in runs if r[0] == size]
                    lines.append(f"- {mode} {host} {fam} {meas} {size} "
                                 f"({place}): {len(whys)} run(s) failed: "
                                 f"{'; '.join(sorted(set(whys)))}")
            lines.append("")
    lines += [
        f"Throughput: the guest writes (tx) or reads (rx) {nbytes}B in "
        "writes of the given size, end of stream included, unpinned. RTT: "
        "1-byte ping-pong; connect + close: connect, shutdown, wait for the "
        "peer's end of stream, close; both with the guest side on CPU 0 and "
        "the host side (the simulated host's user process, or the other "
        "socket) on CPU 0 (same CPU) or CPU 1 (different CPUs). Memory: "
        "growth of the kernel's memory with 1024 idle connections open at "
        "once, per connection, both ends where both live in the VM, in the "
        "first repetition on each host (not in the wall-clock run: it "
        "counts pages, not time). Before every measurement the previous "
        "one's connections and channels are gone (hvperf -Q); each "
        "repetition measures every figure for every family in turn. The "
        "host's personality: ws2016 (VMBus 4.0) accepts only rings of 5 "
        "data pages; modern (VMBus 5.2) up to 64, and every family runs "
        "with its default socket buffer sizes (the mainline transport "
        "then opens 6 data pages each way); modern64 is modern with the "
        "guest's AF_HYPERV and vsock-hv sockets setting SO_SNDBUF and "
        "SO_RCVBUF to 128 KiB (hvperf -B 128K), which gives both families "
        "their largest rings, 64 pages (63 of data) each way; AF_UNIX keeps "
        "its defaults; no memory figure there (1024 connections would hold 512 "
        "MiB of rings per family). Ratios are plain AF_HYPERV / "
        "other: above 1 is better for throughput and connection rate, worse "
        "for RTT and memory. No ratio for RTT p99: on different CPUs a whole "
        "measurement runs in one of two modes under 1 µs apart, so the "
        "median tail can flip between runs; nor for memory against AF_UNIX, "
        "which holds 4 KiB per connection and no rings.",
    ]
    if missing:
        lines += ["", f"**{missing} cell(s) could not be measured.**"]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(text)
    print(text, end="")
    return 1 if missing or not any(p[0] for p in parsed.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
