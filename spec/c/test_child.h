/* One command-line tool (openssl, turnserver, ...) run as a child of a C test: started
 * with its stdin and stdout+stderr on pipes (or its output discarded), killed on every
 * exit path (normal end, failed ASSERT, crash) and never outliving the test thanks to
 * PR_SET_PDEATHSIG. Also a scratch directory for the files such tools read. One child at
 * a time per test program. */
#ifndef TEST_CHILD_H
#define TEST_CHILD_H
#include "rtc_test.h"
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t test_child_pid = -1;

static inline void test_child_kill(void)
{
    if (test_child_pid > 0) {
        kill(test_child_pid, SIGKILL);
        waitpid(test_child_pid, NULL, 0);
        test_child_pid = -1;
    }
}

static inline void test_child_on_signal(int sig)
{
    if (test_child_pid > 0) kill(test_child_pid, SIGKILL);   /* async-signal-safe; then die as asked */
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Call once from main(): a failed ASSERT aborts, and exit() may skip the test's cleanup. */
static inline void test_child_guard(void)
{
    atexit(test_child_kill);
    signal(SIGABRT, test_child_on_signal);
    signal(SIGSEGV, test_child_on_signal);
    signal(SIGPIPE, SIG_IGN);            /* a dead tool must fail an ASSERT, not kill us */
}

typedef struct test_cli {
    int in_fd, out_fd;      /* its stdin (we write), its stdout+stderr (we read, non-blocking) */
    char out[65536];        /* all it said so far, NUL-terminated */
    size_t out_len;
} test_cli;

/* Start argv[0] (PATH searched). c NULL: the tool's output goes to /dev/null and it gets
 * no stdin. Otherwise c is filled in and owns two pipe ends until test_cli_close. */
static inline void test_child_spawn(test_cli *c, char *const argv[])
{
    int in[2] = { -1, -1 }, out[2] = { -1, -1 };
    if (c) {
        ASSERT_EQ(pipe(in), 0);
        ASSERT_EQ(pipe(out), 0);
    }
    ASSERT(test_child_pid <= 0);
    pid_t parent = getpid();
    test_child_pid = fork();
    ASSERT(test_child_pid >= 0);
    if (test_child_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);    /* never outlive the test */
        if (getppid() != parent) _exit(1);
        if (c) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            dup2(out[1], 2);
            close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        } else {
            int nul = open("/dev/null", O_RDWR);
            if (nul >= 0) { dup2(nul, 0); dup2(nul, 1); dup2(nul, 2); close(nul); }
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    if (!c) return;
    close(in[0]);
    close(out[1]);
    c->in_fd = in[1];
    c->out_fd = out[0];
    c->out_len = 0;
    c->out[0] = 0;
    fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
}

/* Append whatever the tool has written since the last call (never blocks). */
static inline void test_cli_read(test_cli *c)
{
    for (;;) {
        if (c->out_len + 1 >= sizeof c->out) return;
        ssize_t n = read(c->out_fd, c->out + c->out_len, sizeof c->out - 1 - c->out_len);
        if (n <= 0) return;
        c->out_len += (size_t)n;
        c->out[c->out_len] = 0;
    }
}

static inline void test_cli_close(test_cli *c)
{
    test_child_kill();
    close(c->in_fd);
    close(c->out_fd);
}

static inline void test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* dir (at least 32 bytes) becomes a fresh directory /tmp/<prefix>-XXXXXX. */
static inline void test_tmpdir_make(char *dir, size_t size, const char *prefix)
{
    snprintf(dir, size, "/tmp/%s-XXXXXX", prefix);
    ASSERT(mkdtemp(dir) != NULL);
}

static inline void test_tmpdir_remove(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

#endif
