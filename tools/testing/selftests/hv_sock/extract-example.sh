# SPDX-License-Identifier: GPL-2.0
#
# sh extract-example.sh FILE TITLE: print the literal block that follows the
# paragraph "TITLE::" in the reST file FILE, unindented, so that the
# documentation's examples are built and run exactly as printed.
# Fails if there is no such block.
awk -v title="$2::" '
	$0 == title { inblock = 1; next }
	inblock && /^[^ ]/ { exit }
	inblock { sub(/^  /, ""); print; lines++ }
	END { exit lines ? 0 : 1 }
' "$1"
