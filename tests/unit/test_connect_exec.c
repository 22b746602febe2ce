/* test_connect_exec.c - the exec connector with real scripts: the job on
 * stdin, a bare environment, closed descriptors, failures with stderr's first
 * line, the timeout (process group killed, nothing left), big output, threads. */
#include "common/error.h"
#include "common/util.h"
#include "connect/connect.h"
#include "connect_fixture.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const gh_conn_job job = {
	"grant", "job_00000000000000a1", "grt_00000000000000b2", "sys_00000000000000c3",
	"batch", "ent_00000000000000d4", "deploy", "idn_00000000000000e5",
	"ci-bot", "ci-bot", "team:deployers", 0, 2};

/* Writes an executable /bin/sh script named name in the temp dir; path out. */
static void script(char *path, size_t len, const char *name, const char *body)
{
	FILE *f;

	snprintf(path, len, "%s/%s", gh_test_tmpdir(), name);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "#!/bin/sh\n%s\n", body);
		fclose(f);
	}
	chmod(path, 0700);
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* The settings of an exec instance of a server configuration running arg0
 * with up to two arguments (each a JSON string, which YAML reads too). */
static json_t *command(const char *timeout, const char *arg0, const char *arg1,
		       const char *arg2)
{
	json_t *argv = json_array();
	char text[8192], *list;

	json_array_append_new(argv, json_string(arg0));
	if (arg1)
		json_array_append_new(argv, json_string(arg1));
	if (arg2)
		json_array_append_new(argv, json_string(arg2));
	list = json_dumps(argv, JSON_COMPACT | JSON_ENSURE_ASCII);
	snprintf(text, sizeof(text), "connectors:\n  provision:\n    kind: exec\n"
		 "    command: %s\n%s%s%s", list ? list : "[]", timeout ? "    timeout: " : "",
		 timeout ? timeout : "", timeout ? "\n" : "");
	free(list);
	json_decref(argv);
	return cx_instance(text, "provision", NULL);
}

/* No child of ours is left, running or zombie. */
static int no_children(void)
{
	int st;

	return waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD;
}

/* pid has exited (within a second): no such process, or a zombie left to
 * an init that does not reap. */
static int gone(pid_t pid)
{
	char stat[64];

	snprintf(stat, sizeof(stat), "/proc/%ld/stat", (long)pid);
	for (int i = 0; i < 50; i++) {
		if (kill(pid, 0) != 0 || strstr(slurp(stat), ") Z "))
			return 1;
		usleep(20000);
	}
	return 0;
}

static void test_connect_exec_apply__job_on_stdin_bare_environment(void)
{
	char path[512], out[600], fds[640];
	json_t *s, *receipt = NULL, *body;
	int leak;

	script(path, sizeof(path), "record.sh",
	       "cat > \"$1\"\nenv > \"$1.env\"\nls /proc/$$/fd > \"$1.fds\"\nexit 0");
	snprintf(out, sizeof(out), "%s/recorded.json", gh_test_tmpdir());
	s = command("10s", path, out, NULL);
	setenv("GH_TEST_LEAK", "must-not-reach-the-child", 1);
	/* a descriptor without close-on-exec, as another thread might hold */
	leak = dup2(open("/dev/null", O_RDONLY), 47);
	CHECK_INT(gh_connector_exec.apply(s, &job, &receipt), 0);
	close(leak);
	CHECK_INT(json_integer_value(json_object_get(receipt, "exit")), 0);
	json_decref(receipt);
	body = json_loads(slurp(out), 0, NULL);
	CHECK_STR(json_string_value(json_object_get(body, "event")), "grant");
	CHECK_STR(json_string_value(json_object_get(body, "job")), "job_00000000000000a1");
	CHECK_STR(json_string_value(json_object_get(body, "target")), "team:deployers");
	CHECK_STR(json_string_value(json_object_get(body, "account")), "ci-bot");
	CHECK_INT(json_integer_value(json_object_get(body, "attempt")), 2);
	CHECK(json_is_null(json_object_get(body, "expires_at")));
	json_decref(body);
	snprintf(fds, sizeof(fds), "%s.env", out);
	CHECK(strstr(slurp(fds), "GATEHOUSE_JOB_ID=job_00000000000000a1\n") != NULL);
	CHECK(strstr(slurp(fds), "PATH=/usr/bin:/bin\n") != NULL);
	CHECK(strstr(slurp(fds), "GH_TEST_LEAK") == NULL);
	CHECK(strstr(slurp(fds), "HOME=") == NULL);
	snprintf(fds, sizeof(fds), "%s.fds", out);
	/* ls sorts as text: 0, 1, 10 (the shell's script), 2 */
	CHECK(strncmp(slurp(fds), "0\n1\n", 4) == 0 && strstr(slurp(fds), "\n2\n") != NULL);
	CHECK(strstr(slurp(fds), "\n3\n") == NULL);
	CHECK(strstr(slurp(fds), "\n47\n") == NULL);
	CHECK(no_children());
	unsetenv("GH_TEST_LEAK");
	json_decref(s);
}

