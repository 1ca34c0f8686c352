/* Log lines to stderr, "podsight: " first: info (silenced by quiet),
 * warnings and errors. */
#ifndef PODSIGHT_LOG_H
#define PODSIGHT_LOG_H

#include <stdbool.h>

void log_set_quiet(bool quiet);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
