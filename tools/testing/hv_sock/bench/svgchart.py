#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""svgchart.py RESULTS_CSV OUT_SVG: make bench's throughput bar chart.

One group of bars per throughput figure of results.csv (tx and rx at each
write size) of the instruction-counted run on the first simulated host,
one bar per family, the median in MiB/s; a plain hand-written SVG, no
packages needed.
"""
import csv
import sys

FAMILIES = [
    ("hyperv", "AF_HYPERV", "#1f6fb4"),
    ("vsock-hv", "AF_VSOCK (Hyper-V transport)", "#f28e2b"),
    ("vsock-lo", "AF_VSOCK loopback", "#59a14f"),
    ("unix", "AF_UNIX", "#9c6ac4"),
    ("tcp", "TCP loopback", "#7f7f7f"),
]


def size_name(n):
    if n >= 1 << 20:
        return f"{n >> 20} MiB"
    if n >= 1 << 10:
        return f"{n >> 10} KiB"
    return f"{n} B"


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main():
    src, out = sys.argv[1], sys.argv[2]
    # make bench's figures, there or not (a failed one shows as a cross)
    groups = [(d, n) for d in (0, 1) for n in (4096, 65536, 1 << 20)]
    val = {}
    host = None
    with open(src, newline="") as f:
        for r in csv.DictReader(f):
            if r["measure"] not in ("tx", "rx"):
                continue
            # the instruction-counted figures of the first host only
            if r.get("mode", "icount") != "icount":
                continue
            host = host or r.get("host")
            if r.get("host") != host:
                continue
            g = (0 if r["measure"] == "tx" else 1, int(r["size"]))
            if g not in groups:
                groups.append(g)
            val[(g, r["family"])] = float(r["median"])
    groups.sort()
    top = max(val.values(), default=1.0) or 1.0
    # a round axis maximum: 1, 2 or 5 times a power of ten
    step = 1.0
    while step * 5 < top:
        step *= 10
    for k in (1, 2, 5, 10):
        if step * k >= top:
            ymax = step * k
            break

    bar, gap = 14, 22
    left, right, head, foot = 70, 20, 50, 90
    gw = bar * len(FAMILIES) + gap
    width = max(left + right + gw * len(groups), left + right + 3 * 220)
    plot_h = 300
    height = head + plot_h + foot
    y0 = head + plot_h

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
         f'height="{height}" font-family="sans-serif" font-size="11">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{width / 2}" y="20" text-anchor="middle" '
         'font-size="14">Throughput, median (MiB/s), instruction-counted '
         f'time (1 instruction = 1 ns), {esc(host or "?")} host</text>']
    for i in range(6):
        v = ymax * i / 5
        y = y0 - plot_h * i / 5
        o.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" '
                 f'y2="{y:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{left - 6}" y="{y + 4:.1f}" '
                 f'text-anchor="end">{v:g}</text>')
    for gi, g in enumerate(groups):
        x0 = left + gap / 2 + gi * gw
        for fi, (fam, name, colour) in enumerate(FAMILIES):
            x = x0 + fi * bar
            if (g, fam) not in val:
                o.append(f'<text x="{x + bar / 2:.1f}" y="{y0 - 4}" '
                         'text-anchor="middle" fill="#c00">×</text>')
                continue
            v = val[(g, fam)]
            h = plot_h * v / ymax
            o.append(f'<rect x="{x:.1f}" y="{y0 - h:.1f}" width="{bar - 2}" '
                     f'height="{h:.1f}" fill="{colour}">'
                     f'<title>{esc(name)}: {v:.1f} MiB/s</title></rect>')
        label = ("guest → host" if g[0] == 0 else "host → guest")
        cx = x0 + bar * len(FAMILIES) / 2
        o.append(f'<text x="{cx:.1f}" y="{y0 + 16}" text-anchor="middle">'
                 f'{label}</text>')
        o.append(f'<text x="{cx:.1f}" y="{y0 + 30}" text-anchor="middle">'
                 f'{size_name(g[1])} writes</text>')
    o.append(f'<line x1="{left}" y1="{y0}" x2="{width - right}" y2="{y0}" '
             'stroke="black"/>')
    lx, ly = left, y0 + 52
    for fi, (fam, name, colour) in enumerate(FAMILIES):
        x = lx + (fi % 3) * 220
        y = ly + (fi // 3) * 16
        o.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" '
                 f'fill="{colour}"/>')
        o.append(f'<text x="{x + 14}" y="{y}">{esc(name)}</text>')
    o.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(o) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
