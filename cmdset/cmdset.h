/* SPDX-License-Identifier: MIT */
/*
 * cmdset: the wire formats shared by the device model and the host driver.
 * Including this header gives every format; components may include the
 * individual headers instead.  Depends on libc only.
 */
#ifndef KVC_CMDSET_H
#define KVC_CMDSET_H

#include "le.h"
#include "queue.h"
#include "regs.h"
#include "status.h"
#include "admin.h"
#include "nvm.h"
#include "kv.h"
#include "bandslim.h"
#include "bexp.h"
#include "tcp.h"
#include "opcode.h"
#include "stats.h"
#include "shm.h"
#include "pcie.h"
#include "sgl.h"

#endif /* KVC_CMDSET_H */
