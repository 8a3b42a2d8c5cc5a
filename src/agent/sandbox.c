/*
 * sandbox.c — the opt-in `shell` tool. The command runs under /bin/sh in a child that has:
 *   - its own network namespace (no interfaces up, so no network at all, loopback included);
 *   - its own mount namespace in which every mount is remounted read-only, plus an empty
 *     private tmpfs on /tmp as the only writable place;
 *   - its own user namespace when hearth is not root (so no privilege is needed);
 *   - RLIMIT_AS (memory), RLIMIT_CPU, RLIMIT_FSIZE, and a wall-clock timeout after which the
 *     whole process group is killed.
 * It fails closed: if any confinement step fails, the command does not run. Written directly
 * on the kernel interfaces because bubblewrap is not a dependency of hearth.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/base.h"

#define OUTPUT_MAX (64 * 1024)

static void child_fail(int fd, const char *what)
{
    char msg[256];
    int n = snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
    if (write(fd, msg, (size_t)n) < 0) _exit(127);
    _exit(127);
}

static bool write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
    close(fd);
    return ok;
}

/* Remounts every mount read-only, keeping the per-mount flags a user namespace may not drop. */
static bool remount_all_readonly(void)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f) return false;
    char line[4096];
    bool ok = true;
    while (fgets(line, sizeof line, f)) {
        char mnt[2048], opts[512];
        if (sscanf(line, "%*s %*s %*s %*s %2047s %511s", mnt, opts) != 2) continue;
        unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
        if (strstr(opts, "nosuid")) flags |= MS_NOSUID;
        if (strstr(opts, "nodev")) flags |= MS_NODEV;
        if (strstr(opts, "noexec")) flags |= MS_NOEXEC;
        if (mount(NULL, mnt, NULL, flags, NULL) != 0 && strncmp(mnt, "/proc", 5) && strncmp(mnt, "/sys", 4) &&
            strncmp(mnt, "/dev", 4))
            ok = false; /* a writable mount we cannot lock down: refuse to run */
    }
    fclose(f);
    return ok;
}

static void child(const char *command, const agent_sandbox_opts *o, int out_fd, int err_fd, int status_fd)
{
    setpgid(0, 0);
    uid_t uid = getuid();
    gid_t gid = getgid();
    int flags = CLONE_NEWNET | CLONE_NEWNS | (uid != 0 ? CLONE_NEWUSER : 0);
    if (unshare(flags) != 0) child_fail(status_fd, "sandbox: unshare");
    if (uid != 0) {
        char map[64];
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
        write_str("/proc/self/setgroups", "deny");
        if (!write_str("/proc/self/uid_map", map)) child_fail(status_fd, "sandbox: uid_map");
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
        if (!write_str("/proc/self/gid_map", map)) child_fail(status_fd, "sandbox: gid_map");
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) child_fail(status_fd, "sandbox: make private");
    if (!remount_all_readonly()) child_fail(status_fd, "sandbox: read-only remount");
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777") != 0)
        child_fail(status_fd, "sandbox: tmpfs on /tmp");
    if (chdir(o->workdir && *o->workdir ? o->workdir : "/tmp") != 0) child_fail(status_fd, "sandbox: chdir");
    struct rlimit mem = {(rlim_t)o->memory_mb << 20, (rlim_t)o->memory_mb << 20};
    rlim_t cpu_s = (rlim_t)o->timeout_s + 1;
    struct rlimit cpu = {cpu_s, cpu_s + 1}, fsize = {16 << 20, 16 << 20}, core = {0, 0};
    if (setrlimit(RLIMIT_AS, &mem) || setrlimit(RLIMIT_CPU, &cpu) || setrlimit(RLIMIT_FSIZE, &fsize) ||
        setrlimit(RLIMIT_CORE, &core))
        child_fail(status_fd, "sandbox: setrlimit");
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        child_fail(status_fd, "sandbox: stdio");
    char *const env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8", NULL};
    execle("/bin/sh", "sh", "-c", command, (char *)NULL, env);
    child_fail(status_fd, "sandbox: exec /bin/sh");
}

