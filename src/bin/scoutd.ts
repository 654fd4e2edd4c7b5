#!/usr/bin/env node
// scoutd: the Scout daemon, in the foreground (services and auto-start run it this way).
(await import('../protocol/version.js')).binaryArgs(
  'scoutd',
  `scoutd — Scout's SSH connection pool daemon

Usage: scoutd [--version] [--help]

Runs in the foreground, logs JSON lines to stdout, serves JSON-RPC on a Unix socket:
  $SCOUT_SOCKET, else $XDG_RUNTIME_DIR/scout/scoutd.sock, else /tmp/scout-$UID/scoutd.sock
  (socket-activated by systemd, LISTEN_FDS/LISTEN_PID, it serves on the socket it is given instead).
Signals: SIGTERM/SIGINT stop gracefully, SIGHUP re-reads ssh config (unchanged connections stay warm).
Settings are environment variables; see docs/settings.md or 'scoutctl status' for each with its default.
`,
);

// V8 sizes the old generation's next limit by how fast JS objects are allocated, but counts Buffer memory
// allocated since the last full GC against that limit. scoutd allocates mostly Buffers (64 KiB per socket
// read, SSH packets, SFTP answers) and few objects, so once a quiet spell had set a tight limit (~2.6× the
// live heap instead of 4×), every ~7 MB read started a full GC: in `npm run bench -- --only 1,6` 32 full
// GCs during row 6 and a 1 MB fs.read at p50 12.5 ms; growing by a fixed 4× instead, 1 full GC and 5.6 ms.
(await import('node:v8')).setFlagsFromString('--heap-growing-percent=300');

const { Daemon } = await import('../daemon/daemon.js');
const { StartupError } = await import('../daemon/socket.js');

let daemon: InstanceType<typeof Daemon>;
try {
  daemon = new Daemon();
  await daemon.start();
} catch (err) {
  const code = err instanceof StartupError ? err.exitCode : 1;
  process.stderr.write(`scoutd: ${(err as Error).message}\n`);
  process.exit(code);
}

const stop = (signal: string) => {
  void daemon.shutdown(signal).then(() => process.exit(0));
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGHUP', () => {
  try {
    daemon.reload();
  } catch (err) {
    daemon.log.error({ err: (err as Error).message }, 'reload failed; keeping the previous configuration');
  }
});
// A bug in one call must not take down every client's connections: log it and keep serving.
process.on('uncaughtException', (err) => daemon.log.error({ err: { message: err.message, stack: err.stack } }, 'uncaught exception'));
process.on('unhandledRejection', (err) => daemon.log.error({ err: { message: (err as Error)?.message, stack: (err as Error)?.stack } }, 'unhandled rejection'));
daemon.stopped.then(() => process.exit(0));
