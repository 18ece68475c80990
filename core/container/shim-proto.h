/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_CONTAINER_SHIM_PROTO_H
#define BERTH_CONTAINER_SHIM_PROTO_H

/* The protocol between berthd and berth-shim (programs/berth-shim/), one
 * shim per running container (DESIGN.md). It is the parent of the
 * container's init, holds its stdio or PTY, writes its output through the
 * logging driver, serves attach, and records the exit status, so that a
 * container outlives its daemon.
 *
 * berthd starts it with the container's state directory (exec root) as its
 * only argument and a socket on fd 3 for the start-up handshake:
 *
 *   shim -> berthd   {"pid":N} once the container is created (its process
 *                    waits at the exec fifo), or {"error":"...","errno":N}
 *   berthd -> shim   "start\n" after it has connected the attach clients
 *                    that were waiting for the start (no output is lost)
 *   shim -> berthd   {"started":true} or {"error":"...","errno":N}
 *
 * errno is the failure's code (positive; 0: none): ENOENT and EACCES from
 * the runtime say the command was not found or not executable.
 *
 * Then <state>/shim.sock takes one request line per connection:
 *
 *   attach [stdin] [stdout] [stderr]\n   the connection becomes the stream:
 *                    shim -> client: output in Docker's attach format (8-byte
 *                    frames without a TTY, raw with one); client -> shim: the
 *                    container's stdin; a half-close closes it (StdinOnce).
 *   resize H W\n     the PTY's window size
 *   wait\n           answered with the exit record when the container exits
 *
 * and <state>/exit.json ({"ExitCode","OOMKilled","FinishedAt"}) is written
 * atomically before the shim exits, for a berthd that was not there to see. */

#define SHIM_CONFIG  "shim.json"
#define SHIM_SOCKET  "shim.sock"
#define SHIM_EXIT    "exit.json"
#define SHIM_PIDFILE "shim.pid"
#define SHIM_SYNC_FD 3

#endif
