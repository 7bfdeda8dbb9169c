# SPDX-License-Identifier: MIT
"""A one-shot TCP listener on 127.0.0.1 for the guest network test.

Binds an ephemeral port, writes the port number to PORTFILE, accepts one
connection, records the first line it receives in GOTFILE and answers with
REPLY.  Gives up after DEADLINE seconds, so a guest that never connects cannot
keep it alive.  Usage: python3 listener.py PORTFILE GOTFILE REPLY DEADLINE
"""
import socket
import sys


def main():
    portfile, gotfile, reply, deadline = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(deadline)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    # Renamed into place so the reader never sees a half-written number.
    import os

    os.rename(portfile + ".tmp", portfile)
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        return 1
    conn.settimeout(10)
    data = b""
    try:
        while b"\n" not in data:
            chunk = conn.recv(256)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    with open(gotfile, "wb") as f:
        f.write(data.split(b"\n")[0])
    conn.sendall(reply.encode() + b"\n")
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
