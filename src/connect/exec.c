/* exec.c - the exec connector: run a configured program (no shell) with the
 * job as JSON on stdin, an empty environment and a deadline; exit 0 = done. */
#define _GNU_SOURCE /* pipe2 */
#include "connect/connect.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARGS_MAX 64
#define ARG_MAX_LEN 4096
#define TIMEOUT_DEFAULT 30
#define TIMEOUT_MIN 1
#define TIMEOUT_MAX 600
#define KEEP_MAX 4096         /* kept of stderr (and stdout); the rest is read and dropped */
#define ERRLINE_MAX 200       /* of stderr's first line in an error message */

static const char *const fields[] = {"command", "timeout", NULL};
static const char *const system_fields[] = {NULL};

static int check(const json_t *settings)
{
	json_t *cmd = json_is_object(settings) ? json_object_get(settings, "command") : NULL;
	json_t *v;
	size_t i;
	int64_t timeout;

	if (!cmd) {
		gh_error_field("connector_settings.command", "is required: an array of strings, "
			       "the program's absolute path first");
	} else if (!json_is_array(cmd) || json_array_size(cmd) == 0 ||
		   json_array_size(cmd) > ARGS_MAX) {
		gh_error_field("connector_settings.command", "must be an array of 1 to %d strings",
			       ARGS_MAX);
	} else {
		json_array_foreach(cmd, i, v) {
			if (!json_is_string(v) || json_string_length(v) > ARG_MAX_LEN ||
			    strlen(json_string_value(v)) != json_string_length(v)) {
				gh_error_field("connector_settings.command", "item %zu must be a "
					       "string of at most %d bytes without NUL", i,
					       ARG_MAX_LEN);
				break;
			}
			if (i == 0 && json_string_value(v)[0] != '/')
				gh_error_field("connector_settings.command", "the program must be "
					       "an absolute path (no shell, no PATH search)");
		}
	}
	gh_conn_setting_duration(settings, "timeout", TIMEOUT_MIN, TIMEOUT_MAX, TIMEOUT_DEFAULT,
				 &timeout);
	return gh_error_fields_finish();
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Between fork and exec: only async-signal-safe calls (other threads may hold
 * locks). Reports errno on fail_fd when exec does not happen. */
static void child(int in, int out, int err, int fail_fd, char *const argv[],
		  char *const envp[])
{
	int fds[4] = {in, out, err, fail_fd};
	struct sigaction sa;
	struct rlimit rl;
	sigset_t none;
	int e, fd;

	setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* out of the way first, so that no dup2 below overwrites another */
	for (int i = 0; i < 4; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD, 10)) < 0)
			goto fail;
	for (int i = 0; i < 4; i++)
		if (dup2(fds[i], i) < 0)
			goto fail;
	fail_fd = 3;
	fcntl(fail_fd, F_SETFD, FD_CLOEXEC);
	/* every other descriptor goes */
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0)
#endif
	{
		rl.rlim_cur = 65536;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 65536)
			rl.rlim_cur = 65536;
		for (fd = 4; fd < (int)rl.rlim_cur; fd++)
			close(fd);
	}
	execve(argv[0], argv, envp);