static void append(char *buf, size_t *len, int fd, bool *open_, bool *truncated)
{
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN)) *open_ = false;
        return;
    }
    size_t take = HEARTH_MIN((size_t)n, OUTPUT_MAX - *len);
    memcpy(buf + *len, tmp, take);
    *len += take;
    if (take < (size_t)n) *truncated = true;
}

json_t *agent_sandbox_run(const char *command, const agent_sandbox_opts *o)
{
    int out[2], err[2], status[2];
    if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) return json_pack("{s:b,s:s}", "ok", 0, "error", "shell: pipe failed");
    if (pipe2(status, O_CLOEXEC)) {
        close(out[0]); close(out[1]); close(err[0]); close(err[1]);
        return json_pack("{s:b,s:s}", "ok", 0, "error", "shell: pipe failed");
    }
    double start = hearth_time_sec();
    pid_t pid = fork();
    if (pid == 0) child(command, o, out[1], err[1], status[1]);
    close(out[1]); close(err[1]); close(status[1]);
    if (pid < 0) {
        close(out[0]); close(err[0]); close(status[0]);
        return json_pack("{s:b,s:s}", "ok", 0, "error", "shell: fork failed");
    }
    char *obuf = malloc(OUTPUT_MAX + 1), *ebuf = malloc(OUTPUT_MAX + 1);
    size_t olen = 0, elen = 0;
    bool o_open = true, e_open = true, truncated = false, timed_out = false;
    while ((o_open || e_open) && obuf && ebuf) {
        double left = o->timeout_s - (hearth_time_sec() - start);
        if (left <= 0) {
            timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd p[2] = {{o_open ? out[0] : -1, POLLIN, 0}, {e_open ? err[0] : -1, POLLIN, 0}};
        int r = poll(p, 2, (int)(left * 1000) + 1);
        if (r < 0 && errno != EINTR) break;
        if (p[0].revents) append(obuf, &olen, out[0], &o_open, &truncated);
        if (p[1].revents) append(ebuf, &elen, err[0], &e_open, &truncated);
    }
    int wstatus = 0;
    if (!timed_out) {
        /* Output closed; the shell may still linger (a backgrounded child): bound the wait too. */
        while (waitpid(pid, &wstatus, WNOHANG) == 0) {
            if (hearth_time_sec() - start > o->timeout_s) {
                timed_out = true;
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                waitpid(pid, &wstatus, 0);
                break;
            }
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
    } else {
        waitpid(pid, &wstatus, 0);
    }
    kill(-pid, SIGKILL); /* anything the command left behind in its group */
    char setup[256] = {0};
    ssize_t sn = read(status[0], setup, sizeof setup - 1);
    close(out[0]); close(err[0]); close(status[0]);
    json_t *res;
    if (!obuf || !ebuf) {
        res = json_pack("{s:b,s:s}", "ok", 0, "error", "shell: out of memory");
    } else if (sn > 0) {
        res = json_pack("{s:b,s:s}", "ok", 0, "error", setup);
    } else if (timed_out) {
        char msg[96];
        snprintf(msg, sizeof msg, "shell: timed out after %.1f s (killed)", o->timeout_s);
        res = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
    } else {
        obuf[olen] = ebuf[elen] = 0;
        int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
        json_t *so = json_stringn(obuf, olen), *se = json_stringn(ebuf, elen);
        res = json_pack("{s:b, s:{s:i, s:o, s:o}}", "ok", code == 0, "output", "exit_code", code, "stdout",
                        so ? so : json_string("(binary output)"), "stderr", se ? se : json_string("(binary output)"));
        if (code != 0) {
            char msg[64];
            snprintf(msg, sizeof msg, "shell: exit status %d", code);
            json_object_set_new(res, "error", json_string(msg));
        }
        if (truncated) json_object_set_new(res, "truncated", json_true());
    }
    free(obuf);
    free(ebuf);
    return res;
}
