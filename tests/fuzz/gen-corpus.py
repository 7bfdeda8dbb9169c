#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

A handful of meaningful inputs per target, in each harness's input format
(see the comment at the top of tests/fuzz/fuzz_<target>.c): a few KV commands,
BandSlim and ByteExpress sequences, queue changes and a reset for the firmware;
one well-formed example per cmdset decoder; small RocksDB traces; catalog edits.
Deterministic: running it again rewrites the same files.

    tests/fuzz/gen-corpus.py [OUTDIR]     (default: tests/fuzz/corpus)
"""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))


def le16(v):
    return struct.pack("<H", v & 0xFFFF)


def le32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def le64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


# ---- fuzz_fwcmd: conf byte, then operations (opcode % 15) ------------------
RAW_IO, RAW_ADMIN, KV, BS, BX, RING_IO, RING_ADMIN, POLL, ADMIN, QUEUE, DB_RAW, CC_RAW, RESET, BURST = (
    0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)
# op_kv opcode index (f % 6): store, retrieve, list, delete, exist, flush
K_STORE, K_RETRIEVE, K_LIST, K_DELETE, K_EXIST, K_FLUSH = range(6)


def kv(kind, sel, length=100, page=0, q=0):
    return bytes([KV, kind, sel, page, q]) + le16(length)


def bandslim(sel, size, tag=7, prp=False, narrow=False, q=0):
    f = (1 if prp else 0) | (2 if narrow else 0)
    return bytes([BS, f, sel, q]) + le16(tag) + le16(size)


def bexp(sel, size, q=0, ring=True, seed=0):
    f = 2 if ring else 0
    chunks = (size + 63) // 64
    data = bytes((seed + i * 11) & 0xFF for i in range(64 * chunks))
    return bytes([BX, f, sel, q]) + le16(size) + data


def poll(n=4):
    return bytes([POLL, n])


def ring(q=0):
    return bytes([RING_IO, q])


def admin(opc_idx, dw10=0, dw11=0):
    return bytes([ADMIN, opc_idx]) + le32(dw10) + le32(dw11)


def burst(n, sel, length, q=0):
    return bytes([BURST, n - 1, sel]) + le16(length - 1024) + bytes([q])


def queue_create(qid, size):
    return bytes([QUEUE, qid - 1, 0, size - 2])


def queue_delete(qid):
    return bytes([QUEUE, qid - 1, 1])


def fwcmd_corpus():
    c = {}
    c["store-retrieve"] = bytes([0]) + kv(K_STORE, 0x13, 100) + ring() + poll() + \
        kv(K_RETRIEVE, 0x13, 4096, page=4) + kv(K_EXIST, 0x13, 0) + kv(K_LIST, 0, 512, page=8) + \
        ring() + poll()
    c["overwrite-delete"] = bytes([1]) + b"".join(
        kv(K_STORE, s, 3000 + s * 13, page=s) + ring(1) + poll(2) for s in range(0, 48, 3)) + \
        kv(K_DELETE, 3) + kv(K_FLUSH, 0) + ring() + poll()
    c["bandslim"] = bytes([2]) + bandslim(0x25, 30) + bandslim(0x26, 300, tag=9) + \
        bandslim(0x27, 100, narrow=True) + ring() + poll() + \
        bandslim(0x28, 4200, prp=True, tag=3) + ring() + poll() + kv(K_RETRIEVE, 0x26, 400) + \
        ring() + poll()
    c["bandslim-cut"] = bytes([0]) + bytes([BS, 8, 0x31, 0]) + le16(5) + le16(500) + bytes([2]) + \
        bandslim(0x32, 60) + ring() + poll()
    c["byteexpress"] = bytes([4]) + bexp(0x41, 200) + bexp(0x42, 64, seed=3) + bexp(0x43, 1) + \
        poll() + kv(K_RETRIEVE, 0x41, 256) + ring() + poll()
    c["queues-reset"] = bytes([8]) + queue_create(3, 8) + queue_delete(1) + \
        kv(K_STORE, 0x51, 50, q=2) + ring(2) + poll() + bytes([RESET]) + \
        kv(K_STORE, 0x52, 50) + ring() + poll() + queue_create(4, 2)
    c["gc"] = bytes([0]) + b"".join(burst(20, 0, 6000) + burst(2, 40 + 2 * k, 3000) for k in range(10)) + \
        kv(K_RETRIEVE, 5, 8192) + ring() + poll()
    c["admin"] = bytes([0]) + admin(0, 0x01) + admin(0, (1 << 24) | 0x05, 1 << 24) + \
        admin(1, 0x00FF0002) + admin(1, 0x00FF00C0) + admin(3, 0x07) + admin(4) + admin(5) + \
        bytes([RING_ADMIN]) + poll()
    return c


# ---- fuzz_cmdset: selector byte (% 6), then the decoder's input --------------
def cmdset_corpus():
    c = {}
    entries = b""
    for k in (b"a", b"key1", b"0123456789abcdef"):
        e = le16(len(k)) + k
        entries += e + bytes((-len(e)) % 4)
    c["list"] = bytes([0]) + le32(3) + entries
    sqe = bytearray(64)
    sqe[0] = 0x01
    sqe[2:4] = le16(7)
    sqe[4:8] = le32(1)
    sqe[8:16] = b"keykeyke"
    sqe[24:32] = le64(0x1000)
    sqe[40:44] = le32(100)
    sqe[44] = 12
    sqe[56:60] = b"ykey"
    c["kv-store"] = bytes([1]) + bytes(sqe)
    head = bytearray(sqe)
    head[0] = 0xC0
    head[46:48] = le16(5)
    c["bandslim"] = bytes([2]) + le32(200) + bytes(head) + bytes([0, 9, 0]) + le32(5) + le32(300) + \
        b"bandslimkey"
    c["bandslim-prp-narrow"] = bytes([2]) + le32(64) + bytes(head) + bytes([1, 4, 0x80]) + le32(1) + \
        le32(4200) + b"k"
    c["bexp"] = bytes([3]) + le32(130) + bytes([0xC8, 0, 0, 0]) + bytes(range(60))
    vs = bytearray(64)
    vs[0:4] = b"NVKV"
    vs[4:6] = le16(1)
    vs[6], vs[7] = 3, 4
    vs[8:10] = le16(256)
    vs[10:12] = le16(512)
    vs[12:14] = le16(64)
    c["identify"] = bytes([4]) + bytes(vs) + bytes(128) + le32(0) + le32(0x1000) + le32(4096)
    c["stats"] = bytes([5]) + bytes(range(256)) * 4
    return c


# ---- fuzz_trace: whole RocksDB trace files (format 0.2) -----------------------
def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def slice_(b):
    return varint(len(b)) + b


def record(ts, typ, payload):
    return le64(ts) + bytes([typ]) + le32(len(payload)) + payload


def trace_header():
    return record(0, 1, b"feedcafedeadbeef\tTrace Version: 0.2\tRocksDB Version: 7.8\t")


def write_batch(ops):
    body = b""
    for op in ops:
        body += op
    return le64(1) + le32(len(ops)) + body


def trace_corpus():
    c = {}
    wb = write_batch([b"\x01" + slice_(b"k1") + slice_(b"v1"),
                      b"\x00" + slice_(b"k2"),
                      b"\x05" + varint(1) + slice_(b"k3") + slice_(b"val3"),
                      b"\x02" + slice_(b"k4") + slice_(b"m"),
                      b"\x03" + slice_(b"log")])
    t = trace_header()
    t += record(10, 3, le64(1 << 1) + slice_(wb))
    t += record(11, 4, le64(0x0C) + le32(0) + slice_(b"k1"))
    t += record(12, 5, le64(0x30) + le32(0) + slice_(b"k0"))
    t += record(13, 13, le64(0x700) + le32(2) + slice_(le32(0) + le32(0)) +
                slice_(slice_(b"k1") + slice_(b"k2")))
    t += record(14, 2, b"")
    c["mixed"] = t
    c["cut-at-boundary"] = trace_header() + record(5, 4, le64(0x0C) + le32(0) + slice_(b"abc"))
    real = os.path.join(ROOT, "..", "data", "db_bench-7.8.3-readrandom.trace")
    if os.path.exists(real):
        data = open(real, "rb").read()
        off, n = 0, 0
        while off + 13 <= len(data) and n < 40:  # the header and the first records
            off += 13 + struct.unpack_from("<I", data, off + 9)[0]
            n += 1
        c["db_bench-head"] = data[:off]
    return c


# ---- fuzz_catalog: edits (opcode % 7) on the harness's base store --------------
def catalog_corpus():
    return {
        "pristine": b"",
        "blob-flip": bytes([0]) + le16(40) + bytes([0x10]),
        "blob-next": bytes([1]) + le16(56) + bytes([0xFF] * 8),
        "record-flip": bytes([2, 3, 1, 0x80]),
        "record-loc": bytes([3, 5, 0]) + le32(0x7FFFFFF0),
        "new-record": bytes([4]) + le16(4000) + bytes([5]) + b"zzzzz" + bytes(11) + le64(64) +
        le32(10) + le32(0),
        "klen": bytes([5, 2, 17]),
        "no-blob": bytes([6, 0]),
    }


def tcp_pdu(typ, hdr_rest, data=b"", flags=0):
    """An NVMe/TCP PDU without digests: common header + rest + data."""
    hlen = 8 + len(hdr_rest)
    pdo = hlen if data else 0
    return bytes([typ, flags, hlen, pdo]) + le32(hlen + len(data)) + hdr_rest + data


def tcp_kv_sqe(opc, key, size, cid, sgl_type, sgl_len):
    sqe = bytearray(64)
    sqe[0] = opc
    sqe[1] = 0x40  # PSDT: SGL
    sqe[2:4] = le16(cid)
    sqe[4:8] = le32(1)  # NSID
    sqe[8:8 + min(len(key), 8)] = key[:8]
    sqe[24:32] = le64(0)
    sqe[32:36] = le32(sgl_len)
    sqe[39] = sgl_type
    sqe[40:44] = le32(size)
    sqe[44] = len(key)
    return bytes(sqe)


def tcp_rec(conn, data):
    return bytes([conn]) + le16(len(data)) + data


def tcp_corpus():
    """fuzz_tcp: byte 0 flags (1: prelude, 2: digests), then records."""
    icreq = tcp_pdu(0, le16(0) + bytes([0, 0]) + le32(0) + bytes(112))
    store_icd = tcp_pdu(4, tcp_kv_sqe(0x01, b"key", 64, 9, 0x01, 64), bytes(range(64)))
    store_r2t = tcp_pdu(4, tcp_kv_sqe(0x01, b"big", 6000, 10, 0x5a, 6000))
    h2c = tcp_pdu(6, le16(10) + le16(0) + le32(0) + le32(4096) + bytes(4), bytes(4096))
    h2c_last = tcp_pdu(6, le16(10) + le16(0) + le32(4096) + le32(1904) + bytes(4), bytes(1904),
                       flags=4)
    retrieve = tcp_pdu(4, tcp_kv_sqe(0x02, b"key", 4096, 11, 0x5a, 4096))
    term = tcp_pdu(2, le16(1) + le32(0) + bytes(10))
    csqe = bytearray(64)
    csqe[0], csqe[1], csqe[2], csqe[4] = 0x7F, 0x40, 1, 0x01  # Fabrics Connect
    csqe[32:36] = le32(1024)
    csqe[39] = 0x01  # in-capsule (offset) data block
    csqe[44:46] = le16(31)
    cdata = bytearray(1024)
    cdata[16:18] = le16(0xFFFF)
    nqn = b"nqn.2014-08.org.nvmexpress.discovery"
    cdata[256:256 + len(nqn)] = nqn
    disc_connect = tcp_pdu(4, bytes(csqe), bytes(cdata))
    ident = bytearray(64)
    ident[0], ident[1], ident[2] = 0x06, 0x40, 2
    ident[32:36] = le32(4096)
    ident[39] = 0x5A
    ident[40] = 1
    cc_en = bytearray(64)
    cc_en[0], cc_en[2], cc_en[4] = 0x7F, 3, 0x00
    cc_en[44:48] = le32(0x14)
    cc_en[48:52] = le32(1)
    return {
        "icreq-only": b"\x00" + tcp_rec(0, icreq),
        "store-capsule": b"\x01" + tcp_rec(1, store_icd) + tcp_rec(3, b""),
        "store-r2t": b"\x01" + tcp_rec(1, store_r2t) + tcp_rec(3, b"") + tcp_rec(1, h2c) +
                     tcp_rec(1, h2c_last) + tcp_rec(1, retrieve),
        "retrieve": b"\x01" + tcp_rec(1, store_icd) + tcp_rec(1, retrieve),
        "term": b"\x01" + tcp_rec(1, term),
        "digests": b"\x03" + tcp_rec(3, b""),
        "discovery": b"\x00" + tcp_rec(2, icreq + disc_connect + tcp_pdu(4, bytes(cc_en)) +
                                      tcp_pdu(4, bytes(ident))),
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "corpus")
    for target, corpus in (("fwcmd", fwcmd_corpus()), ("cmdset", cmdset_corpus()),
                           ("trace", trace_corpus()), ("catalog", catalog_corpus()),
                           ("tcp", tcp_corpus())):
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name, data in corpus.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
