// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prometheus text exposition writer; the rules are in prom.h. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"
#include "strbuf.h"
#include "strutil.h"
#include "utf8.h"

struct prom_buf {
	struct strbuf sb;	/* its err is the writer's error too */
};

/* 2^53: beyond it not every integer is a double, so the Go client stops
 * writing plain integers there too. */
#define EXACT_INT_MAX 9007199254740992.0

struct prom_buf *prom_buf_new(void)
{
	struct prom_buf *b = malloc(sizeof(*b));

	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	strbuf__init(&b->sb, PROM_BUF_DEFAULT_MAX_SIZE);
	return b;
}

void prom_buf_free(struct prom_buf *b)
{
	if (!b)
		return;
	strbuf__release(&b->sb);
	free(b);
}

void prom_buf_reset(struct prom_buf *b)
{
	strbuf__reset(&b->sb);
}

int prom_buf_set_max_size(struct prom_buf *b, size_t max)
{
	return strbuf__set_max(&b->sb, max);
}

const char *prom_buf_data(const struct prom_buf *b)
{
	return strbuf__cstr(&b->sb);
}

size_t prom_buf_len(const struct prom_buf *b)
{
	return b->sb.len;
}

int prom_buf_error(const struct prom_buf *b)
{
	return b->sb.err;
}

char *prom_buf_steal(struct prom_buf *b, size_t *len)
{
	return strbuf__detach(&b->sb, len);
}

static void fail(struct prom_buf *b, int err)
{
	strbuf__fail(&b->sb, err);
}

static void put(struct prom_buf *b, const char *s, size_t n)
{
	strbuf__add(&b->sb, s, n);
}

static void puts_(struct prom_buf *b, const char *s)
{
	strbuf__addstr(&b->sb, s);
}

static void putc_(struct prom_buf *b, char c)
{
	strbuf__addch(&b->sb, c);
}

/* ---- names -------------------------------------------------------------- */

static bool name_valid(const char *name, bool colon)
{
	const unsigned char *p = (const unsigned char *)name;

	if (!p || !*p)
		return false;
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
	      (colon && *p == ':')))
		return false;
	for (p++; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || (colon && *p == ':')))
			return false;
	}
	return true;
}

bool prom_name_valid(const char *name)
{
	return name_valid(name, true);
}

bool prom_label_name_valid(const char *name)
{
	return name_valid(name, false);
}

/* Valid, distinct label names; "le" too when the caller adds its own. */
static bool labels_valid(const struct prom_label *labels, size_t n, bool forbid_le)
{
	if (n && !labels)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!prom_label_name_valid(labels[i].name))
			return false;
		if (forbid_le && strcmp(labels[i].name, "le") == 0)
			return false;
		/* Series carry a handful of labels: quadratic is cheapest. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[i].name, labels[j].name) == 0)
				return false;
	}
	return true;
}

/* ---- escaping ----------------------------------------------------------- */

/* Copies runs of bytes that need nothing in one go; quote: escape '"' too
 * (label values do, HELP text does not). */
static void put_escaped(struct prom_buf *b, const char *str, bool quote)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, start = 0;

	while (i < n) {
		unsigned char c = s[i];
		const char *esc;
		size_t l;

		if (c >= 0x80) {
			l = utf8_seq_len(s + i, n - i);
			if (l) {
				i += l;
				continue;
			}
			esc = "\xef\xbf\xbd";	/* U+FFFD */
		} else if (c == '\\') {
			esc = "\\\\";
		} else if (c == '\n') {
			esc = "\\n";
		} else if (c == '"' && quote) {
			esc = "\\\"";
		} else {
			i++;
			continue;
		}
		put(b, str + start, i - start);
		puts_(b, esc);
		start = ++i;
	}
	put(b, str + start, n - start);
}

/* ---- numbers ------------------------------------------------------------ */

static size_t copy_lit(char *out, const char *s)
{
	size_t n = strlen(s);

	memcpy(out, s, n + 1);
	return n;
}

/*
 * Shortest digits: a decimal of 15 significant digits or fewer survives
 * the trip through a normal double (DBL_DIG), so when the shortest form has
 * k <= 15 digits, "%.14e" prints exactly it padded with zeros. Otherwise 16
 * or 17 digits; 17 always reads back. Subnormals hold fewer digits, so for
 * them every precision is tried from 1 up.
 */
