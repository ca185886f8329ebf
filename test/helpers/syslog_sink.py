#!/usr/bin/env python3
"""A private syslog receiver for the tests: binds a Unix datagram socket and appends each
message as one line to a file. Usage: syslog_sink.py SOCKET OUTFILE"""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o666)
with open(out, 'ab', buffering=0) as f:
    f.write(b'')
    while True:
        data = sock.recv(65536)
        f.write(data.rstrip(b'\n').replace(b'\n', b'\\n') + b'\n')
