// SPDX-License-Identifier: GPL-2.0
/* Placeholder: being written. */
#include <stdio.h>

int main(void)
{
	printf("fuzz_failnth: not written yet\n");
	return 0;
}
