#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""compare.py OLD_RESULTS_CSV NEW_RESULTS_CSV [LIMIT_PCT]: two make bench runs.

For every figure of the instruction-counted run that both results.csv
files have (but those without a ratio in the tables: RTT p99, memory
against AF_UNIX), prints the ratios AF_HYPERV / vsock-hv and AF_HYPERV / AF_UNIX
of both runs (medians) and how much each moved, then the largest move.
Two runs of an unchanged tree must agree within LIMIT_PCT (default 3) on
every ratio, on an idle machine as on a loaded one; across a change, the
moves are the change's effect. Exits 1 if any ratio moved by more than
LIMIT_PCT.
"""
import csv
import sys

OTHERS = ("vsock-hv", "unix")


def load(path):
    med = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r.get("mode", "icount") != "icount":
                continue
            key = (r["host"], r["place"], r["measure"], int(r["size"]))
            med[key + (r["family"],)] = float(r["median"])
    return med


def ratios(med):
    out = {}
    for (host, place, meas, size, fam), v in med.items():
        # the tail has no ratio in the tables either (see report.py)
        if fam != "hyperv" or meas == "rtt_p99":
            continue
        for other in OTHERS:
            if other == "unix" and meas.startswith("mem"):
                continue
            o = med.get((host, place, meas, size, other))
            if o:
                out[(host, place, meas, size, other)] = v / o
    return out


def main():
    old, new = ratios(load(sys.argv[1])), ratios(load(sys.argv[2]))
    limit = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
    worst, worst_key, bad = 0.0, None, 0
    print(f"{'host':7} {'figure':22} {'AF_HYPERV /':11} "
          f"{'old':>8} {'new':>8} {'moved':>8}")
    for key in sorted(set(old) & set(new)):
        host, place, meas, size, other = key
        a, b = old[key], new[key]
        moved = 100 * (b - a) / a
        flag = ""
        if abs(moved) > limit:
            bad += 1
            flag = " !"
        if abs(moved) >= abs(worst):
            worst, worst_key = moved, key
        fig = f"{meas} {size}" if size > 1 else meas
        if place != "any":
            fig += f" {place}"
        print(f"{host:7} {fig:22} {other:11} {a:8.3f} {b:8.3f} "
              f"{moved:+7.2f}%{flag}")
    if worst_key is None:
        print("compare: no ratio in common")
        return 1
    print(f"compare: {len(set(old) & set(new))} ratios, largest move "
          f"{worst:+.2f}% ({' '.join(map(str, worst_key))}); "
          f"{bad} beyond {limit:g}%")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