static void test_connect_exec_apply__failure_carries_first_stderr_line(void)
{
	char path[512];
	json_t *s, *receipt = NULL;

	script(path, sizeof(path), "fail.sh",
	       "cat >/dev/null\necho 'role deployers: no such group' >&2\n"
	       "echo 'second line' >&2\nexit 3");
	s = command(NULL, path, NULL, NULL);
	CHECK_INT(gh_connector_exec.apply(s, &job, &receipt), GH_ERROR);
	CHECK(receipt == NULL);
	CHECK(strstr(gh_error_last()->message, "exit status 3") != NULL);
	CHECK(strstr(gh_error_last()->message, "role deployers: no such group") != NULL);
	CHECK(strstr(gh_error_last()->message, "second line") == NULL);
	CHECK(no_children());
	json_decref(s);
}

static void test_connect_exec_apply__timeout_kills_the_group(void)
{
	char path[512], pidfile[600], line[64];
	json_t *s, *receipt = NULL;
	struct timespec t0;
	double took;
	FILE *f;
	long grandchild = 0;

	snprintf(pidfile, sizeof(pidfile), "%s/grandchild.pid", gh_test_tmpdir());
	script(path, sizeof(path), "hang.sh",
	       "/bin/sleep 30 &\necho $! > \"$1\"\necho 'working...' >&2\n/bin/sleep 30");
	s = command("1s", path, pidfile, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(gh_connector_exec.apply(s, &job, &receipt), GH_ERROR);
	took = cx_seconds_since(&t0);
	CHECK(took >= 0.9 && took < 3.0);
	CHECK(strstr(gh_error_last()->message, "timeout") != NULL);
	CHECK(strstr(gh_error_last()->message, "working...") != NULL);
	CHECK(no_children());
	f = fopen(pidfile, "r");
	if (f && fgets(line, sizeof(line), f))
		grandchild = strtol(line, NULL, 10);
	if (f)
		fclose(f);
	CHECK(grandchild > 1);
	/* the background sleep went with its group (gone, or a zombie of init) */
	CHECK(grandchild > 1 && gone((pid_t)grandchild));
	json_decref(s);
}

static void test_connect_exec_apply__missing_program_is_clear(void)
{
	json_t *s = command(NULL, "/nonexistent/gatehouse-hook", NULL, NULL);
	json_t *receipt = NULL;
	int rc = gh_connector_exec.apply(s, &job, &receipt);

	CHECK(rc == GH_ERROR || rc == GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "/nonexistent/gatehouse-hook") != NULL);
	CHECK(strstr(gh_error_last()->message, "No such file") != NULL);
	CHECK(no_children());
	json_decref(s);
	s = command(NULL, "relative/hook", NULL, NULL);
	CHECK_INT(gh_connector_exec.apply(s, &job, &receipt), GH_EINVALID);
	json_decref(s);
}

static void test_connect_exec_apply__big_output_does_not_deadlock(void)
{
	char path[512];
	json_t *s, *receipt = NULL;
	struct timespec t0;

	/* 4 MiB on each stream, written before stdin is read */
	script(path, sizeof(path), "loud.sh",
	       "/usr/bin/head -c 4194304 /dev/zero\n/usr/bin/head -c 4194304 /dev/zero >&2\n"
	       "cat >/dev/null\nexit 0");
	s = command("20s", path, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(gh_connector_exec.apply(s, &job, &receipt), 0);
	CHECK(cx_seconds_since(&t0) < 10.0);
	json_decref(receipt);
	json_decref(s);
	/* a program that never reads its stdin still finishes */
	s = command("5s", "/bin/true", NULL, NULL);
	CHECK_INT(gh_connector_exec.apply(s, &job, &receipt), 0);
	json_decref(receipt);
	json_decref(s);
	CHECK(no_children());
}

static void test_connect_exec_apply__signal_is_an_error(void)
{
	char path[512];
	json_t *s, *receipt = NULL;

	script(path, sizeof(path), "selfkill.sh", "kill -TERM $$");
	s = command(NULL, path, NULL, NULL);
	CHECK_INT(gh_connector_exec.apply(s, &job, &receipt), GH_ERROR);
	CHECK(strstr(gh_error_last()->message, "signal 15") != NULL);
	json_decref(s);
}

static void *worker(void *arg)
{
	json_t *s = arg, *receipt = NULL;
	long failures = 0;

	for (int i = 0; i < 8; i++) {
		if (gh_connector_exec.apply(s, &job, &receipt) != 0)
			failures++;
		json_decref(receipt);
		receipt = NULL;
	}
	return (void *)failures;
}

static void test_connect_exec_apply__threads_at_once(void)
{
	char path[512];
	pthread_t t[4];
	void *failures;
	json_t *s;
	long total = 0;

	script(path, sizeof(path), "echo.sh", "cat\necho \"$GATEHOUSE_JOB_ID\" >&2");
	s = command("10s", path, NULL, NULL);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, s);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], &failures);
		total += (long)failures;
	}
	CHECK_INT(total, 0);
	CHECK(no_children());
	json_decref(s);
}

