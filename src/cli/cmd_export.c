/* cmd_export.c - gatehouse audit export: audit events to a file, stdout or syslog,
 * as JSON lines or CEF, resumable from a state file (docs/operations.md, SIEM export). */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gatehouse/common.h"
#include "gatehouse/errors.h"
#include "gatehouse/gov.h"

#define BATCH_DEFAULT 500        /* events a page, the API's largest */
#define POLL_DEFAULT_MS 2000
#define POLL_MIN_MS 100
#define POLL_MAX_MS 3600000
#define DEFAULT_SOCKET "/dev/log"

enum { FMT_JSON, FMT_CEF };
enum { OUT_STDOUT, OUT_FILE, OUT_SYSLOG };

static const char *const format_names[] = {"json", "cef"};
static const char *const output_names[] = {"stdout", "file", "syslog"};

typedef struct exporter {
	gh_client cl;
	int format, output;
	const char *path;            /* --output FILE */
	const char *state_path;      /* --state FILE, or NULL */
	const char *syslog_address;  /* --syslog-address HOST:PORT, or NULL */
	const char *syslog_socket;   /* the local datagram socket otherwise */
	int64_t after;               /* the last seq delivered */
	int64_t max_events;          /* 0: no bound */
	int batch;
	int follow;
	int64_t poll_ms;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fd;                      /* the file, or the syslog socket */
	int lock_fd;
	char host[256];
	long pid;
	int64_t offset;              /* the file's size after the last batch */
	int64_t dev, ino;
	int64_t delivered;
} exporter;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void gh_cmd_export_usage(FILE *f)
{
	fprintf(f,
		"usage: gatehouse audit export [--format json|cef] [--output FILE|syslog|-]\n"
		"         [--syslog-address HOST:PORT | --syslog-socket PATH] [--after SEQ]\n"
		"         [--state FILE] [--follow [--poll-interval D]] [--max-events N] [--batch N]\n"
		"  Exports audit events, oldest first, for a SIEM.\n"
		"  --format json     one event a line, as GET /v1/audit/export (default)\n"
		"  --format cef      ArcSight CEF lines (docs/operations.md, SIEM export)\n"
		"  --output FILE     append to FILE, fsync'd after each batch (default: stdout)\n"
		"  --output syslog   RFC 5424 messages to --syslog-address HOST:PORT over UDP,\n"
		"                    or the local datagram socket --syslog-socket (default /dev/log)\n"
		"  --after SEQ       start after this sequence number (default 0: the beginning)\n"
		"  --state FILE      resume: FILE keeps the last exported sequence number, written\n"
		"                    atomically after each batch; a rerun continues from it\n"
		"                    (--after only applies while FILE does not exist yet)\n"
		"  --follow          keep polling for new events every --poll-interval (e.g. 500ms,\n"
		"                    5s, 1m; default 2s) until SIGINT/SIGTERM or --max-events\n"
		"  --max-events N    stop after N events\n"
		"  --batch N         events per batch, 1 to 500 (default 500)\n"
		"  Delivery is at least once: an interruption repeats at most the batch in flight.\n"
		"  A file with --state is exactly once: a rerun first cuts the file back to the\n"
		"  last batch the state recorded.\n");
}

/* --- options --------------------------------------------------------------- */

static int parse_count(int64_t *out, const char *s, int64_t min, int64_t max)
{
	char *end;
	long long v;

	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "500ms", or a duration as elsewhere ("5s", "1m"). */
static int parse_interval(int64_t *out_ms, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int64_t v;

	if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
		char digits[32];

		if (n - 2 >= sizeof(digits))
			return -1;
		memcpy(digits, s, n - 2);
		digits[n - 2] = '\0';
		if (parse_count(&v, digits, POLL_MIN_MS, POLL_MAX_MS))
			return -1;
		*out_ms = v;
		return 0;
	}
	if (!s || gh_duration_parse(&v, s) || v > POLL_MAX_MS / 1000)
		return -1;
	*out_ms = v * 1000;
	return 0;
}

