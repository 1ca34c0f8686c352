/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prometheus text exposition (format 0.0.4) writer.
 *
 * The agent renders /metrics from its tables on every scrape into one
 * growable buffer, then hands the bytes to the HTTP layer. Errors are
 * sticky: the first failure is recorded, every later call is a no-op and
 * prom_buf_error() reports it until prom_buf_reset(). After an error the
 * buffer holds a truncated prefix that must not be served, so a caller
 * checks prom_buf_error() once, after rendering everything.
 *
 * Output is always valid UTF-8 with escapes the format defines:
 *  - label values: '\' -> "\\", '"' -> "\"", newline -> "\n";
 *  - HELP text: '\' -> "\\", newline -> "\n";
 *  - every byte that is not part of a well-formed UTF-8 sequence (stray
 *    continuation bytes, overlong forms, surrogates, code points above
 *    U+10FFFF, truncated sequences) becomes U+FFFD, one per byte.
 * Other bytes, control bytes included, are copied as they are: the format
 * has no escape for them and its parsers take them raw.
 *
 * Numbers follow the Prometheus Go client: NaN, +Inf, -Inf; integral
 * values of magnitude up to 2^53 as plain integers ("0", "-3",
 * "9007199254740992"); any other double as the shortest decimal that reads
 * back to the same double, laid out like Go's strconv 'g' format
 * ("1.5", "1e-09", "1e+21", "1.2345675e+06").
 */
#ifndef PODSIGHT_PROM_H
#define PODSIGHT_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default cap on prom_buf_len(); growing past it is -E2BIG. */
#define PROM_BUF_DEFAULT_MAX_SIZE ((size_t)16 << 20)

struct prom_buf;

/* NULL with errno = ENOMEM. prom_buf_free(NULL) is a no-op. */
struct prom_buf *prom_buf_new(void);
void prom_buf_free(struct prom_buf *b);
/* Empties the buffer and clears the error; keeps the allocation and cap. */
void prom_buf_reset(struct prom_buf *b);
/* Caps prom_buf_len() at max bytes. 0, or -EINVAL for 0 or SIZE_MAX. */
int prom_buf_set_max_size(struct prom_buf *b, size_t max);

/* The output so far, NUL-terminated ("" when empty). Valid until the next
 * write, reset, steal or free. */
const char *prom_buf_data(const struct prom_buf *b);
size_t prom_buf_len(const struct prom_buf *b);
/* 0, or the first error: -ENOMEM (allocation), -E2BIG (size cap),
 * -EINVAL (invalid metric or label name, duplicate label name, "le" as a
 * histogram's own label, histogram bounds not finite and increasing). */
int prom_buf_error(const struct prom_buf *b);
/*
 * Hands the malloc'd, NUL-terminated output to the caller (who free()s it)
 * and stores its length in *len (len may be NULL). The buffer is left empty
 * with no error, ready for the next scrape. NULL when the buffer holds an
 * error (which is kept, so the caller can read it) or when allocating an
 * empty string fails (errno = ENOMEM).
 */
char *prom_buf_steal(struct prom_buf *b, size_t *len);

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM, PROM_UNTYPED };

/* "# HELP name help" (omitted when help is NULL) and "# TYPE name type". */
void prom_family(struct prom_buf *b, const char *name, enum prom_type t, const char *help);

/* A label. Names must match [a-zA-Z_][a-zA-Z0-9_]* and be distinct within
 * a series. A label whose value is NULL or "" is not written: Prometheus
 * treats an empty value as an absent label. */
struct prom_label {
	const char *name;
	const char *value;
};

/* One line: name{labels} value. labels may be NULL when n is 0. */
void prom_sample(struct prom_buf *b, const char *name, const struct prom_label *labels, size_t n,
		 double v);
/* Same with an exact unsigned integer (counters beyond 2^53 stay exact). */
void prom_sample_u64(struct prom_buf *b, const char *name, const struct prom_label *labels,
		     size_t n, uint64_t v);

/*
 * A histogram series: name_bucket{labels,le="bound"} with cumulative counts
 * for each of the nb bounds (finite, strictly increasing), then
 * name_bucket{labels,le="+Inf"}, name_sum and name_count, where the +Inf
 * bucket and _count are the total. counts has nb + 1 entries, per bucket
 * (not cumulative): counts[i] observations <= bounds[i] and above the
 * previous bound, counts[nb] those above every bound. Totals saturate at
 * UINT64_MAX rather than wrap.
 */
void prom_histogram(struct prom_buf *b, const char *name, const struct prom_label *labels, size_t n,
		    const double *bounds, const uint64_t *counts, size_t nb, double sum);

/* [a-zA-Z_:][a-zA-Z0-9_:]* (metric names). */
bool prom_name_valid(const char *name);
/* [a-zA-Z_][a-zA-Z0-9_]* (label names). */
bool prom_label_name_valid(const char *name);

/* Formats v as described above into out (NUL-terminated); returns the
 * length. 32 bytes always suffice. */
#define PROM_NUM_MAX 32
size_t prom_format_double(char out[PROM_NUM_MAX], double v);

#endif /* PODSIGHT_PROM_H */
