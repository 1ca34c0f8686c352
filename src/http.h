/* The agent's HTTP endpoint: /metrics for Prometheus and /healthz, served by
 * libmicrohttpd from the agent's own single-threaded epoll loop. */
#ifndef PODSIGHT_HTTP_H
#define PODSIGHT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct http;

/* Fills *body with a malloc'd buffer of *len bytes (the server frees it);
 * 0 or a negative errno, which the client sees as a 500. */
typedef int (*http_render_fn)(void *ctx, char **body, size_t *len);

struct http_opts {
	/* "127.0.0.1:9101", "[::1]:9101", "localhost:9101", or ":9101" for
	 * every address (IPv6 and IPv4 when the host has IPv6). */
	const char *listen;
	http_render_fn metrics;		/* NULL: /metrics answers 500 */
	void *ctx;
	/* 0: 64. One client (an IPv4 address, an IPv6 /64) gets 4 of them at
	 * most (half when fewer than 8); when all are taken, a newcomer from
	 * another client takes the place of the oldest idle connection of the
	 * client holding the most. */
	unsigned int max_connections;
	/* 0: 10. A request must arrive and its answer leave within this many
	 * seconds, and an idle connection is closed after it: a client that
	 * trickles one byte a second is dropped all the same. */
	unsigned int timeout_s;
};

/*
 * Parses ADDR:PORT for --listen. Accepts a dotted IPv4 address, a bracketed
 * IPv6 address, "localhost" (127.0.0.1) or nothing (":9101", every address,
 * given as the IPv6 wildcard), then a decimal port 1..65535. Anything else
 * (no port, port 0, a host name, an unbracketed IPv6 address, a zone id,
 * signs, blanks, trailing bytes) is -EINVAL. Pure; 0 on success.
 */
int http__parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/*
 * Binds and starts the server (no thread of its own). Port 0 is accepted
 * here and binds a free port (see http__port). NULL with errno set and a
 * one-line message in err on failure (bad address, address in use, ...).
 */
struct http *http__new(const struct http_opts *o, char *err, size_t errlen);
/* Stops the server and closes every connection; NULL is a no-op. */
void http__free(struct http *h);

/* The fd to watch for EPOLLIN in the caller's epoll; call http__run when
 * it is readable and when http__timeout_ms has run out. */
int http__epoll_fd(const struct http *h);
/* Does whatever is ready without blocking. 0 or a negative errno. */
int http__run(struct http *h);
/* Milliseconds until http__run must be called even with nothing readable,
 * -1 for no deadline. */
int http__timeout_ms(struct http *h);
/* The bound port (useful after port 0). */
int http__port(const struct http *h);
/* Whether two peers count as one client for the connection limits: the
 * same IPv4 address (an IPv4-mapped IPv6 one too), or the same IPv6 /64. */
bool http__same_client(const struct sockaddr *a, const struct sockaddr *b);

struct http_stats {
	uint64_t requests;	/* requests answered, any status */
	/* 4xx/5xx answers of ours, requests that failed midway, and
	 * connections that ended with no request handled (malformed or
	 * oversized requests libmicrohttpd answered itself, clients that
	 * left early, clients dropped for being too slow, idle connections
	 * shut to make room for another client) */
	uint64_t errors;
	uint64_t rejected;	/* connections refused over the limits */
};
void http__stats(const struct http *h, struct http_stats *s);

#endif
