/* Where events go: stdout or a file, buffered, reopened on SIGHUP. */
#ifndef PODSIGHT_OUTPUT_H
#define PODSIGHT_OUTPUT_H

#include <stddef.h>

struct output;

/* path NULL or "-" means stdout. */
struct output *output__open(const char *path);
void output__free(struct output *o);
/* Appends; flushes when the buffer fills. -EPIPE when the reader is gone. */
int output__write(struct output *o, const char *data, size_t len);
int output__flush(struct output *o);
/* Reopens the file (log rotation); a no-op for stdout. */
int output__reopen(struct output *o);
const char *output__path(const struct output *o);

#endif
