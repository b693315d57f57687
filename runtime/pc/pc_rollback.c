/* Rolling back a pending offer (JSEP 4.1.8.2, W3C "set the session description" with
 * type rollback): the state the offer changed goes back to what it was in the last
 * stable state. Applying an offer, or creating one, changes the section list, the
 * transceivers' mids, the data section, mid numbering and, for a remote offer, the
 * remote ICE credentials and candidates, the fingerprint and ICE lite; a remote offer
 * also creates transceivers. All of that is kept here from the first change outside
 * stable, so a rollback restores it exactly. The descriptions themselves are restored
 * by pc_jsep.c (prev_local / prev_remote). */
#include "pc/pc_internal.h"
#include <stdlib.h>
#include <string.h>

void pc__msecs_free(pc_msec *v, int n)
{
    for (int i = 0; i < n; i++) {
        free(v[i].media);
        free(v[i].proto);
        free(v[i].fmt);
    }
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

void pc__saved_take(rtc_pc *pc)
{
    pc_saved *v = &pc->saved;
    if (v->valid) return;
    memset(v, 0, sizeof *v);
    if (pc->nmsecs > 0) {
        v->msecs = malloc((size_t)pc->nmsecs * sizeof *v->msecs);
        if (!v->msecs) return;   /* out of memory: a rollback then keeps what it can */
        for (int i = 0; i < pc->nmsecs; i++) {
            v->msecs[i] = pc->msecs[i];
            v->msecs[i].media = dup_or_null(pc->msecs[i].media);
            v->msecs[i].proto = dup_or_null(pc->msecs[i].proto);
            v->msecs[i].fmt = dup_or_null(pc->msecs[i].fmt);
        }
    }
    v->nmsecs = pc->nmsecs;
    v->data_msec = pc->data_msec;
    v->next_mid = pc->next_mid;
    memcpy(v->rfp_algo, pc->rfp_algo, sizeof v->rfp_algo);
    memcpy(v->rfp, pc->rfp, sizeof v->rfp);
    if (pc->nrfps > 0) {
        v->rfps = malloc((size_t)pc->nrfps * sizeof *v->rfps);
        if (v->rfps) memcpy(v->rfps, pc->rfps, (size_t)pc->nrfps * sizeof *v->rfps);
        v->nrfps = v->rfps ? pc->nrfps : -1;   /* -1: out of memory, a rollback keeps the list */
    }
    v->remote_lite = pc->remote_lite;
    v->restart_pending = pc->restart_pending;
    v->role_set = pc->ice_role_set;
    memcpy(v->ufrag, pc->ufrag, sizeof v->ufrag);
    memcpy(v->pwd, pc->pwd, sizeof v->pwd);
    pc__media_save(pc);
    v->valid = true;
}

void pc__saved_take_remote(rtc_pc *pc)
{
    pc_saved *v = &pc->saved;
    if (!v->valid || v->remote_taken) return;
    v->remote_ufrag = dup_or_null(pc->remote_ufrag);
    v->remote_pwd = dup_or_null(pc->remote_pwd);
    /* The list itself moves here; the offer starts a new one. */
    v->rcands = pc->rcands;
    v->nrcands = pc->nrcands;
    v->caprcands = pc->caprcands;
    pc->rcands = NULL;
    pc->nrcands = pc->caprcands = 0;
    v->remote_taken = true;
}

void pc__saved_restore(rtc_pc *pc, bool remote)
{
    pc_saved *v = &pc->saved;
    if (!v->valid) return;
    /* The section table only grows, so it has room for the saved copy. */
    pc__msecs_free(pc->msecs, pc->nmsecs);
    if (v->nmsecs > 0) memcpy(pc->msecs, v->msecs, (size_t)v->nmsecs * sizeof *v->msecs);
    free(v->msecs);
    v->msecs = NULL;
    pc->nmsecs = v->nmsecs;
    pc->data_msec = v->data_msec;
    pc->next_mid = v->next_mid;
    memcpy(pc->rfp_algo, v->rfp_algo, sizeof v->rfp_algo);
    memcpy(pc->rfp, v->rfp, sizeof v->rfp);
    if (v->nrfps >= 0) {
        free(pc->rfps);
        pc->rfps = v->rfps;
        pc->nrfps = v->nrfps;
        v->rfps = NULL;
    }
    pc->remote_lite = v->remote_lite;
    pc->restart_pending = v->restart_pending;
    pc->ice_role_set = v->role_set;
    memcpy(pc->ufrag, v->ufrag, sizeof v->ufrag);
    memcpy(pc->pwd, v->pwd, sizeof v->pwd);
    if (v->remote_taken) {
        /* The agent never saw other credentials: a restarting offer defers them to our
         * answer, any other offer repeats the ones it has. Its candidates of the same
         * generation stay with it (addresses the peer really has). */
        free(pc->remote_ufrag);
        free(pc->remote_pwd);
        pc->remote_ufrag = v->remote_ufrag;
        pc->remote_pwd = v->remote_pwd;
        pc__cands_clear(pc->rcands, &pc->nrcands);
        free(pc->rcands);
        pc->rcands = v->rcands;
        pc->nrcands = v->nrcands;
        pc->caprcands = v->caprcands;
    }
    pc__media_restore(pc, remote);
    memset(v, 0, sizeof *v);
}

void pc__saved_forget(rtc_pc *pc)
{
    pc_saved *v = &pc->saved;
    if (!v->valid) return;
    if (v->msecs) pc__msecs_free(v->msecs, v->nmsecs);
    free(v->msecs);
    free(v->rfps);
    free(v->remote_ufrag);
    free(v->remote_pwd);
    pc__cands_clear(v->rcands, &v->nrcands);
    free(v->rcands);
    memset(v, 0, sizeof *v);
}
