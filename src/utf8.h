/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * UTF-8 validation, the one rule every writer applies to bytes that come
 * from outside: the JSON writer (which escapes what fails it), the
 * Prometheus writer (which replaces it) and the terminal display (which
 * shows it as \xNN). Inline: the JSON writer calls it per character.
 */
#ifndef PODSIGHT_UTF8_H
#define PODSIGHT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length of the well-formed UTF-8 sequence at s, of which n > 0 bytes may
 * be read: 1 for ASCII, 2 to 4, or 0 when the bytes are not UTF-8. The
 * ranges are those of Unicode's table 3-7, which exclude overlong forms,
 * surrogates (U+D800-U+DFFF), code points above U+10FFFF and sequences cut
 * short by the end of the input.
 */
static inline size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4 || n < 2)
		return 0;
	if (c < 0xe0)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c == 0xe0)
		lo = 0xa0;		/* else overlong */
	else if (c == 0xed)
		hi = 0x9f;		/* else a surrogate */
	else if (c == 0xf0)
		lo = 0x90;		/* else overlong */
	else if (c == 0xf4)
		hi = 0x8f;		/* else above U+10FFFF */
	if (s[1] < lo || s[1] > hi || n < 3 || (s[2] & 0xc0) != 0x80)
		return 0;
	if (c < 0xf0)
		return 3;
	return n >= 4 && (s[3] & 0xc0) == 0x80 ? 4 : 0;
}

/* Code point of the sequence of len bytes at s, which utf8_seq_len()
 * accepted. */
static inline uint32_t utf8_decode(const unsigned char *s, size_t len)
{
	static const unsigned char lead_bits[5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	uint32_t cp = s[0] & lead_bits[len];
	size_t i;

	for (i = 1; i < len; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

#endif /* PODSIGHT_UTF8_H */
