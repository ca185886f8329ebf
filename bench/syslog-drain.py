#!/usr/bin/env python3
"""A syslog sink for the benchmark: binds a Unix datagram socket, reads and drops every message,
and on SIGTERM prints, as one JSON line, how many arrived by the module (or program) that wrote
them, with the first message of each. Usage: syslog-drain.py SOCKET"""
import json
import os
import re
import signal
import socket
import sys

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o666)
counts = {}
samples = {}


def stop(*_):
    print(json.dumps({'counts': counts, 'samples': samples}), flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
print('ready', flush=True)
# Counted by who wrote it: the PAM module for the load generator ("pam_load: pam_mapi(mapi:auth):
# ..." -> pam_mapi; libpam's own lines -> libpam), else the program (slapd, nslcd). slapd's
# "deferring operation: too many executing" (more operations on one connection than it runs at
# once) is counted apart.
program = re.compile(rb'^<\d+>(?:\w{3} [ \d]\d \d\d:\d\d:\d\d )?([^\[: ]+)')
module = re.compile(rb': (pam_[A-Za-z_]+)\(|: (PAM) ')
while True:
    data = sock.recv(65536)
    p = program.match(data)
    key = p.group(1).decode('utf-8', 'replace') if p else '?'
    m = module.search(data)
    if m:
        key = 'libpam' if m.group(2) else m.group(1).decode()
    elif b'deferring operation' in data:
        key = key + ' deferred operations'
    if key not in counts:
        counts[key] = 0
        samples[key] = data[:300].decode('utf-8', 'replace')
    counts[key] += 1
