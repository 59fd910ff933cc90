// SPDX-License-Identifier: GPL-2.0
/* Placeholder: being written. */
#include <stdio.h>

int main(void)
{
	printf("fuzz_host: not written yet\n");
	return 0;
}
