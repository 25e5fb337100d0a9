/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Attach types that `nettune doctor` tries, shared with bpf/doctor.bpf.c. */
#ifndef NETTUNE_DOCTOR_H
#define NETTUNE_DOCTOR_H

enum doctor_attach {
	DOCTOR_TRACEPOINT,
	DOCTOR_TP_BTF,
	DOCTOR_RAW_TP,
	DOCTOR_UPROBE,
	DOCTOR_KPROBE,
	DOCTOR_FENTRY,
	DOCTOR_NR,
};

#endif
