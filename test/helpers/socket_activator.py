#!/usr/bin/env python3
"""Plays systemd's socket unit for the tests: holds a listening Unix socket and runs the
worker with it as fd 3 (LISTEN_FDS=1, LISTEN_PID=the worker's pid). Connections made while no
worker runs wait in the socket's backlog, as with systemd.
  SIGUSR1: stop the worker with SIGTERM, start a new one at once (a restart)
  SIGUSR2: kill the worker with SIGKILL, start a new one at once (a crash)
  SIGTERM: stop the worker and exit
Usage: socket_activator.py SOCKET -- COMMAND [ARG...]"""
import os
import signal
import socket
import subprocess
import sys

path = sys.argv[1]
command = sys.argv[sys.argv.index('--') + 1:]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
old = os.umask(0o177)
listener.bind(path)
os.umask(old)
listener.listen(1024)
if listener.fileno() != 3:
    os.dup2(listener.fileno(), 3)
os.set_inheritable(3, True)

# sh's $$ is the pid that exec keeps, so LISTEN_PID names the worker itself.
WRAP = ['sh', '-c', 'LISTEN_FDS=1 LISTEN_PID=$$ exec "$@"', 'sh']
worker = None
generation = 0


def start():
    global worker, generation
    generation += 1
    worker = subprocess.Popen(WRAP + command, pass_fds=(3,))
    print(f'started {generation} {worker.pid}', flush=True)


def replace(sig):
    # As systemd restarts a service: the old one ends first; meanwhile connections wait.
    worker.send_signal(sig)
    worker.wait()
    start()


signal.signal(signal.SIGUSR1, lambda *_: replace(signal.SIGTERM))
signal.signal(signal.SIGUSR2, lambda *_: replace(signal.SIGKILL))


def stop(*_):
    worker.terminate()
    worker.wait()
    os.unlink(path)
    raise SystemExit


signal.signal(signal.SIGTERM, stop)
start()
while True:
    signal.pause()