/* HOST:PORT or [V6]:PORT, resolved now so a typo is a usage error. */
static int resolve(exporter *x, const char *spec)
{
	char host[256];
	const char *colon, *port, *h = spec;
	size_t hlen;
	struct addrinfo hints, *res = NULL;
	int64_t p;

	if (*spec == '[') {
		const char *close = strchr(spec, ']');

		if (!close || close[1] != ':')
			return -1;
		h = spec + 1;
		hlen = (size_t)(close - h);
		port = close + 2;
	} else {
		if (!(colon = strrchr(spec, ':')))
			return -1;
		hlen = (size_t)(colon - spec);
		port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host) || parse_count(&p, port, 1, 65535))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) || !res)
		return -1;
	memcpy(&x->addr, res->ai_addr, res->ai_addrlen);
	x->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Every option checked before anything is opened: exit 2 changes nothing. */
static int check(exporter *x, const gh_cli *c)
{
	static const char *const allowed[] = {
		"format", "output", "syslog-address", "syslog-socket", "after", "state",
		"follow", "poll-interval", "max-events", "batch", NULL};
	const char *v;
	int64_t n;

	if (gh_cli_check_options(c, "audit export", allowed))
		return -1;
	if (c->npos > 2)
		return gh_error_set(GH_EINVALID, "audit export takes no argument ('%s')", c->pos[2]);
	for (const char *const *o = allowed; *o; o++)
		if (strcmp(*o, "follow") != 0 && gh_cli_has(c, *o) &&
		    (!(v = gh_cli_get(c, *o)) || !*v))
			return gh_error_set(GH_EINVALID, "option --%s needs a value", *o);
	if (gh_cli_get(c, "follow"))
		return gh_error_set(GH_EINVALID, "option --follow takes no value (the poll "
				    "interval is --poll-interval)");

	if ((v = gh_cli_get(c, "format"))) {
		if (strcmp(v, "json") == 0)
			x->format = FMT_JSON;
		else if (strcmp(v, "cef") == 0)
			x->format = FMT_CEF;
		else
			return gh_error_set(GH_EINVALID, "--format must be json or cef, not '%s'", v);
	}
	if ((v = gh_cli_get(c, "output")) && strcmp(v, "-") != 0) {
		struct stat st;

		if (strcmp(v, "syslog") == 0) {
			x->output = OUT_SYSLOG;
		} else if (stat(v, &st) == 0 && S_ISDIR(st.st_mode)) {
			return gh_error_set(GH_EINVALID, "--output %s is a directory", v);
		} else {
			x->output = OUT_FILE;
			x->path = v;
		}
	}
	x->syslog_address = gh_cli_get(c, "syslog-address");
	x->syslog_socket = gh_cli_get(c, "syslog-socket");
	if ((x->syslog_address || x->syslog_socket) && x->output != OUT_SYSLOG)
		return gh_error_set(GH_EINVALID, "--%s needs --output syslog", x->syslog_address ?
				    "syslog-address" : "syslog-socket");
	if (x->syslog_address && x->syslog_socket)
		return gh_error_set(GH_EINVALID,
				    "--syslog-address and --syslog-socket exclude each other");
	if (x->syslog_address && resolve(x, x->syslog_address))
		return gh_error_set(GH_EINVALID, "--syslog-address must be HOST:PORT (port 1 to "
				    "65535, a host that resolves), not '%s'", x->syslog_address);
	if (x->syslog_socket && strlen(x->syslog_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return gh_error_set(GH_EINVALID, "--syslog-socket path is too long");
	if (!x->syslog_socket)
		x->syslog_socket = DEFAULT_SOCKET;

	if ((v = gh_cli_get(c, "after")) && parse_count(&x->after, v, 0, INT64_MAX))
		return gh_error_set(GH_EINVALID, "--after must be a sequence number, 0 or more, "
				    "not '%s'", v);
	if ((v = gh_cli_get(c, "max-events")) && parse_count(&x->max_events, v, 1, INT64_MAX))
		return gh_error_set(GH_EINVALID, "--max-events must be a whole number, 1 or "
				    "more, not '%s'", v);
	x->batch = BATCH_DEFAULT;
	if ((v = gh_cli_get(c, "batch"))) {
		if (parse_count(&n, v, 1, BATCH_DEFAULT))
			return gh_error_set(GH_EINVALID, "--batch must be 1 to %d, not '%s'",
					    BATCH_DEFAULT, v);
		x->batch = (int)n;
	}
	x->follow = gh_cli_has(c, "follow");
	x->poll_ms = POLL_DEFAULT_MS;
	if ((v = gh_cli_get(c, "poll-interval"))) {
		if (!x->follow)
			return gh_error_set(GH_EINVALID, "--poll-interval needs --follow");
		if (parse_interval(&x->poll_ms, v))
			return gh_error_set(GH_EINVALID, "--poll-interval must be 100ms to 1h "
					    "(e.g. 500ms, 5s, 1m), not '%s'", v);
	}
	if ((v = gh_cli_get(c, "state"))) {
		struct stat st;

		if (stat(v, &st) == 0 && !S_ISREG(st.st_mode))
			return gh_error_set(GH_EINVALID, "--state %s is not a regular file", v);
		if (x->path && strcmp(v, x->path) == 0)
			return gh_error_set(GH_EINVALID, "--state and --output name the same file");
		x->state_path = v;
	}
	return 0;
}

/* --- the state -------------------------------------------------------------- */

/* Reads the state, if any, and checks it belongs to this kind of export. */
static int load_state(exporter *x, gh_gov_export_state *st, int *have)
{
	int rc = gh_gov_export_state_read(st, x->state_path);

	*have = 0;
	if (rc == GH_ENOTFOUND)
		return 0;
	if (rc)
		return GH_EXIT_FAIL;
	if (strcmp(st->format, format_names[x->format]) != 0) {
		gh_error_set(GH_EINVALID, "--format %s differs from the state file %s, which "
			     "records a %s export", format_names[x->format], x->state_path,
			     st->format);
		return GH_EXIT_USAGE;
	}
	if (strcmp(st->output, output_names[x->output]) != 0) {
		gh_error_set(GH_EINVALID, "--output (%s) differs from the state file %s, which "
			     "records an export to %s", output_names[x->output], x->state_path,
			     st->output);
		return GH_EXIT_USAGE;
	}
	*have = 1;
	x->after = st->seq;
	return 0;
}

static int save_state(exporter *x)
{
	gh_gov_export_state st;

	memset(&st, 0, sizeof(st));
	st.seq = x->after;
	snprintf(st.format, sizeof(st.format), "%s", format_names[x->format]);
	snprintf(st.output, sizeof(st.output), "%s", output_names[x->output]);
	st.offset = x->offset;
	st.dev = x->dev;
	st.ino = x->ino;
	return gh_gov_export_state_write(x->state_path, &st);
}

/* One exporter a state file: a second one would race it. */
static int lock_state(exporter *x)
{
	size_t n = strlen(x->state_path) + 6;
	char *path = malloc(n);
	int rc = 0;

	if (!path)
		return gh_error_set(GH_ERROR, "out of memory");
	snprintf(path, n, "%s.lock", x->state_path);
	x->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (x->lock_fd < 0)
		rc = gh_error_set(GH_ERROR, "cannot open %s: %s", path, strerror(errno));
	else if (flock(x->lock_fd, LOCK_EX | LOCK_NB))
		rc = gh_error_set(GH_ECONFLICT, "another export is using the state file %s (%s "
				  "is locked)", x->state_path, path);
	free(path);
	return rc;
}

/* --- the sinks ----------------------------------------------------------------- */

/* Opens the file; with a state that recorded this very file, cuts what came
 * after the last recorded batch (a batch in flight when we were stopped), so
 * that it is written once, now. */
static int open_file(exporter *x, const gh_gov_export_state *st, int have_state)
{
	struct stat sb;

	x->fd = open(x->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (x->fd < 0 || fstat(x->fd, &sb))
		return gh_error_set(GH_ERROR, "cannot open --output %s: %s", x->path,
				    strerror(errno));
	x->dev = (int64_t)sb.st_dev;
	x->ino = (int64_t)sb.st_ino;
	x->offset = (int64_t)sb.st_size;
	if (!have_state)
		return 0;
	if (st->dev != x->dev || st->ino != x->ino || st->offset > x->offset) {
		/* rotated or cut by someone else: none of it is ours to cut */
		if (x->offset > 0 || st->offset > 0)
			fprintf(stderr, "gatehouse: %s is not the file the state recorded (rotated?);"
				" appending from seq %" PRId64 "\n", x->path, x->after);
		return 0;
	}
	if (st->offset < x->offset) {
		if (ftruncate(x->fd, (off_t)st->offset) || fsync(x->fd))
			return gh_error_set(GH_ERROR, "cannot cut %s back to %" PRId64 " bytes: %s",
					    x->path, st->offset, strerror(errno));
		fprintf(stderr, "gatehouse: dropped %" PRId64 " bytes of %s after the last "
			"recorded batch (seq %" PRId64 "); exporting them again\n",
			x->offset - st->offset, x->path, x->after);
		x->offset = st->offset;
	}
	return 0;
}

static int open_syslog(exporter *x)
{
	if (x->syslog_address) {
		x->fd = socket(x->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (x->fd < 0 || connect(x->fd, (struct sockaddr *)&x->addr, x->addrlen))
			return gh_error_set(GH_ERROR, "cannot reach syslog at %s: %s",
					    x->syslog_address, strerror(errno));
	} else {
		struct sockaddr_un un;

		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", x->syslog_socket);
		x->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (x->fd < 0 || connect(x->fd, (struct sockaddr *)&un, sizeof(un)))
			return gh_error_set(GH_ERROR, "cannot reach the local syslog socket %s: %s",
					    x->syslog_socket, strerror(errno));
	}
	if (gethostname(x->host, sizeof(x->host) - 1))
		x->host[0] = '\0';
	x->host[sizeof(x->host) - 1] = '\0';
	x->pid = (long)getpid();
	return 0;
}

/* Writes all n bytes to fd, retrying short writes and EINTR; 0 or -1 (errno). */
static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One event to its sink; the file is only fsync'd per batch, by the caller. */
static int deliver(exporter *x, const json_t *ev)
{
	char *line = NULL, *msg = NULL;
	size_t len = 0, mlen;
	int rc = 0;

	if (x->format == FMT_CEF) {
		if ((rc = gh_gov_export_cef(&line, &len, ev)))
			return rc;
	} else {
		if (!(line = json_dumps(ev, JSON_COMPACT)))
			return gh_error_set(GH_ERROR, "out of memory encoding an audit event");
		len = strlen(line);
	}
	if (x->output == OUT_SYSLOG) {
		ssize_t w;

		if ((rc = gh_gov_export_syslog(&msg, &mlen, ev, x->host, x->pid, line, len)))
			goto cleanup;
		do
			w = send(x->fd, msg, mlen, 0);
		while (w < 0 && errno == EINTR);
		if (w < 0 || (size_t)w != mlen)
			rc = gh_error_set(GH_ERROR, "cannot send to syslog: %s", strerror(errno));
	} else if (x->output == OUT_FILE) {
		if (write_all(x->fd, line, len) || write_all(x->fd, "\n", 1))
			rc = gh_error_set(GH_ERROR, "cannot write %s: %s", x->path, strerror(errno));
	} else if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF) {
		rc = gh_error_set(GH_ERROR, "cannot write to standard output");
	}
cleanup:
	free(line);
	free(msg);
	return rc;
}

/* Makes a delivered batch durable, then (and only then) records it. */
static int commit_batch(exporter *x)
{
	if (x->output == OUT_FILE) {
		struct stat sb;

		if (fsync(x->fd) || fstat(x->fd, &sb))
			return gh_error_set(GH_ERROR, "cannot sync %s: %s", x->path, strerror(errno));
		x->offset = (int64_t)sb.st_size;
	} else if (x->output == OUT_STDOUT && fflush(stdout)) {
		return gh_error_set(GH_ERROR, "cannot write to standard output");
	}
	return x->state_path ? save_state(x) : 0;
}

/* --- the loop ---------------------------------------------------------------- */

/* Sleeps ms, waking early when asked to stop. */
static void pause_ms(int64_t ms)
{
	while (ms > 0 && !stop_requested) {
		int64_t step = ms > 100 ? 100 : ms;
		struct timespec ts = {(time_t)(step / 1000), (long)(step % 1000) * 1000000L};

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* One page of events after x->after; *more is 0 at the end of the log. */
static int export_page(exporter *x, int *more, int *exit_code)
{
	int64_t limit = x->batch;
	json_t *doc = NULL, *items;
	gh_response r = {0};
	char url[96];
	size_t i;
	int rc = 0;

	*more = 0;
	if (x->max_events && x->max_events - x->delivered < limit)
		limit = x->max_events - x->delivered;
	snprintf(url, sizeof(url), "/v1/audit/events?after_seq=%" PRId64 "&limit=%" PRId64,
		 x->after, limit);
	if (gh_client_request(&r, &x->cl, "GET", url, NULL, NULL)) {
		*exit_code = gh_error_last()->code == GH_ERROR ? GH_EXIT_USAGE : GH_EXIT_FAIL;
		return -1;
	}
	if (r.status != 200) {
		gh_client_report(&r, &x->cl);
		gh_response_free(&r);
		gh_error_clear();        /* reported already */
		*exit_code = GH_EXIT_FAIL;
		return 1;
	}
	doc = r.body ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	gh_response_free(&r);
	items = json_object_get(doc, "items");
	if (!json_is_array(items)) {
		rc = gh_error_set(GH_ERROR, "the server's answer has no items");
		goto cleanup;
	}
	for (i = 0; i < json_array_size(items); i++) {
		const json_t *ev = json_array_get(items, i);
		const json_t *seq = json_object_get(ev, "seq");

		/* oldest first, each once: a server that goes backwards is refused */
		if (!json_is_integer(seq) || json_integer_value(seq) <= x->after) {
			rc = gh_error_set(GH_ERROR, "the server sent event seq %" JSON_INTEGER_FORMAT
					  " after %" PRId64 "; stopping", json_integer_value(seq),
					  x->after);
			goto cleanup;
		}
		if ((rc = deliver(x, ev)))
			goto cleanup;
		x->after = json_integer_value(seq);
		x->delivered++;
	}
	if (json_array_size(items) && (rc = commit_batch(x)))
		goto cleanup;
	*more = json_array_size(items) > 0 && json_is_integer(json_object_get(doc, "next_after_seq"));
cleanup:
	json_decref(doc);
	if (rc)
		*exit_code = GH_EXIT_FAIL;
	return rc;
}

static int run(exporter *x)
{
	int more, exit_code = GH_EXIT_OK;

	while (!stop_requested) {
		if (x->max_events && x->delivered >= x->max_events)
			break;
		if (export_page(x, &more, &exit_code)) {
			if (exit_code != GH_EXIT_OK && gh_error_last()->code != GH_OK)
				gh_cli_error(NULL);
			return exit_code;
		}
		if (!more) {
			if (!x->follow)
				break;
			pause_ms(x->poll_ms);
		}
	}
	return GH_EXIT_OK;
}

int gh_cmd_audit_export(gh_cli *c)
{
	exporter x;
	gh_gov_export_state st;
	struct sigaction sa, old_int, old_term;
	int have_state = 0, rc;

	memset(&x, 0, sizeof(x));
	memset(&st, 0, sizeof(st));
	x.cl.server = c->server;
	x.cl.token = c->token;
	x.cl.command = "audit export";
	x.cl.timeout_s = 60;
	x.fd = x.lock_fd = -1;
	if (c->help) {
		gh_cmd_export_usage(stdout);
		return GH_EXIT_OK;
	}
	gh_error_clear();
	if (check(&x, c)) {
		gh_cli_error(NULL);
		fprintf(stderr, "try 'gatehouse audit export --help'\n");
		return GH_EXIT_USAGE;
	}
	if (x.state_path) {
		if ((rc = load_state(&x, &st, &have_state))) {
			gh_cli_error(NULL);
			return rc;
		}
		if (lock_state(&x)) {
			gh_cli_error(NULL);
			rc = GH_EXIT_FAIL;
			goto cleanup;
		}
	}
	if ((x.output == OUT_FILE && open_file(&x, &st, have_state)) ||
	    (x.output == OUT_SYSLOG && open_syslog(&x))) {
		gh_cli_error(NULL);
		rc = GH_EXIT_FAIL;
		goto cleanup;
	}
	/* a first run records where it starts before it writes: a crash in its
	 * first batch is then cut back like any other */
	if (x.state_path && !have_state && save_state(&x)) {
		gh_cli_error(NULL);
		rc = GH_EXIT_FAIL;
		goto cleanup;
	}

	/* SIGINT/SIGTERM end the export after the batch in flight */
	stop_requested = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	rc = run(&x);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc == GH_EXIT_OK && x.output != OUT_STDOUT)
		fprintf(stderr, "gatehouse: exported %" PRId64 " events, up to seq %" PRId64 "\n",
			x.delivered, x.after);
cleanup:
	if (x.fd >= 0)
		close(x.fd);
	if (x.lock_fd >= 0)
		close(x.lock_fd);
	return rc;
}
