#!/usr/bin/env python3
"""A private syslog receiver for the tests: binds a Unix datagram socket and appends each
message as one line to a file, after the pid of the process that sent it and a space. The pid
is the kernel's (SCM_CREDENTIALS), not the message's own header, so the suites that run side by
side can each read back only their own lines. Usage: syslog_sink.py SOCKET OUTFILE"""
import os
import socket
import struct
import sys

path, out = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
sock.bind(path)
UCRED = struct.Struct('iII')  # struct ucred: pid, uid, gid
os.chmod(path, 0o666)
with open(out, 'ab', buffering=0) as f:
    f.write(b'')
    while True:
        data, ancillary, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(UCRED.size))
        pid = 0
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and len(value) >= UCRED.size:
                pid = UCRED.unpack_from(value)[0]
        f.write(b'%d ' % pid + data.rstrip(b'\n').replace(b'\n', b'\\n') + b'\n')
