#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# scan-console.sh LOG: fail if the console shows any kernel report.
log=$1
reports=(
	'BUG:' 'WARNING:' 'Oops' 'Kernel panic' 'KASAN' 'UBSAN'
	'kmemleak: [0-9]+ new suspected' 'unreferenced object'
	'possible recursive locking' 'possible circular locking'
	'inconsistent lock state' 'suspicious RCU usage' 'bad unlock balance'
	'INFO: task .* blocked' 'soft lockup' 'hard LOCKUP' 'RCU stall'
	'rcu_sched self-detected' 'general protection fault' 'refcount_t:'
	'list_add corruption' 'list_del corruption' 'ODEBUG:' 'Call Trace:'
)
harmless=(
	'HVT-' 'kmemleak: Kernel memory leak detector initialized'
	'kmemleak: Automatic memory scanning thread'
)
pattern=$(IFS='|'; echo "${reports[*]}")
ignore=$(IFS='|'; echo "${harmless[*]}")
if grep -nE "$pattern" "$log" | grep -vE "$ignore" > "$log.reports"; then
	echo "== kernel reports on the console ($log):" >&2
	head -40 "$log.reports" >&2
	exit 1
fi
rm -f "$log.reports"
exit 0
