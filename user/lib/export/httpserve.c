// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* HTTP for `nettune serve` over libmicrohttpd: /metrics, /healthz, 404. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include "httpserve.h"
#include "log.h"
#include "opts.h"

/* Scrapers are few (a Prometheus or two, an OTel Collector); a bound keeps
 * a misbehaving client from holding many threads or descriptors. */
#define MAX_CONNECTIONS		32
#define CONNECTION_TIMEOUT_S	10

#define CT_METRICS	"text/plain; version=0.0.4; charset=utf-8"
#define CT_TEXT		"text/plain; charset=utf-8"

struct httpserve {
	int fd;
	int family;
	char listen[80];
	struct MHD_Daemon *d;
	httpserve_metrics_fn metrics;
	void *ctx;
};

static int split_port(const char *opt, const char *s, char *host, size_t hlen, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	const char *h = s, *hend = colon;

	if (!colon || !colon[1])
		goto bad;
	if (*s == '[') {	/* [v6]:port */
		h = s + 1;
		if (colon == s || colon[-1] != ']')
			goto bad;
		hend = colon - 1;
	}
	if (hend <= h || (size_t)(hend - h) >= hlen)
		goto bad;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	return opts__port(opt, colon + 1, port);
bad:
	warn("%s: '%s' is not ADDR:PORT (such as 127.0.0.1:7941 or [::1]:7941)", opt, s);
	return -EINVAL;
}

int httpserve__parse_addr(const char *opt, const char *s, struct sockaddr_storage *ss,
			  socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	uint16_t port;
	int err = split_port(opt, s, host, sizeof(host), &port);

	if (!err)
		err = opts__ip_addr(opt, host, ss, len);
	if (err)
		return err;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	return 0;
}

int httpserve__bind(const char *s, struct httpserve **out)
{
	struct sockaddr_storage ss;
	struct httpserve *h;
	socklen_t len;
	int one = 1, err = httpserve__parse_addr("--listen", s, &ss, &len);

	if (err)
		return err;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	snprintf(h->listen, sizeof(h->listen), "%s", s);
	h->family = ss.ss_family;
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(h->fd, (struct sockaddr *)&ss, len) || listen(h->fd, 64)) {
		err = -errno;
		warn("--listen %s: cannot listen: %s%s", s, strerror(errno),
		     errno == EADDRINUSE ? " (another exporter? choose another port)" : "");
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return err;
	}
	*out = h;
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

#define STATIC_REPLY(c, status, text) \
	reply(c, status, CT_TEXT, (void *)(text), sizeof(text) - 1, MHD_RESPMEM_PERSISTENT)

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_len, void **con_cls)
{
	struct httpserve *h = cls;
	size_t len = 0;
	char *body;

	(void)version, (void)data, (void)data_len, (void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return STATIC_REPLY(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (!strcmp(url, "/healthz"))
		return STATIC_REPLY(c, MHD_HTTP_OK, "ok\n");
	if (!strcmp(url, "/"))
		return STATIC_REPLY(c, MHD_HTTP_OK,
				    "nettune serve: GET /metrics (Prometheus text 0.0.4), GET /healthz\n");
	if (strcmp(url, "/metrics"))
		return STATIC_REPLY(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	body = h->metrics(h->ctx, &len);
	if (!body)
		return STATIC_REPLY(c, MHD_HTTP_SERVICE_UNAVAILABLE, "cannot read the probes' maps\n");
	return reply(c, MHD_HTTP_OK, CT_METRICS, body, len, MHD_RESPMEM_MUST_FREE);
}

int httpserve__start(struct httpserve *h, httpserve_metrics_fn metrics, void *ctx)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;

	h->metrics = metrics;
	h->ctx = ctx;
	if (h->family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The port is 0 because the socket is ours: bound before attaching. */
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, h->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S,
				MHD_OPTION_END);
	if (!h->d) {
		warn("--listen %s: libmicrohttpd cannot serve on it", h->listen);
		return -EIO;
	}
	h->fd = -1;	/* the daemon's now */
	info("serving http://%s/metrics", h->listen);
	return 0;
}

void httpserve__free(struct httpserve *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}
