/* SPDX-License-Identifier: MIT */
/*
 * NVMe status codes: status code types and the codes this project produces or
 * recognises (NVMe Base Specification 2.0, "Status Field Definition"; KV
 * Command Set Specification 1.0, "Command Specific Status Values").
 * Statuses use the layout of queue.h (SC 7:0, SCT 10:8, DNR bit 14).
 */
#ifndef KVC_STATUS_H
#define KVC_STATUS_H

#include <stdint.h>
#include "queue.h"

enum kvc_sct {
	KVC_SCT_GENERIC = 0,
	KVC_SCT_CMD_SPECIFIC = 1,
	KVC_SCT_MEDIA = 2,
	KVC_SCT_PATH = 3,
	KVC_SCT_VENDOR = 7,
};

/* Generic command status (SCT 0). */
enum kvc_sc_generic {
	KVC_SC_SUCCESS = 0x00,
	KVC_SC_INVALID_OPCODE = 0x01,
	KVC_SC_INVALID_FIELD = 0x02,
	KVC_SC_CID_CONFLICT = 0x03,
	KVC_SC_DATA_XFER_ERROR = 0x04,
	KVC_SC_ABORTED_POWER_LOSS = 0x05,
	KVC_SC_INTERNAL = 0x06,
	KVC_SC_ABORT_REQUESTED = 0x07,
	KVC_SC_ABORTED_SQ_DELETION = 0x08,
	KVC_SC_ABORTED_FAILED_FUSED = 0x09,
	KVC_SC_ABORTED_MISSING_FUSED = 0x0a,
	KVC_SC_INVALID_NS = 0x0b,
	KVC_SC_CMD_SEQ_ERROR = 0x0c,
	KVC_SC_INVALID_SGL_SEG = 0x0d,
	KVC_SC_INVALID_NUM_SGL = 0x0e,
	KVC_SC_DATA_SGL_LEN = 0x0f,
	KVC_SC_MD_SGL_LEN = 0x10,
	KVC_SC_SGL_DESC_TYPE = 0x11,
	KVC_SC_INVALID_CMB_USE = 0x12,
	KVC_SC_INVALID_PRP_OFFSET = 0x13,
	KVC_SC_ATOMIC_WU_EXCEEDED = 0x14,
	KVC_SC_OPERATION_DENIED = 0x15,
	KVC_SC_INVALID_SGL_OFFSET = 0x16,
	KVC_SC_HOSTID_INCONSISTENT = 0x18,
	KVC_SC_KA_EXPIRED = 0x19,
	KVC_SC_KA_INVALID = 0x1a,
	KVC_SC_ABORTED_PREEMPT = 0x1b,
	KVC_SC_SANITIZE_FAILED = 0x1c,
	KVC_SC_SANITIZE_IN_PROGRESS = 0x1d,
	KVC_SC_NS_WRITE_PROTECTED = 0x20,
	KVC_SC_CMD_INTERRUPTED = 0x21,
	KVC_SC_TRANSIENT_TRANSPORT = 0x22,
	KVC_SC_INVALID_IOCS = 0x2c, /* Invalid I/O Command Set */

	/* NVM command set specific generic codes (80h-84h). */
	KVC_SC_LBA_OUT_OF_RANGE = 0x80,
	KVC_SC_CAPACITY_EXCEEDED = 0x81,
	KVC_SC_NS_NOT_READY = 0x82,
	KVC_SC_RESERVATION_CONFLICT = 0x83,
	KVC_SC_FORMAT_IN_PROGRESS = 0x84,

	/* Key Value command set generic codes (85h-89h). */
	KVC_SC_KV_INVALID_VALUE_SIZE = 0x85,
	KVC_SC_KV_INVALID_KEY_SIZE = 0x86,
	KVC_SC_KV_KEY_NOT_EXIST = 0x87,
	KVC_SC_KV_UNRECOVERED = 0x88,
	KVC_SC_KV_KEY_EXISTS = 0x89,
};

/* Command specific status (SCT 1), admin commands. */
enum kvc_sc_cmd {
	KVC_SC_CQ_INVALID = 0x00,
	KVC_SC_INVALID_QID = 0x01,
	KVC_SC_INVALID_QSIZE = 0x02,
	KVC_SC_ABORT_LIMIT = 0x03,
	KVC_SC_AER_LIMIT = 0x05,
	KVC_SC_INVALID_INT_VECTOR = 0x08,
	KVC_SC_INVALID_LOG_PAGE = 0x09,
	KVC_SC_INVALID_FORMAT = 0x0a, /* Format NVM: the format is not supported */
	KVC_SC_INVALID_QUEUE_DELETION = 0x0c,
	KVC_SC_FEATURE_NOT_SAVEABLE = 0x0d,
	KVC_SC_FEATURE_NOT_CHANGEABLE = 0x0e,
	KVC_SC_FEATURE_NOT_NS_SPECIFIC = 0x0f,
};

/* Media and data integrity errors (SCT 2). */
enum kvc_sc_media {
	KVC_SC_WRITE_FAULT = 0x80,
	KVC_SC_UNRECOVERED_READ = 0x81,
};

/* Convenience: generic and command-specific statuses, with and without DNR. */
#define KVC_ST_GENERIC(sc) KVC_STATUS(KVC_SCT_GENERIC, (sc))
#define KVC_ST_GENERIC_DNR(sc) ((uint16_t)(KVC_STATUS(KVC_SCT_GENERIC, (sc)) | KVC_STATUS_DNR))
#define KVC_ST_CMD_DNR(sc) ((uint16_t)(KVC_STATUS(KVC_SCT_CMD_SPECIFIC, (sc)) | KVC_STATUS_DNR))
#define KVC_ST_MEDIA_DNR(sc) ((uint16_t)(KVC_STATUS(KVC_SCT_MEDIA, (sc)) | KVC_STATUS_DNR))

/**
 * kvc_status_str() - human name of a status.
 * @status: a status in the queue.h layout; CRD, M and DNR bits are ignored.
 *
 * Return: a static upper-case string such as "KEY DOES NOT EXIST"; for codes
 * this table does not know, "UNKNOWN STATUS".  Never NULL.
 */
const char *kvc_status_str(uint16_t status);

#endif /* KVC_STATUS_H */
