/* Memory of TURN over TLS per peer connection (bytes from the allocator, never time):
 * connections made through the Lua binding (core.peer_connection, as
 * lua/rtc/peer_connection.lua calls it) whose turns: servers trust the same CA share
 * one client TLS context (tls/tls_client_cache.h), so a connection with a turns: server
 * costs about what one with a turn:?transport=tcp server costs plus its TLS stream, not
 * a context and trust store of its own. Checked for a tls_ca_file and for the system's
 * store (on Debian the whole ca-certificates bundle, hundreds of KB a context); the
 * same CA in a file per connection is the case that still pays a context each. A CA
 * file rewritten on disk gets a context of its own. */
#include "rtc_test.h"
#include "test_heap.h"
#include "test_tls_pair.h"
#include "lua/lrtc.h"
#include "tls/tls_context.h"
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define N 16

static void run_lua(lua_State *L, const char *code)
{
    if (luaL_dostring(L, code) != LUA_OK) RTC_TEST_FAIL("lua: %s", lua_tostring(L, -1));
}

static lua_State *new_state(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lrtc_open_core(L);
    lua_setglobal(L, "core");
    run_lua(L, "pcs = {}\n"
               "function make(n, transport, ca)\n"
               "  for _ = 1, n do\n"
               "    local pc, err = core.peer_connection { bind_addresses = { '127.0.0.1' }, servers = {\n"
               "      { turn = true, host = '127.0.0.1', port = 9, transport = transport, server_name = 'localhost',\n"
               "        tls_ca_file = ca, username = 'u', credential = 'p' } } }\n"
               "    assert(pc, err)\n"
               "    pcs[#pcs + 1] = pc\n"
               "  end\n"
               "  collectgarbage(); collectgarbage()\n"
               "end\n"
               "function make_each(transport, cas)\n"
               "  for _, ca in ipairs(cas) do make(1, transport, ca) end\n"
               "end\n"
               "function close_all() for _, pc in ipairs(pcs) do pc:close() end pcs = {} end");
    return L;
}

static size_t make(lua_State *L, const char *transport, const char *ca)
{
    char code[512];
    snprintf(code, sizeof code, "make(%d, '%s', %s%s%s)", N, transport, ca ? "'" : "", ca ? ca : "nil", ca ? "'" : "");
    size_t before = heap_in_use();
    run_lua(L, code);
    return (heap_in_use() - before) / N;
}

static size_t context_bytes(const char *ca)
{
    rtc_tls_context *c;
    rtc_tls_context_config cc = { .role = RTC_TLS_CLIENT, .ca_file = ca };
    size_t before = heap_in_use();
    ASSERT_OK(rtc_tls_context_new(&c, &cc, NULL, 0));
    size_t n = heap_in_use() - before;
    rtc_tls_context_unref(c);
    return n;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* The CA files, removed at the end and by a failed ASSERT (abort) too: unlink and
 * rmdir are safe in a signal handler. */
static char dir[] = "/tmp/luartc-tls-mem-XXXXXX", ca[64], each[N][64];
static void files_remove(void)
{
    unlink(ca);
    for (int i = 0; i < N; i++) if (each[i][0]) unlink(each[i]);
    rmdir(dir);
}
static void on_abort(int sig)
{
    files_remove();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void test_one_context_per_ca(void)
{
    ASSERT(mkdtemp(dir) != NULL);
    signal(SIGABRT, on_abort);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    char *ca_pem, *key_pem;
    tls_make_cert(&ca_pem, &key_pem, "luartc test CA");
    write_file(ca, ca_pem);

    lua_State *L = new_state();
    make(L, "tcp", NULL);                       /* warm up: pools, the shared DTLS certificate */
    make(L, "tls", ca);
    make(L, "tls", NULL);
    size_t tcp = make(L, "tcp", NULL);
    size_t tls = make(L, "tls", ca);
    size_t sys = make(L, "tls", NULL);
    /* the same CA in N files: N configurations, a context each */
    lua_createtable(L, N, 0);
    for (int i = 0; i < N; i++) {
        snprintf(each[i], sizeof each[i], "%s/ca%d.pem", dir, i);
        write_file(each[i], ca_pem);
        lua_pushstring(L, each[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "EACH");
    size_t before = heap_in_use();
    run_lua(L, "make_each('tls', EACH)");
    size_t distinct = (heap_in_use() - before) / N;
    size_t ctx_ca = context_bytes(ca), ctx_sys = context_bytes(NULL);
    printf("per connection: turn tcp %zu B; turns: with one tls_ca_file %zu B, with the system store %zu B, "
           "each with a CA file of its own %zu B\n"
           "one client context: with the CA file %zu B, with the system store %zu B\n",
           tcp, tls, sys, distinct, ctx_ca, ctx_sys);
    fflush(stdout);
    /* A connection pays for its TLS stream, not for a context: the system store's
     * costs it what the small CA file's does, and a CA file of its own costs a context
     * more than a shared one. */
    ASSERT(sys < tls + ctx_sys / 4);
    ASSERT(distinct > tls + ctx_ca / 2);
    ASSERT(tls > tcp);

    /* A rewritten CA file (another size and time): the next connection gets a context
     * made from the new file, the ones before keep theirs. */
    write_file(ca, "\n");
    lua_pushstring(L, ca);
    lua_setglobal(L, "ARG");
    run_lua(L, "local pc, err = core.peer_connection { bind_addresses = { '127.0.0.1' }, servers = {\n"
               "  { turn = true, host = '127.0.0.1', port = 9, transport = 'tls', server_name = 'localhost',\n"
               "    tls_ca_file = ARG, username = 'u', credential = 'p' } } }\n"
               "assert(pc == nil and err:find('^OperationError: turns: '), err)" );
    write_file(ca, ca_pem);
    size_t again = make(L, "tls", ca);
    ASSERT(again < tls + ctx_ca / 2);

    run_lua(L, "close_all()");
    uv_run(lrtc_uv_loop(lrtc_state_get(L)), UV_RUN_DEFAULT);
    lua_close(L);
    files_remove();
    ASSERT(access(dir, F_OK) != 0);
    free(ca_pem);
    free(key_pem);
}

int main(void)
{
    RUN(test_one_context_per_ca);
    return 0;
}
