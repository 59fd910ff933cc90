#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# bench.sh: hvperf for every family, several repetitions, in the test VM
# (make vm-run RUN=tools/testing/hv_sock/bench/bench.sh).
#
# Environment: REPS (default 3), HVPERF_ARGS (extra hvperf options, e.g.
# "-b 64M -s 4K,64K,1M").
#
# Prints every figure as CSV, "rep,family,measure,size,value,unit", then
# one summary line per figure, "summary,family,measure,size,median,min,
# max,unit", then a table of the medians on '#' lines. Exits 1 if any run
# of hvperf failed.

here=$(dirname "$(readlink -f "$0")")
PATH=$PATH:$here:/run-dir
export PATH

REPS=${REPS:-3}
T=${TMPDIR:-/tmp}/hvbench
rm -rf "$T" && mkdir -p "$T"
rc=0

for m in hv_sock hv_vsock_peer vsock_loopback; do
	modprobe $m || { echo "bench: modprobe $m failed"; rc=1; }
done
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up

echo "# bench: $REPS repetitions of hvperf $HVPERF_ARGS"
echo "# kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"
echo "rep,family,measure,size,value,unit"
r=1
while [ $r -le "$REPS" ]; do
	# shellcheck disable=SC2086 # HVPERF_ARGS is a list of options
	hvperf -q $HVPERF_ARGS > "$T/rep$r" 2> "$T/rep$r.err"
	prc=$?
	if [ $prc -ne 0 ]; then
		echo "# bench: hvperf repetition $r exited with $prc"
		rc=1
	fi
	grep '^#' "$T/rep$r"
	cat "$T/rep$r.err"
	grep -v -e '^#' -e '^family,' "$T/rep$r" | sed "s/^/$r,/" | tee -a "$T/all"
	r=$((r + 1))
done

[ -s "$T/all" ] || { echo "bench: no figures"; exit 1; }

# Median, min and max of each figure over the repetitions, in the order
# the figures first appeared.
sort -t, -k2,2 -k3,3 -k4,4n -k5,5n "$T/all" | awk -F, '
function flush() {
	if (n == 0)
		return
	med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	printf "summary,%s,%s,%s,%.3f,%.3f,%.3f,%s\n", fam, meas, size, med, v[1], v[n], unit
	n = 0
}
{
	key = $2 "," $3 "," $4
	if (key != last) {
		flush()
		last = key
		fam = $2; meas = $3; size = $4; unit = $6
	}
	v[++n] = $5
}
END { flush() }' > "$T/summary"

awk -F, 'NR == FNR { k = $2 "," $3 "," $4; if (!(k in order)) order[k] = FNR; next }
	{ print order[$2 "," $3 "," $4] "\t" $0 }' "$T/all" "$T/summary" |
	sort -n -k1,1 | cut -f2- > "$T/summary.sorted"
cat "$T/summary.sorted"

# The table: one row per measure and size, one column per family.
awk -F, '
{
	row = $3 (($4 > 1) ? " " ($4 >= 1048576 ? $4 / 1048576 "M" : \
		$4 >= 1024 ? $4 / 1024 "K" : $4) : "")
	if (!(row in seen)) { seen[row] = 1; rows[++nr] = row; unit[row] = $8 }
	if (!($2 in fseen)) { fseen[$2] = 1; fams[++nf] = $2 }
	val[row, $2] = $5
}
END {
	printf "#\n# median of %d runs\n# %-12s %-7s", reps, "measure", "unit"
	for (f = 1; f <= nf; f++)
		printf " %10s", fams[f]
	printf "\n"
	for (r = 1; r <= nr; r++) {
		printf "# %-12s %-7s", rows[r], unit[rows[r]]
		for (f = 1; f <= nf; f++) {
			if ((rows[r], fams[f]) in val)
				printf " %10.1f", val[rows[r], fams[f]]
			else
				printf " %10s", "-"
		}
		printf "\n"
	}
}' reps="$REPS" "$T/summary.sorted"
exit $rc
