/* The `luartc` executable: a Lua 5.4 interpreter whose script runs as a task (a
 * coroutine) on the libuv loop of rtc.core. Usage:
 *   luartc script.lua [args...]    run a file; args in the global `arg` as lua.c does
 *   luartc - [args...]             read the script from stdin
 *   luartc -e 'code' [script ...]  run code first (as its own main task)
 *   luartc --workers N script.lua [args...]  run the script in N workers (docs/workers.md)
 *   luartc --version | -v, --help | -h
 * Exit status: 0, or 1 when loading fails or the main task raises (traceback on
 * stderr); os.exit(n) works as in lua. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lua/lrtc.h"

#ifndef RTC_VERSION
#define RTC_VERSION "0.0.0"
#endif

static const char *progname = "luartc";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s [options] [script [args...]]\n"
            "  -e code     run 'code' as a task\n"
            "  -           read the script from stdin\n"
            "  --workers N run the script in N worker threads (0: one per core)\n"
            "  -v, --version\n"
            "  -h, --help\n"
            "environment: LUARTC_PATH (extra Lua module directories, ':'-separated), RTC_LOG (log filter),\n"
            "             RTC_LOG_FORMAT (text or json), RTC_CAPTURE_DIR (pcapng per connection),\n"
            "             SSLKEYLOGFILE (DTLS keys)\n",
            progname);
}

static int report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "%s: %s\n", progname, msg ? msg : "(error object is not a string)");
        fflush(stderr);
        lua_pop(L, 1);
    }
    return status;
}

static int open_core(lua_State *L) { return lrtc_open_core(L); }

/* arg table as lua.c builds it: arg[0] = script, negatives = interpreter and options. */
static void create_arg(lua_State *L, char **argv, int argc, int script)
{
    lua_createtable(L, argc - script - 1 > 0 ? argc - script - 1 : 0, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* Runs the chunk on top of the stack as the main task via rtc._main; args follow. */
static int run_main(lua_State *L, int nargs)
{
    int fn = lua_gettop(L) - nargs;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "rtc");
    int st = lua_pcall(L, 1, 1, 0);
    if (st != LUA_OK) return report(L, st);
    lua_getfield(L, -1, "_main");
    lua_remove(L, -2);
    lua_insert(L, fn);                 /* _main, chunk, args */
    st = lua_pcall(L, nargs + 1, 2, 0);
    if (st != LUA_OK) return report(L, st);
    if (!lua_toboolean(L, -2)) {
        lua_remove(L, -2);
        return report(L, LUA_ERRRUN);
    }
    lua_pop(L, 2);
    return LUA_OK;
}

struct pmain { int argc; char **argv; int status; };

static int pmain(lua_State *L)
{
    struct pmain *pm = lua_touserdata(L, 1);
    int argc = pm->argc;
    char **argv = pm->argv;
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, open_core);
    lua_setfield(L, -2, "rtc.core");
    lua_pop(L, 1);
    lrtc_set_package_path(L);

    int i = 1, ran = 0;
    const char *workers = NULL;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
            printf("luartc %s (%s, libuv %s)\n", RTC_VERSION, LUA_RELEASE, uv_version_string());
            return 0;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-e") == 0) {
            if (i + 1 >= argc) { fprintf(stderr, "%s: '-e' needs an argument\n", progname); pm->status = 1; return 0; }
            create_arg(L, argv, argc, argc);   /* no script yet: arg[0] unset, as lua.c */
            int st = luaL_loadbuffer(L, argv[i + 1], strlen(argv[i + 1]), "=(command line)");
            if (st == LUA_OK) st = run_main(L, 0);
            else report(L, st);
            if (st != LUA_OK) { pm->status = 1; return 0; }
            ran = 1;
            i++;
        } else if (strcmp(a, "--workers") == 0) {
            if (i + 1 >= argc) { fprintf(stderr, "%s: '--workers' needs a number\n", progname); pm->status = 1; return 0; }
            workers = argv[++i];
        } else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (a[0] == '-' && a[1] != 0) {
            fprintf(stderr, "%s: unrecognized option '%s'\n", progname, a);
            usage(stderr);
            pm->status = 1;
            return 0;
        } else {
            break;
        }
    }
    if (i >= argc) {
        if (!ran) { usage(stderr); pm->status = 1; }
        return 0;
    }
    create_arg(L, argv, argc, i);
    const char *script = argv[i];
    if (workers) {
        /* This state only watches: each worker loads the script itself. */
        static const char sup[] =
            "local n, script = ...\n"
            "local rtc = require 'rtc'\n"
            "if tonumber(n) == 0 then n = rtc.worker.cores end\n"
            "return rtc.worker._supervise(n, script, select(3, ...))\n";
        int st = luaL_loadbuffer(L, sup, sizeof sup - 1, "=(--workers)");
        if (st != LUA_OK) { report(L, st); pm->status = 1; return 0; }
        int nargs = argc - i + 1;
        luaL_checkstack(L, nargs + 4, "too many arguments to script");
        lua_pushstring(L, workers);
        for (int k = i; k < argc; k++) lua_pushstring(L, argv[k]);
        if (run_main(L, nargs) != LUA_OK) pm->status = 1;
        return 0;
    }
    int st = luaL_loadfilex(L, strcmp(script, "-") == 0 ? NULL : script, "t");
    if (st != LUA_OK) { report(L, st); pm->status = 1; return 0; }
    int nargs = argc - i - 1;
    luaL_checkstack(L, nargs + 4, "too many arguments to script");
    for (int k = i + 1; k < argc; k++) lua_pushstring(L, argv[k]);
    if (run_main(L, nargs) != LUA_OK) pm->status = 1;
    return 0;
}

/* A closed standard descriptor would be reused by the first file we open (the
 * loop's epoll fd could become "stdin"): point it at /dev/null instead. */
static void guard_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (n >= 0 && n != fd) { dup2(n, fd); close(n); }
    }
}

int main(int argc, char **argv)
{
    guard_std_fds();
    lua_State *L = luaL_newstate();
    if (!L) { fprintf(stderr, "%s: cannot create Lua state: not enough memory\n", progname); return 1; }
    struct pmain pm = { argc, argv, 0 };
    lua_pushcfunction(L, pmain);
    lua_pushlightuserdata(L, &pm);
    int st = lua_pcall(L, 1, 0, 0);
    if (st != LUA_OK) { report(L, st); pm.status = 1; }
    fflush(stdout);
    lua_close(L);
    return pm.status;
}
