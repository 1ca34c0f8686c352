/* Where events go: stdout or a file, buffered, reopened on SIGHUP.
 *
 * A write that fails (a full disk, an I/O error) loses nothing silently:
 * the lines stay buffered, up to a bound, and are written when writing
 * works again; a line written in part is finished, never left cut. Lines
 * that do not fit while writes fail are dropped whole and counted, and once
 * writing works again an events_lost record (reason output_error) with
 * their number follows the lines that were kept. Only a reader that went
 * away (-EPIPE, `| head`) ends the output for good. */
#ifndef PODSIGHT_OUTPUT_H
#define PODSIGHT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

/* Written at once when this much is buffered. */
#define OUTPUT_FLUSH_BYTES	(256 * 1024)
/* Held at most while writes fail; lines past it are dropped. */
#define OUTPUT_MAX_PENDING	(8 * 1024 * 1024)
/* How often a failing write is tried again. */
#define OUTPUT_RETRY_MS		1000

struct output;

/* path NULL or "-" means stdout. */
struct output *output__open(const char *path);
void output__free(struct output *o);
/* The node named in events_lost records (default: the host name). */
int output__set_node(struct output *o, const char *node);
/* Overrides OUTPUT_MAX_PENDING and OUTPUT_RETRY_MS (tests). */
void output__set_limits(struct output *o, size_t max_pending, unsigned int retry_ms);
/* Appends one or more whole lines; writes when OUTPUT_FLUSH_BYTES are
 * buffered. 0 when the output took them (written or buffered), -ENOBUFS
 * when they were dropped and counted (writes are failing and the buffer is
 * full), -EPIPE when the reader is gone. */
int output__write(struct output *o, const char *data, size_t len);
/* Writes what is buffered: 0 when all of it is written, the write error
 * while writes fail (retried every OUTPUT_RETRY_MS; a call before then
 * returns the error without writing), -EPIPE when the reader is gone. */
int output__flush(struct output *o);
/* A last try to write, without waiting for the retry time; what still
 * cannot be written is dropped and counted (a line written in part is cut
 * off a regular file again). 0 or the write error. */
int output__finish(struct output *o);
/* Reopens the file (log rotation); a no-op for stdout. What could not be
 * written to the old file goes to the new one. */
int output__reopen(struct output *o);
const char *output__path(const struct output *o);
/* Lines dropped since the output was opened (reported or not yet). */
uint64_t output__lost(const struct output *o);

#endif
