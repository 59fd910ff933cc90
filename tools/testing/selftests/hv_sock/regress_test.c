// SPDX-License-Identifier: GPL-2.0
/* Placeholder: being written. */
#include "../kselftest_harness.h"

TEST(placeholder)
{
}

TEST_HARNESS_MAIN