fail:
	e = errno;
	if (write(fail_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

typedef struct sink {
	int fd;
	char buf[KEEP_MAX + 1];
	size_t len;
} sink;

/* Reads what is there; 1 at end of file (fd closed), else 0. */
static int drain(sink *s)
{
	char chunk[8192];
	ssize_t n;
	size_t keep;

	for (int i = 0; i < 64; i++) {
		n = read(s->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			close(s->fd);
			s->fd = -1;
			return 1;
		}
		keep = (size_t)n < KEEP_MAX - s->len ? (size_t)n : KEEP_MAX - s->len;
		memcpy(s->buf + s->len, chunk, keep);
		s->len += keep;
		s->buf[s->len] = '\0';
	}
	return 0;
}

typedef struct run {
	char **argv;           /* NULL-terminated, malloc'd strings */
	char *envp[3];
	char *input;           /* the job JSON */
	size_t input_len, sent;
	int in_fd;             /* our end of the child's stdin (a socket: no SIGPIPE) */
	sink out, err;
	pid_t pid;
	int status, reaped;
} run;

static void run_free(run *r)
{
	for (size_t i = 0; r->argv && r->argv[i]; i++)
		free(r->argv[i]);
	free(r->argv);
	free(r->envp[0]);
	free(r->envp[1]);
	free(r->input);
	if (r->in_fd >= 0)
		close(r->in_fd);
	if (r->out.fd >= 0)
		close(r->out.fd);
	if (r->err.fd >= 0)
		close(r->err.fd);
}

static int run_prepare(run *r, const json_t *cmd, const gh_conn_job *job)
{
	size_t n = json_array_size(cmd), i;
	json_t *doc = gh_conn_job_json(job);
	const char *id = job->job_id ? job->job_id : "";

	if (!(r->argv = calloc(n + 1, sizeof(char *))))
		goto oom;
	for (i = 0; i < n; i++)
		if (!(r->argv[i] = strdup(json_string_value(json_array_get(cmd, i)))))
			goto oom;
	r->envp[0] = strdup("PATH=/usr/bin:/bin");
	if ((r->envp[1] = malloc(strlen(id) + sizeof("GATEHOUSE_JOB_ID=")))) {
		memcpy(r->envp[1], "GATEHOUSE_JOB_ID=", sizeof("GATEHOUSE_JOB_ID=") - 1);
		strcpy(r->envp[1] + sizeof("GATEHOUSE_JOB_ID=") - 1, id);
	}
	if (!r->envp[0] || !r->envp[1] || !doc || !(r->input = json_dumps(doc, JSON_COMPACT)))
		goto oom;
	r->input_len = strlen(r->input);
	json_decref(doc);
	return 0;
oom:
	json_decref(doc);
	return gh_error_set(GH_ERROR, "exec: out of memory");
}

/* Starts the child; on failure to exec, the message names errno. */
static int run_start(run *r)
{
	int sv[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1}, failp[2] = {-1, -1};
	int e = 0, rc = GH_ERROR;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0 ||
	    pipe2(failp, O_CLOEXEC) != 0) {
		gh_error_set(GH_ERROR, "exec %s: cannot make pipes: %s", r->argv[0], strerror(errno));
		goto cleanup;
	}
	if ((r->pid = fork()) < 0) {
		gh_error_set(GH_ERROR, "exec %s: cannot fork: %s", r->argv[0], strerror(errno));
		goto cleanup;
	}
	if (r->pid == 0)
		child(sv[1], outp[1], errp[1], failp[1], r->argv, r->envp);
	setpgid(r->pid, r->pid); /* also in the child: whichever runs first */
	close(failp[1]);
	failp[1] = -1;
	do
		n = read(failp[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
			;
		r->reaped = 1;
		gh_error_set(GH_ERROR, "exec: cannot run %s: %s", r->argv[0], strerror(e));
		goto cleanup;
	}
	r->in_fd = sv[0], sv[0] = -1;
	r->out.fd = outp[0], outp[0] = -1;
	r->err.fd = errp[0], errp[0] = -1;
	fcntl(r->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(r->out.fd, F_SETFL, O_NONBLOCK);
	fcntl(r->err.fd, F_SETFL, O_NONBLOCK);
	rc = 0;
cleanup:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (failp[i] >= 0)
			close(failp[i]);
	}
	return rc;
}

static void send_input(run *r)
{
	ssize_t n;

	while (r->sent < r->input_len) {
		n = send(r->in_fd, r->input + r->sent, r->input_len - r->sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0)
			break; /* the child closed its stdin: not our failure */
		r->sent += (size_t)n;
	}
	close(r->in_fd);
	r->in_fd = -1;
}

/* Feeds stdin, drains stdout and stderr, reaps; 1 when the deadline passed. */
static int run_wait(run *r, int64_t deadline)
{
	struct pollfd p[3];
	int np, left;

	for (;;) {
		if (!r->reaped && waitpid(r->pid, &r->status, WNOHANG) == r->pid) {
			r->reaped = 1;
			/* what it left behind in its group would hold the pipes open */
			kill(-r->pid, SIGKILL);
		}
		if (r->reaped && r->out.fd < 0 && r->err.fd < 0)
			return 0;
		left = (int)(deadline - now_ms());
		if (left <= 0)
			return 1;
		np = 0;
		if (r->in_fd >= 0)
			p[np++] = (struct pollfd){r->in_fd, POLLOUT, 0};
		if (r->out.fd >= 0)
			p[np++] = (struct pollfd){r->out.fd, POLLIN, 0};
		if (r->err.fd >= 0)
			p[np++] = (struct pollfd){r->err.fd, POLLIN, 0};
		/* wake up now and then to reap: a child's exit is not a descriptor */
		if (poll(p, (nfds_t)np, left < 50 ? left : 50) < 0 && errno != EINTR)
			return 1;
		if (r->in_fd >= 0)
			send_input(r);
		if (r->out.fd >= 0)
			drain(&r->out);
		if (r->err.fd >= 0)
			drain(&r->err);
	}
}

/* The first non-empty line of stderr, control characters dropped. */
static const char *first_line(sink *s)
{
	char *p = s->buf, *q;

	while (*p == '\n' || *p == '\r')
		p++;
	p[strcspn(p, "\r\n")] = '\0';
	for (q = p; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = ' ';
	return p;
}

static int apply(const json_t *settings, const gh_conn_job *job, json_t **receipt)
{
	run r;
	int64_t timeout, started;
	const char *line;
	int rc = GH_ERROR, late;

	*receipt = NULL;
	memset(&r, 0, sizeof(r));
	r.in_fd = r.out.fd = r.err.fd = -1;
	gh_error_clear();
	if (check(settings) != 0)
		return GH_EINVALID;
	gh_conn_setting_duration(settings, "timeout", TIMEOUT_MIN, TIMEOUT_MAX, TIMEOUT_DEFAULT,
				 &timeout);
	if ((rc = run_prepare(&r, json_object_get(settings, "command"), job)) != 0 ||
	    (rc = run_start(&r)) != 0)
		goto cleanup;
	started = now_ms();
	late = run_wait(&r, started + timeout * 1000);
	if (!r.reaped) {
		kill(-r.pid, SIGKILL);
		kill(r.pid, SIGKILL);
		while (waitpid(r.pid, &r.status, 0) < 0 && errno == EINTR)
			;
		r.reaped = 1;
	}
	line = first_line(&r.err);
	if (late && !(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)) {
		rc = gh_error_set(GH_ERROR, "exec %s: killed after the timeout of %llds%s%.*s",
				  r.argv[0], (long long)timeout, *line ? ": " : "", ERRLINE_MAX,
				  line);
	} else if (WIFSIGNALED(r.status)) {
		rc = gh_error_set(GH_ERROR, "exec %s: killed by signal %d%s%.*s", r.argv[0],
				  WTERMSIG(r.status), *line ? ": " : "", ERRLINE_MAX, line);
	} else if (WEXITSTATUS(r.status) != 0) {
		rc = gh_error_set(GH_ERROR, "exec %s: exit status %d%s%.*s", r.argv[0],
				  WEXITSTATUS(r.status), *line ? ": " : "", ERRLINE_MAX, line);
	} else if (!(*receipt = json_pack("{s:i}", "exit", 0))) {
		rc = gh_error_set(GH_ERROR, "exec: out of memory");
	} else {
		rc = 0;
	}
cleanup:
	run_free(&r);
	return rc;
}

const gh_connector_kind gh_connector_exec = {"exec", fields, check, apply, NULL, system_fields,
					     NULL};
