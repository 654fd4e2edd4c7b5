// shell.open / shell.attach / shell.resize: an interactive session on a pooled connection, for `scoutctl shell`.
// Keystrokes must not pay JSON per byte, so the session's bytes go over a second connection: `shell.open` (a
// long call on the client's control connection) opens the channel, sends `shell.ready` with a token, and
// answers with the exit status when the session ends; `shell.attach` with that token turns another
// connection into the session's raw bytes, both ways, with backpressure; `shell.resize` changes the PTY size.
// The token (128 random bits) is sent only to the caller that opened the session, and attaches once.
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import type { ClientChannel } from 'ssh2';
import { ScoutError, abortReason } from '../../protocol/errors.js';
import type { ShellOpenResult } from '../../protocol/methods/index.js';
import { trySignal } from '../../ssh/exec.js';
import { withCwd } from '../../ssh/quote.js';
import type { Handlers, Services } from '../context.js';

interface Live {
  ch: ClientChannel;
  attached: boolean;
  /** Called by shell.attach: the session's bytes have a reader. */
  onAttach: () => void;
}

/** A session nobody attaches to within this long after shell.ready is hung up: every call ends with an answer. */
const ATTACH_WAIT_MS = 10_000;

/** The login shell in `cwd`: `exec` keeps the process tree what `ssh host` gives (no extra sh between). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the remote shell expands it, not JavaScript
const LOGIN_SHELL = 'exec "${SHELL:-/bin/sh}" -l';

/** The daemon's open interactive sessions, by token: scoutd stopping hangs them all up at once. */
export class Shells {
  readonly open = new Map<string, Live>();

  /** HUP every session (scoutd is stopping: a person's shell should end now, not after the grace period). */
  hangUpAll(): void {
    for (const live of this.open.values()) hangUp(live.ch);
  }
}

export function shellHandlers(svc: Services): Handlers<'shell.open' | 'shell.attach' | 'shell.resize'> {
  const open = svc.shells.open;
  return {
    'shell.open': async (p, ctx): Promise<ShellOpenResult> => {
      svc.registry.get(p.host);
      svc.policy.checkShell(p.host);
      const cwd = await svc.policy.execCwd(p.host, p.cwd, svc.resolveRemote);
      const command = cwd === undefined ? p.command : withCwd(p.command ?? LOGIN_SHELL, cwd);
      // The lease is held for the whole session: the idle reaper leaves a connection with a shell on it alone.
      return svc.pool.use(
        p.host,
        async (conn) => {
          const { ch, exit } = await conn.interactive({ pty: p.pty, command, signal: ctx.signal });
          const token = randomBytes(16).toString('hex');
          // Until a connection attaches, the output waits in the channel (unread, it holds the SSH window).
          let unattached = false;
          const deadline = setTimeout(() => {
            unattached = true;
            ch.resume();
            ch.stderr.resume();
            hangUp(ch);
          }, ATTACH_WAIT_MS);
          open.set(token, { ch, attached: false, onAttach: () => clearTimeout(deadline) });
          const closed = new Promise<void>((resolve) => ch.once('close', () => resolve()));
          // Cancelled (the CLI went away, or scoutd stops): HUP reaches the remote process group, as a hang-up
          // does for ssh; then the channel closes. Never signal after our close.
          const stop = () => hangUp(ch);
          ctx.signal.addEventListener('abort', stop, { once: true });
          try {
            ctx.notify('shell.ready', { id: ctx.rpcId, token });
            await closed;
          } finally {
            clearTimeout(deadline);
            ctx.signal.removeEventListener('abort', stop);
            open.delete(token);
          }
          if (ctx.signal.aborted) throw abortReason(ctx.signal, `the session on ${p.host}`, { host: p.host });
          if (unattached)
            throw new ScoutError('COMMAND_TIMEOUT', `no connection attached to the session on ${p.host} within ${ATTACH_WAIT_MS} ms of shell.ready (shell.attach with its token): it was hung up`, {
              host: p.host,
            });
          return { exitCode: exit.code, signal: exit.signal };
        },
        'never',
        { signal: ctx.signal },
      );
    },
    'shell.attach': async (p, ctx) => {
      const live = open.get(p.token);
      if (!live) throw new ScoutError('NOT_FOUND', 'no open session has this token: it ended, or the token is not one shell.ready gave');
      if (live.attached) throw new ScoutError('INVALID_REQUEST', 'this session already has a connection attached');
      ctx.upgrade((sock) => pipe(live.ch, sock));
      live.attached = true;
      live.onAttach();
      return { attached: true };
    },
    'shell.resize': async (p) => {
      const live = open.get(p.token);
      if (!live) return { resized: false };
      live.ch.setWindow(p.rows, p.cols, 0, 0);
      return { resized: true };
    },
  };
}

/**
 * The session's bytes over `sock`, both ways, each side paused while the other is full. The client's EOF
 * is the remote's stdin EOF (`echo cmd | scoutctl shell`), and the output still flows after it; the
 * channel's close ends the socket once everything was written; a socket that goes away ends the session.
 */
function pipe(ch: ClientChannel, sock: net.Socket): void {
  // A client that has sent everything (EOF) still reads the output: keep our side open until the channel ends.
  sock.allowHalfOpen = true;
  sock.on('data', (d: Buffer) => {
    if (!ch.write(d)) {
      sock.pause();
      ch.once('drain', () => sock.resume());
    }
  });
  const out = (d: Buffer) => {
    if (!sock.write(d)) {
      ch.pause();
      sock.once('drain', () => ch.resume());
    }
  };
  ch.on('data', out);
  ch.stderr.on('data', out);
  sock.on('end', () => ch.end());
  ch.once('close', () => sock.end());
  sock.once('close', () => hangUp(ch));
}

/** HUP to the remote process group, as a hang-up does for ssh, then close; never a signal after our close. */
function hangUp(ch: ClientChannel): void {
  if (ch.destroyed) return;
  // trySignal, not ch.signal: after our EOF (the client's stdin ended) ssh2 refuses a signal, sshd does not.
  trySignal(ch, 'HUP');
  ch.close();
}
