/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the BPF verifier cost per program: the instructions it processed and
 * the time the load took, for PODSIGHT_VERIFIER_STATS=FILE (the agent writes
 * them as JSON after loading; tests/vm/kernels.py collects them per kernel).
 * No libbpf here: the loader fills the values, this parses and writes.
 */
#ifndef PODSIGHT_VERIFIER_STATS_H
#define PODSIGHT_VERIFIER_STATS_H

#include <stddef.h>
#include <stdint.h>

struct vstat {
	const char *name;		/* the BPF program's name */
	int64_t processed_insns;	/* what is reported: verified_insns, else the log's; -1 unknown */
	int64_t verified_insns;		/* bpf_prog_info.verified_insns (5.16+); -1 unknown */
	int64_t log_insns;		/* "processed N insns" of the BPF_LOG_STATS log; -1 none */
	int64_t verify_us;		/* "verification time N usec" of that log; -1 none */
	uint64_t load_start_ns;		/* bpf_prog_info.load_time: boot clock as BPF_PROG_LOAD began; 0 unknown */
	int64_t load_us;		/* that load's wall time (vstats_load_times()); -1 unknown */
};

/* Reads the verifier's statistics lines of a log made at BPF_LOG_STATS
 * (level 4): *insns from "processed N insns", *verify_us from "verification
 * time N usec"; each -1 when absent. log may be NULL. */
void vstats_parse_log(const char *log, int64_t *insns, int64_t *verify_us);

/* Sets processed_insns from verified_insns or log_insns. */
void vstats_choose(struct vstat *v);

/* Each program's load time: the kernel stamps load_time as BPF_PROG_LOAD
 * begins and libbpf loads one program after the other, so a load lasts
 * until the next one's stamp, the last one until end_ns (the boot clock
 * read after the object's load returned). Programs without a stamp get -1. */
void vstats_load_times(struct vstat *v, size_t n, uint64_t end_ns);

/* Writes {"kernel": release, "machine": ..., "programs": [...]} to path
 * (through a temporary file and rename). 0 or -errno. */
int vstats_write(const char *path, const char *release, const char *machine, const struct vstat *v, size_t n);

#endif