size_t prom_format_double(char out[PROM_NUM_MAX], double v)
{
	char tmp[40], digits[20], *o = out;
	const char *p;
	double a = fabs(v);
	int prec, exp, nd = 0;

	if (isnan(v))
		return copy_lit(out, "NaN");
	if (isinf(v))
		return copy_lit(out, v > 0 ? "+Inf" : "-Inf");
	if (v == 0)
		return copy_lit(out, "0");	/* -0 too, as the Go client */
	/* The cast is exact below 2^53 and avoids needing libm's trunc(). */
	if (a <= EXACT_INT_MAX && a == (double)(uint64_t)a) {
		if (v < 0)
			*o++ = '-';
		char tmp[U64_DEC_MAX], *d = u64_to_dec(tmp + sizeof(tmp), (uint64_t)a);
		size_t n = (size_t)(tmp + sizeof(tmp) - d);

		memcpy(o, d, n);
		o[n] = '\0';
		return (size_t)(o + n - out);
	}

	for (prec = a < DBL_MIN ? 0 : 14; prec < 16; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (prec == 16)
		snprintf(tmp, sizeof(tmp), "%.16e", v);

	/* tmp is [-]d[.ddd]e(+|-)dd[d] */
	p = tmp;
	if (*p == '-') {
		*o++ = '-';
		p++;
	}
	digits[nd++] = *p++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits[nd++] = *p;
	exp = (int)strtol(p + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;

	/* Go's strconv 'g' with shortest precision: exponent form below 1e-4
	 * and from 1e6 up, at least two exponent digits. */
	if (exp < -4 || exp >= 6) {
		int e = exp < 0 ? -exp : exp;

		*o++ = digits[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, digits + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		*o++ = 'e';
		*o++ = exp < 0 ? '-' : '+';
		if (e >= 100)
			*o++ = (char)('0' + e / 100);
		*o++ = (char)('0' + e / 10 % 10);
		*o++ = (char)('0' + e % 10);
	} else if (exp < 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -exp - 1; i++)
			*o++ = '0';
		memcpy(o, digits, (size_t)nd);
		o += nd;
	} else {
		for (int i = 0; i <= exp; i++)
			*o++ = i < nd ? digits[i] : '0';
		if (nd > exp + 1) {
			*o++ = '.';
			memcpy(o, digits + exp + 1, (size_t)(nd - exp - 1));
			o += nd - exp - 1;
		}
	}
	*o = '\0';
	return (size_t)(o - out);
}

/* ---- lines -------------------------------------------------------------- */

/* name[suffix]{labels[,le="le"]} ; the caller validated names. Labels
 * with no value are left out: Prometheus reads an empty value as no label,
 * and on hosts without Kubernetes most series would carry two of them. */
static void series(struct prom_buf *b, const char *name, const char *suffix,
		   const struct prom_label *labels, size_t n, const char *le)
{
	bool open = false;

	puts_(b, name);
	if (suffix)
		puts_(b, suffix);
	for (size_t i = 0; i < n; i++) {
		if (!labels[i].value || !labels[i].value[0])
			continue;
		putc_(b, open ? ',' : '{');
		open = true;
		puts_(b, labels[i].name);
		put(b, "=\"", 2);
		put_escaped(b, labels[i].value, true);
		putc_(b, '"');
	}
	if (le) {
		putc_(b, open ? ',' : '{');
		open = true;
		put(b, "le=\"", 4);
		puts_(b, le);
		putc_(b, '"');
	}
	if (open)
		putc_(b, '}');
	putc_(b, ' ');
}

static void end_double(struct prom_buf *b, double v)
{
	char num[PROM_NUM_MAX];
	size_t l = prom_format_double(num, v);

	num[l++] = '\n';
	put(b, num, l);
}

static void end_u64(struct prom_buf *b, uint64_t v)
{
	char num[U64_DEC_MAX + 1], *p = u64_to_dec(num + U64_DEC_MAX, v);

	num[U64_DEC_MAX] = '\n';
	put(b, p, (size_t)(num + sizeof(num) - p));
}

void prom_family(struct prom_buf *b, const char *name, enum prom_type t, const char *help)
{
	static const char *const types[] = {
		[PROM_COUNTER] = "counter",
		[PROM_GAUGE] = "gauge",
		[PROM_HISTOGRAM] = "histogram",
		[PROM_UNTYPED] = "untyped",
	};

	if (b->sb.err)
		return;
	if (!prom_name_valid(name) || (unsigned int)t >= sizeof(types) / sizeof(types[0])) {
		fail(b, -EINVAL);
		return;
	}
	if (help) {
		put(b, "# HELP ", 7);
		puts_(b, name);
		putc_(b, ' ');
		put_escaped(b, help, false);
		putc_(b, '\n');
	}
	put(b, "# TYPE ", 7);
	puts_(b, name);
	putc_(b, ' ');
	puts_(b, types[t]);
	putc_(b, '\n');
}

/* A sample's name{labels} after checking them; false (and the buffer in
 * error) when they are not valid. */
static bool sample_head(struct prom_buf *b, const char *name, const struct prom_label *labels, size_t n)
{
	if (b->sb.err)
		return false;
	if (!prom_name_valid(name) || !labels_valid(labels, n, false)) {
		fail(b, -EINVAL);
		return false;
	}
	series(b, name, NULL, labels, n, NULL);
	return true;
}

void prom_sample(struct prom_buf *b, const char *name, const struct prom_label *labels, size_t n,
		 double v)
{
	if (sample_head(b, name, labels, n))
		end_double(b, v);
}

void prom_sample_u64(struct prom_buf *b, const char *name, const struct prom_label *labels,
		     size_t n, uint64_t v)
{
	if (sample_head(b, name, labels, n))
		end_u64(b, v);
}

void prom_histogram(struct prom_buf *b, const char *name, const struct prom_label *labels, size_t n,
		    const double *bounds, const uint64_t *counts, size_t nb, double sum)
{
	char le[PROM_NUM_MAX];
	uint64_t total = 0;

	if (b->sb.err)
		return;
	if (!prom_name_valid(name) || !labels_valid(labels, n, true) || !counts ||
	    (nb && !bounds)) {
		fail(b, -EINVAL);
		return;
	}
	for (size_t i = 0; i < nb; i++) {
		if (!isfinite(bounds[i]) || (i && !(bounds[i] > bounds[i - 1]))) {
			fail(b, -EINVAL);
			return;
		}
	}
	for (size_t i = 0; i <= nb; i++) {
		total = counts[i] > UINT64_MAX - total ? UINT64_MAX : total + counts[i];
		if (i < nb)
			prom_format_double(le, bounds[i]);
		series(b, name, "_bucket", labels, n, i < nb ? le : "+Inf");
		end_u64(b, total);
	}
	series(b, name, "_sum", labels, n, NULL);
	end_double(b, sum);
	series(b, name, "_count", labels, n, NULL);
	end_u64(b, total);
}
