// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Log lines to stderr. */
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

static bool quiet;

void log_set_quiet(bool q)
{
	quiet = q;
}

static void vlog(const char *level, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "podsight: %s%s\n", level, buf);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap);
	va_end(ap);
}
