// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Cheapest uprobe sites by byte pattern; see probesite.h. */
#include <string.h>
#include "probesite.h"

static const __u8 CMP_RSP_G_STACKGUARD[] = { 0x49, 0x3b, 0x66, 0x10 };	/* cmp rsp,[r14+0x10] */
static const __u8 CMP_R12_G_STACKGUARD[] = { 0x4d, 0x3b, 0x66, 0x10 };	/* cmp r12,[r14+0x10] */
static const __u8 LEA_R12_RSP_D8[] = { 0x4c, 0x8d, 0x64, 0x24 };	/* lea r12,[rsp+d8] */
static const __u8 LEA_R12_RSP_D32[] = { 0x4c, 0x8d, 0xa4, 0x24 };	/* lea r12,[rsp+d32] */

static int has(const __u8 *p, size_t len, size_t at, const __u8 *pat, size_t n)
{
	return at + n <= len && !memcmp(p + at, pat, n);
}

/* jbe rel8 (76 xx) or jbe rel32 (0f 86 xx xx xx xx) at p[at]. */
static int is_jbe(const __u8 *p, size_t len, size_t at)
{
	return (at + 2 <= len && p[at] == 0x76) ||
	       (at + 6 <= len && p[at] == 0x0f && p[at + 1] == 0x86);
}

__u32 probesite__go_entry(const void *code, size_t len)
{
	const __u8 *p = code;
	size_t at = 0;

	if (has(p, len, 0, CMP_RSP_G_STACKGUARD, sizeof(CMP_RSP_G_STACKGUARD))) {
		at = 4;
	} else if (has(p, len, 0, LEA_R12_RSP_D8, sizeof(LEA_R12_RSP_D8)) &&
		   has(p, len, 5, CMP_R12_G_STACKGUARD, sizeof(CMP_R12_G_STACKGUARD))) {
		at = 9;
	} else if (has(p, len, 0, LEA_R12_RSP_D32, sizeof(LEA_R12_RSP_D32)) &&
		   has(p, len, 8, CMP_R12_G_STACKGUARD, sizeof(CMP_R12_G_STACKGUARD))) {
		at = 12;
	}
	return at && is_jbe(p, len, at) ? (__u32)at : 0;
}

enum probesite_class probesite__classify(const void *code, size_t len)
{
	const __u8 *p = code;
	size_t i = 0;

	if (!len)
		return PROBESITE_STEPPED;
	/* push r8-r15 has a REX.B prefix (41 5x); other REX forms of push
	 * are unusual enough to stay "stepped" (the conservative guess). */
	if (p[0] == 0x41 && len > 1)
		i = 1;
	if (p[i] >= 0x50 && p[i] <= 0x57)
		return PROBESITE_PUSH;
	if (i)
		return PROBESITE_STEPPED;
	switch (p[0]) {
	case 0x70 ... 0x7f:	/* jcc rel8 */
	case 0xe8:		/* call rel32 */
	case 0xe9:		/* jmp rel32 */
	case 0xeb:		/* jmp rel8 */
	case 0x90:		/* nop */
		return PROBESITE_BRANCH;
	case 0x0f:		/* jcc rel32 */
		return len > 1 && p[1] >= 0x80 && p[1] <= 0x8f ? PROBESITE_BRANCH
							       : PROBESITE_STEPPED;
	default:
		return PROBESITE_STEPPED;
	}
}

const char *probesite__class_name(enum probesite_class c)
{
	static const char *const names[PROBESITE_NR] = { "stepped", "branch", "push" };

	return c < PROBESITE_NR ? names[c] : "?";
}