static int check_settings(const char *text)
{
	json_t *s = json_loads(text, 0, NULL);
	int rc;

	rc = cx_check("exec", s);
	json_decref(s);
	return rc;
}

static void test_connect_exec_check__fields_named(void)
{
	char many[2048];
	size_t len;

	CHECK_INT(check_settings("{\"command\":[\"/usr/local/bin/hook\",\"--grant\"]}"), 0);
	CHECK_INT(check_settings("{\"command\":[\"/x\"],\"timeout\":\"10m\"}"), 0);
	CHECK_INT(check_settings("{\"command\":[\"/x\"],\"timeout\":1}"), 0);
	CHECK_INT(check_settings("{}"), GH_EINVALID);
	CHECK(cx_names("connector_settings.command"));
	CHECK_INT(cx_check("exec", NULL), GH_EINVALID);
	CHECK(cx_names("connector_settings.command"));
	CHECK_INT(check_settings("{\"command\":[]}"), GH_EINVALID);
	CHECK(cx_names("connector_settings.command"));
	CHECK_INT(check_settings("{\"command\":\"/bin/sh -c x\"}"), GH_EINVALID);
	CHECK(cx_names("connector_settings.command"));
	CHECK_INT(check_settings("{\"command\":[\"hook\"]}"), GH_EINVALID);
	CHECK(cx_names("connector_settings.command"));
	CHECK_INT(check_settings("{\"command\":[\"/x\", 5]}"), GH_EINVALID);
	CHECK(cx_names("connector_settings.command"));
	CHECK_INT(check_settings("{\"command\":[\"/x\\u0000y\"]}"), GH_EINVALID);
	CHECK_INT(check_settings("{\"command\":[\"/x\"],\"timeout\":\"11m\"}"), GH_EINVALID);
	CHECK(cx_names("connector_settings.timeout"));
	CHECK(!cx_names("connector_settings.command"));
	CHECK_INT(check_settings("{\"command\":[\"/x\"],\"timeout\":0}"), GH_EINVALID);
	CHECK(cx_names("connector_settings.timeout"));
	CHECK_INT(check_settings("{\"command\":[\"/x\"],\"shell\":true}"), GH_EINVALID);
	CHECK(cx_names("connector_settings"));
	len = (size_t)snprintf(many, sizeof(many), "{\"command\":[\"/x\"");
	for (int i = 0; i < 64; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len, ",\"a\"");
	snprintf(many + len, sizeof(many) - len, "]}");
	CHECK_INT(check_settings(many), GH_EINVALID);
	CHECK(cx_names("connector_settings.command"));
	gh_error_clear();
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"connect_exec_apply__job_on_stdin_bare_environment",
		 test_connect_exec_apply__job_on_stdin_bare_environment},
		{"connect_exec_apply__failure_carries_first_stderr_line",
		 test_connect_exec_apply__failure_carries_first_stderr_line},
		{"connect_exec_apply__timeout_kills_the_group",
		 test_connect_exec_apply__timeout_kills_the_group},
		{"connect_exec_apply__missing_program_is_clear",
		 test_connect_exec_apply__missing_program_is_clear},
		{"connect_exec_apply__big_output_does_not_deadlock",
		 test_connect_exec_apply__big_output_does_not_deadlock},
		{"connect_exec_apply__signal_is_an_error", test_connect_exec_apply__signal_is_an_error},
		{"connect_exec_apply__threads_at_once", test_connect_exec_apply__threads_at_once},
		{"connect_exec_check__fields_named", test_connect_exec_check__fields_named},
		{NULL, NULL}};

	gh_init();
	return gh_test_run(cases, argc, argv);
}
