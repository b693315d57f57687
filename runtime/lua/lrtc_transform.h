/* Frame transform objects for Lua (rtc.transforms.xor / aes_gcm): userdata over a
 * refcounted rtc_frame_crypto (pc/pc_transform.h), installed on a transceiver from
 * lrtc_pc.c. The pc holds its own refs, so a transform collected by Lua keeps working
 * on the streams it was given to. */
#ifndef LRTC_TRANSFORM_H
#define LRTC_TRANSFORM_H
#include "lua/lrtc.h"
#include "pc/peer_connection.h"

/* Registers core.frame_transform_xor(key) and core.frame_transform_aes_gcm(key[, salt])
 * into the table on top of the stack. */
void lrtc__open_transform(lua_State *L);
/* Installs the transform object at stack index idx (nil clears) on transceiver `tr` for
 * `dirs` (RTC_PC_SEND / RTC_PC_RECV). Raises on a wrong argument type; returns 0 or a
 * negative RTC_E*. */
int lrtc_transform_install(lua_State *L, rtc_pc *pc, int tr, int dirs, int idx);

#endif
