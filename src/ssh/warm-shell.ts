// A resident remote shell: one exec channel that stays open and runs many short commands, each in a subshell,
// so a command costs a round trip instead of sshd's per-session set-up plus the login shell's rc files
// (measured in the issue: 2.1 ms per exec of `true` with a clean /bin/sh, ~130 ms with pyenv in the rc).
//
// How the shell starts: as an ordinary exec channel whose command is BOOTSTRAP. sshd runs every exec command
// as `$SHELL -c COMMAND` (OpenSSH session.c, do_child), so the resident shell is the user's own login shell
// started exactly as for a normal exec: same environment, same rc files (bash started by sshd sources
// ~/.bashrc), same functions and aliases defined there. The bootstrap is plain POSIX sh; a login shell that
// cannot run it (fish, csh) never says it is ready and the caller falls back to exec channels.
//
// The protocol on the channel, one call at a time:
//   request (our stdin → shell):   NONCE \n  COMMAND-LINES \n  NONCE \n
//   reply on stdout:               S NONCE \n  OUTPUT  E NONCE SP STATUS \n
//   reply on stderr:               S NONCE \n  OUTPUT  E NONCE \n
// NONCE is 128 random bits per call, sent only through stdin (never in a command line visible in ps) and
// unset before the command runs, so the command's own output cannot forge an end marker. Markers are found
// anywhere in the byte stream, not only at line starts, so output without a trailing newline comes back byte
// for byte with no guard newline to strip, and only a tail that could begin a marker is held back while
// streaming. Output before the start marker (rc noise, late writes of an earlier call's stray
// children) is dropped. The command is read back with `read -r` into a variable and run as
// `( eval "$cmd" ) </dev/null`: the subshell keeps cd, export, umask, traps, functions and `exit` from leaking
// into the next call, and stdin at EOF is what an exec channel without stdin gives.
//
// Leftovers: a process a command leaves behind holding the shell's stdout or stderr would write into later
// calls; after each answer the shell looks for one and exits when it finds one (leftoverCheck, LEFTOVER_EXIT).
//
// Stopping (timeout, cancel): a `signal` request reaches the session's whole process group (sshd killpg's
// the session leader's group), which is the resident shell together with the command and its children. The
// shell dies with them and is replaced on the next call: simpler and as thorough as the exec path.
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel } from 'ssh2';
import { ScoutError, isScoutError } from '../protocol/errors.js';
import { DASH_CHECKED, parseInventory, type ShellInventory } from './plain-command.js';
import { CappedBuffer, closeChannel, confirmedStop, escalate, holdChannel, outcomeOf, runExec, stoppedBy, trySignal, unconfirmedStop, type ExecOptions, type ExecOutcome } from './exec.js';

/**
 * Tries, bound and pause for the channel that kills and checks a stopped shell's process group. The bound is
 * for all tries together: behind a stopped sshd each try waited its own 3 s, so a 1.5 s call answered after
 * 12.8 s (timeout, the 2 s stop ladder, then 3 × 3 s of reaping); now 6.5 s.
 */
const REAP_ATTEMPTS = 3;
const REAP_TIMEOUT_MS = 3_000;
const REAP_RETRY_MS = 100;

/**
 * Bound on starting a resident shell (channel open + the user's rc files + the ready line). Real rc files with
 * conda or nvm take a second or two; beyond this the host is treated as unable to run a resident shell.
 */
export const SHELL_START_TIMEOUT_MS = 15_000;

/** Commands longer than this go to an exec channel: the shell reads the command a byte per syscall (`read`). */
export const MAX_FAST_COMMAND_BYTES = 64 * 1024;

const VAR = '__scout';

/**
 * Linux shows the last pid it allocated (in the reader's pid namespace) as the fifth field of /proc/loadavg.
 * Not /proc/sys/kernel/ns_last_pid: dash's `read` takes a byte per read(2), and a sysctl file answers any read
 * past offset 0 with end-of-file, so dash saw only the first digit.
 */
const LAST_PID = '/proc/loadavg';

/**
 * Above this many pids allocated during one call, a leftover check scans every process instead of each new pid:
 * a dead or foreign pid costs the loop ~10 µs in dash, a process of the whole /proc listing ~3 µs.
 */
export const LEFTOVER_RANGE_MAX = 256;

/**
 * The status a resident shell exits with when the leftover check after a command found a process holding its
 * output (or could not tell): it retires itself instead of reading the next request.
 */
export const LEFTOVER_EXIT = 86;

/**
 * Rounds a leftover check may take. It goes on while the pid counter moves, and on a host that forks all the
 * time (a build server; a thousand test "hosts" on one machine) the counter never stops: the loop spun there,
 * scanning /proc at full CPU and serving no next request. Past this many rounds it cannot tell and retires
 * the shell (the next call starts a fresh one): bounded work, and never a missed leftover.
 */
export const LEFTOVER_ROUNDS_MAX = 16;

/**
 * POSIX sh that sets `${VAR}_k` to 0 (no process created since pid `${VAR}_lo` holds the shell's stdout or
 * stderr pipe), 1 (one does) or 2 (the check could not tell), and leaves `${VAR}_lo` at the last pid it covered.
 *
 * Why: a command can leave a process behind that keeps the channel's stdout or stderr (`setsid -f`, a script
 * that backgrounds, a daemon that double-forks without closing its output). On an exec channel sshd waits
 * for it; in a resident shell its later writes would land in whatever call runs next, on behalf of another
 * client. So after each command (its answer already sent) the shell looks for such a process, and exits when
 * one exists instead of taking another request (LEFTOVER_EXIT).
 *
 * Only processes created during the call can be leftovers, and Linux allocates pids in order: the check looks
 * at the pids allocated since the last check (/proc/loadavg), usually none or a few dead ones (a `true` in a
 * subshell: one), and compares each live one's fds 0–9 with the shell's own pipes (`test -ef`: same device
 * and inode; a fd of another user's process cannot be read and never matches). The pid counter is read again
 * after the scan, so a child that a leftover forked meanwhile (a double fork) is looked at in the next round.
 * When the counter wrapped or moved too far it scans every process instead, through a glob that must see the
 * shell itself (else `set -f`, GLOBIGNORE or the like hid processes: unknown). A counter still moving after
 * LEFTOVER_ROUNDS_MAX rounds is unknown too. Builtins only: no fork. Not
 * caught: a process that closes its fds 0–9 after moving the pipe to a higher fd, and a non-dumpable or
 * setuid one (its fds cannot be read), e.g. `sudo` leaving a child behind.
 */
function leftoverCheck(): string {
  // Compare fds 0–9 of the process whose /proc directory is `$dir` with the shell's stdout (1) and stderr (9).
  const holds = (dir: string) =>
    `if [ -r ${dir}/fd ]; then for ${VAR}_f in 0 1 2 3 4 5 6 7 8 9; do` + ` if [ ${dir}/fd/$${VAR}_f -ef /proc/$$/fd/1 ] || [ ${dir}/fd/$${VAR}_f -ef /proc/$$/fd/9 ]; then ${VAR}_k=1; fi; done; fi;`;
  const readLast = `${VAR}_hi=; IFS=" " read -r ${VAR}_f ${VAR}_f ${VAR}_f ${VAR}_f ${VAR}_hi <${LAST_PID} || :;`;
  return [
    `${VAR}_k=0; ${VAR}_r=0; ${readLast}`,
    `while [ "$${VAR}_k" = 0 ] && [ "$${VAR}_hi" != "$${VAR}_lo" ]; do`,
    `case $${VAR}_hi in ''|*[!0-9]*) ${VAR}_k=2; break;; esac;`,
    `if [ "$${VAR}_r" -ge ${LEFTOVER_ROUNDS_MAX} ]; then ${VAR}_k=2; break; fi;`,
    `if [ "$${VAR}_hi" -lt "$${VAR}_lo" ] || [ $((${VAR}_hi - ${VAR}_lo)) -gt ${LEFTOVER_RANGE_MAX} ] || [ "$${VAR}_r" -gt 8 ]; then`,
    `${VAR}_g=; case $- in *f*) ${VAR}_g=1; set +f;; esac; ${VAR}_seen=0;`,
    `for ${VAR}_d in /proc/[0-9]*; do if [ "$${VAR}_d" = /proc/$$ ]; then ${VAR}_seen=1; else ${holds(`$${VAR}_d`)} fi; done;`,
    `[ -z "$${VAR}_g" ] || set -f; [ "$${VAR}_seen" = 1 ] || ${VAR}_k=2; ${VAR}_lo=$${VAR}_hi;`,
    `else while [ "$${VAR}_lo" -lt "$${VAR}_hi" ]; do ${VAR}_lo=$((${VAR}_lo + 1)); ${holds(`/proc/$${VAR}_lo`)} done; fi;`,
    `${VAR}_r=$((${VAR}_r + 1)); ${readLast}`,
    'done;',
  ].join(' ');
}

/**
 * The resident loop, POSIX sh. `read -r` with an empty IFS keeps every byte of a line; lines are collected
 * until the nonce line. The loop leaves shell options as the rc set them (the subshell sees them, as a normal
 * exec would) and is written to survive them: every variable is assigned before use (`set -u`) and every
 * status is taken in an `&&`/`||` list (`set -e`).
 *
 * The ready line also says what the shell is (plain-command.ts): bash outside POSIX mode and without
 * DEBUG/ERR/RETURN traps lists its builtins and the names its rc files shadowed (functions, aliases) besides
 * its reserved words, so the daemon can tell which commands are safe to run without a subshell; dash says it
 * is dash (its builtins are known) and which of DASH_CHECKED it has. A nonce starting with `d` asks for that;
 * `s` for the subshell.
 */
export function bootstrap(ready: string): string {
  // One line, each part ending in its separator: the shells number an eval'd command's lines from the line of
  // the `eval`, so on line 1 an error message names the line an exec channel would (`bash: line 1: …`).
  return [
    // The loop's own stderr goes to /dev/null and the channel's stderr is kept on fd 9 for the commands: a
    // shell reports a foreground child killed by a signal on its stderr ("Killed"), which `sh -c CMD` never
    // prints about itself, so that report must not reach the command's stderr.
    `exec 9>&2 2>/dev/null;`,
    // A newline without writing one (POSIX sh has no $'\n'); `$(…)` drops trailing newlines, hence the x.
    `${VAR}_nl=$(printf '\\nx'); ${VAR}_nl=\${${VAR}_nl%x};`,
    // Whatever the rc files started is checked like a command's leftovers (pids since the shell's own); the
    // verdict (0 clean, 1 holds, 2 unknown) leads the ready line. Without the pid counter (not Linux) it is
    // unknown and the shell is not used.
    `${VAR}_lo=$$; ${leftoverCheck()}`,
    `if [ -n "\${BASH_VERSION-}" ] && [ -z "$(trap -p DEBUG ERR RETURN)" ] && ! shopt -qo posix;`,
    `then printf '%s %s %s bash\\t%s\\t%s\\n' '${ready}' "$${VAR}_k" "$$" "$(compgen -b | tr '\\n' ' ')" "$(compgen -k -a -A function | tr '\\n' ' ')";`,
    // dash (Debian's and Ubuntu's /bin/sh) has a fixed set of builtins and, started with -c, reads no rc file:
    // nothing can shadow a program (plain-command.ts DASH_BUILTINS). Known by its binary, with no fork; any
    // state-changing builtin of another shell that this dash has after all is reported and takes the subshell.
    // Not under a ForceCommand (sshd then sets SSH_ORIGINAL_COMMAND): a wrapper script may have defined
    // functions before it eval'd this loop, and dash cannot list them.
    `elif [ -z "\${SSH_ORIGINAL_COMMAND+x}" ] && { [ /proc/$$/exe -ef /bin/dash ] || [ /proc/$$/exe -ef /usr/bin/dash ]; }; then ${VAR}_x=;`,
    `for ${VAR}_f in ${DASH_CHECKED.join(' ')}; do if type "$${VAR}_f" >/dev/null 2>&1; then ${VAR}_x="$${VAR}_x $${VAR}_f"; fi; done;`,
    `printf '%s %s %s dash\\t\\t%s\\n' '${ready}' "$${VAR}_k" "$$" "$${VAR}_x";`,
    `else printf '%s %s %s sh\\n' '${ready}' "$${VAR}_k" "$$"; fi;`,
    `while IFS= read -r ${VAR}_n; do ${VAR}_c=;`,
    `while IFS= read -r ${VAR}_l; do [ "$${VAR}_l" = "$${VAR}_n" ] && break; ${VAR}_c="$${VAR}_c$${VAR}_l$${VAR}_nl"; done;`,
    `printf 'S%s\\n' "$${VAR}_n"; printf 'S%s\\n' "$${VAR}_n" >&9;`,
    `case $${VAR}_n in`,
    // A plain command, in this shell: nothing it can do changes the shell. `hash -r` forgets the program
    // paths it looked up, as a fresh shell would not know them either (a program installed later is found).
    `d*) eval "$${VAR}_c" </dev/null 2>&9 9>&- && ${VAR}_s=0 || ${VAR}_s=$?; hash -r ;;`,
    // The command's text is unset inside eval's own first line, so the subshell holds no variable of ours.
    `*) ( unset ${VAR}_n ${VAR}_l ${VAR}_s ${VAR}_nl ${VAR}_lo ${VAR}_hi ${VAR}_k ${VAR}_r ${VAR}_f ${VAR}_d ${VAR}_g ${VAR}_seen ${VAR}_x; eval "unset ${VAR}_c; $${VAR}_c" ) </dev/null 2>&9 9>&- && ${VAR}_s=0 || ${VAR}_s=$? ;;`,
    'esac;',
    `printf 'E%s %s\\n' "$${VAR}_n" "$${VAR}_s"; printf 'E%s\\n' "$${VAR}_n" >&9;`,
    // After the answer, so the caller does not wait for it: the next request is read only once the check is
    // done, and a shell that found a leftover exits instead (the daemon then runs that request on another).
    `${leftoverCheck()} [ "$${VAR}_k" = 0 ] || exit ${LEFTOVER_EXIT};`,
    'done',
  ].join(' ');
}

/** Why a command cannot take the fast path, or undefined when it can. */
export function fastPathObstacle(command: string, opts: Pick<ExecOptions, 'stdin' | 'env' | 'onStarted'>): string | undefined {
  if (opts.stdin && opts.stdin.length > 0) return 'stdin';
  if (opts.env && Object.keys(opts.env).length > 0) return 'env';
  if (opts.onStarted) return 'control';
  if (Buffer.byteLength(command) > MAX_FAST_COMMAND_BYTES) return 'long-command';
  if (command.includes('\0')) return 'nul-byte';
  // `$$` in a subshell is the resident shell's pid, not the command's own (POSIX): `kill $$` would hit the
  // resident shell. An exec channel gives the command a shell of its own.
  if (/\$\$|\$\{\$\}/.test(command)) return 'pid-of-shell';
  // A background child that outlives the command keeps an exec channel open until it closes its output (sshd
  // waits for EOF), so the caller gets what it prints; a resident shell would be retired (leftoverCheck) and
  // the caller would not. Any `&` that is not part of `&&`,
  // `>&`, `<&`, `&>` or `|&` is taken as one (conservatively: a quoted `&` also falls back).
  if (/(^|[^&<>|])&(?![&>])/.test(command)) return 'background';
  return undefined;
}

/** The shell died (or never answered) before the command started: running it elsewhere is safe. */
export class NotStartedError extends Error {
  /**
   * `channel`: no channel could be opened (momentary: the server's sessions are full);
   * `shell`: the login shell did not run the loop (it will not next time either: not POSIX, rc hangs);
   * `gone`: a running shell ended before the command started;
   * `retired`: the shell ended itself after its previous command (see LEFTOVER_EXIT); not a failure.
   */
  constructor(
    readonly reason: string,
    readonly kind: 'channel' | 'shell' | 'gone' | 'retired' = 'gone',
  ) {
    super(`resident shell unavailable: ${reason}`);
  }
}

/** Finds `marker` in a byte stream that arrives in chunks; bytes before it are passed on or dropped. */
export class MarkerScanner {
  private held = Buffer.alloc(0);

  constructor(private readonly marker: Buffer) {}

  /**
   * Feed a chunk; `emit` receives the bytes that certainly precede the marker. Returns the bytes after the
   * marker once it has been seen, else undefined (a possible partial marker is held back).
   */
  feed(chunk: Buffer, emit?: (b: Buffer) => void): Buffer | undefined {
    const buf = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    const at = buf.indexOf(this.marker);
    if (at >= 0) {
      if (at > 0) emit?.(buf.subarray(0, at));
      this.held = Buffer.alloc(0);
      return buf.subarray(at + this.marker.length);
    }
    // Hold back only a tail that could be the start of the marker, so streamed output is not delayed.
    let keep = Math.min(buf.length, this.marker.length - 1);
    while (keep > 0 && !buf.subarray(buf.length - keep).equals(this.marker.subarray(0, keep))) keep--;
    const safe = buf.length - keep;
    if (safe > 0) emit?.(buf.subarray(0, safe));
    this.held = Buffer.from(buf.subarray(safe));
    return undefined;
  }
}

type Phase = 'before' | 'body' | 'status' | 'done';

/** One call's view of one stream: discard until the start marker, pass the body, stop at the end marker. (Exported for its unit test.) */
export class FramedStream {
  phase: Phase = 'before';
  private readonly start: MarkerScanner;
  private readonly end: MarkerScanner;
  private statusText = '';

  constructor(
    nonce: string,
    private readonly withStatus: boolean,
    private readonly onBody: (b: Buffer) => void,
  ) {
    this.start = new MarkerScanner(Buffer.from(`S${nonce}\n`));
    this.end = new MarkerScanner(Buffer.from(withStatus ? `E${nonce} ` : `E${nonce}\n`));
  }

  get status(): number {
    return Number(this.statusText);
  }

  feed(chunk: Buffer): void {
    let rest: Buffer | undefined = chunk;
    if (this.phase === 'before') {
      rest = this.start.feed(rest);
      if (rest === undefined) return;
      this.phase = 'body';
    }
    if (this.phase === 'body') {
      rest = this.end.feed(rest, this.onBody);
      if (rest === undefined) return;
      this.phase = this.withStatus ? 'status' : 'done';
    }
    if (this.phase === 'status') {
      const nl = rest.indexOf(0x0a);
      this.statusText += rest.subarray(0, nl < 0 ? rest.length : nl).toString('latin1');
      if (nl >= 0) this.phase = 'done';
    }
    // Bytes after our end marker belong to nobody (a stray child's late output) and are dropped.
  }
}

interface ActiveCall {
  out: FramedStream;
  err: FramedStream;
  /** Called when the shell exits or the channel closes while this call runs. */
  onShellGone(signal: string | null): void;
  onStreamError(err: Error): void;
}

/** A running resident shell on one exec channel. Runs one command at a time. */
export class WarmShell {
  /** True while a command runs. */
  busy = false;
  /** Set once the shell can no longer run commands (exited, killed, stopped, channel closed). */
  dead = false;
  /** Commands run through this shell. */
  runs = 0;
  /** Runs synchronously when a call ends and the shell can take the next one (warm-shells.ts hands it on). */
  onIdle?: () => void;
  private active: ActiveCall | undefined;
  private exitSignal: string | null = null;
  /** The shell exited by itself after its leftover check (LEFTOVER_EXIT). */
  private retired = false;

  private constructor(
    private readonly stream: ClientChannel,
    readonly host: string,
    /** What the shell said about itself: decides which commands may skip the subshell. */
    readonly inventory: ShellInventory,
    /** The connection, for the channel that makes sure a stopped command's process group is gone. */
    private readonly client?: Client,
    /** The shell's pid: its session's process group (sshd makes the session's first process a group leader). */
    readonly pid?: number,
  ) {
    stream.on('data', (chunk: Buffer) => this.active?.out.feed(chunk));
    stream.stderr.on('data', (chunk: Buffer) => this.active?.err.feed(chunk));
    stream.on('exit', (code: number | null, signalName?: string) => {
      this.exitSignal = signalName ?? null;
      this.retired = code === LEFTOVER_EXIT;
      // Output sent before the exit may sit in the same read: let it be parsed first.
      setImmediate(() => this.gone());
    });
    stream.on('close', () => this.gone());
    stream.on('error', (err: Error) => {
      this.active?.onStreamError(err);
      this.gone();
    });
  }

  /**
   * Open an exec channel running the bootstrap through the user's login shell and wait for its ready line.
   * Rejects with NotStartedError when the channel cannot be opened or the shell never becomes ready.
   * `onGone` runs once when the channel is gone (or never opened), to give its channel slot back.
   */
  static start(client: Client, host: string, onGone: () => void, timeoutMs = SHELL_START_TIMEOUT_MS, onOpen?: () => void): Promise<WarmShell> {
    const ready = `R${randomBytes(16).toString('hex')}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      let stream: ClientChannel | undefined;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (stream) {
          trySignal(stream, 'KILL');
          closeChannel(stream);
        }
        reject(new NotStartedError(why, stream ? 'shell' : 'channel'));
      };
      const timer = setTimeout(() => fail(`no ready line within ${timeoutMs} ms`), timeoutMs);
      client.exec(bootstrap(ready), (err, s) => {
        if (err) {
          onGone();
          return fail(`could not open a channel: ${err.message}`);
        }
        stream = s;
        onOpen?.();
        // From here on the channel holds the slot until it closes, whatever happens.
        s.once('close', onGone);
        if (settled) {
          closeChannel(s);
          return;
        }
        const scanner = new MarkerScanner(Buffer.from(`${ready} `));
        let line: Buffer | undefined; // the ready line's rest (the shell's inventory), once the marker is seen
        const onData = (chunk: Buffer) => {
          // Everything the rc files print before the ready line is theirs, not a command's.
          if (line === undefined) {
            const rest = scanner.feed(chunk);
            if (rest === undefined) return;
            line = rest;
          } else line = Buffer.concat([line, chunk]);
          const nl = line.indexOf(0x0a);
          if (nl < 0 || settled) return;
          s.off('data', onData);
          // The line: the leftover check's verdict on what the rc files started, the shell's pid (its session's
          // process group), then the inventory.
          const text = line.subarray(0, nl).toString('utf8');
          const sp = text.indexOf(' ');
          const verdict = text.slice(0, sp);
          const sp2 = text.indexOf(' ', sp + 1);
          const pid = Number(text.slice(sp + 1, sp2));
          if (verdict === '1') return fail("the login shell's rc files left a process holding its output");
          if (verdict !== '0') return fail('no check for processes a command leaves behind (needs Linux /proc)');
          settled = true;
          clearTimeout(timer);
          s.off('close', onEarlyClose);
          s.off('exit', onEarlyExit);
          if (!Number.isInteger(pid) || pid <= 1) return fail('the shell did not report its pid');
          resolve(new WarmShell(s, host, parseInventory(text.slice(sp2 + 1)), client, pid));
        };
        const onEarlyExit = (code: number | null, signalName?: string) => fail(`the login shell exited before it was ready (${signalName ?? `status ${code}`})`);
        const onEarlyClose = () => fail('the channel closed before the shell was ready');
        s.on('data', onData);
        s.stderr.resume(); // rc noise on stderr is dropped
        s.on('exit', onEarlyExit);
        s.on('close', onEarlyClose);
        s.on('error', (e: Error) => fail(`channel error: ${e.message}`));
      });
    });
  }

  /**
   * Run `command` in a subshell of this shell, or with `direct` (a plain command only) in the shell itself.
   * Resolves with the same outcome an exec channel would give, or
   * rejects with COMMAND_TIMEOUT / CANCELLED (the shell is stopped with the command), CONNECTION_LOST,
   * REMOTE_IO (the shell died while the command ran), or NotStartedError (the command never started).
   */
  run(command: string, opts: ExecOptions, direct = false): Promise<ExecOutcome> {
    if (this.dead) return Promise.reject(new NotStartedError('the shell has exited', this.retired ? 'retired' : 'gone'));
    if (this.busy) throw new Error('WarmShell.run while busy'); // a bug in the caller, not a remote condition
    this.busy = true;
    this.runs++;
    const started = performance.now();
    // The nonce's first letter picks the lane in the loop: `d` runs the command in the shell itself (a plain
    // command, see plain-command.ts), `s` in a subshell.
    const lane = direct ? 'd' : 's';
    let nonce = lane + randomBytes(16).toString('hex');
    while (command.split('\n').includes(nonce)) nonce = lane + randomBytes(16).toString('hex');
    const out = new CappedBuffer(opts.maxOutputBytes);
    const errOut = new CappedBuffer(opts.maxOutputBytes);
    const host = this.host;

    return new Promise<ExecOutcome>((resolve, reject) => {
      let settled = false;
      let stopping: ScoutError | undefined;
      const timers: NodeJS.Timeout[] = [];

      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        this.active = undefined;
        this.busy = false;
        for (const t of timers) clearTimeout(t);
        opts.signal?.removeEventListener('abort', onAbort);
        opts.lost?.removeEventListener('abort', onLost);
        if (err) reject(err);
        else resolve(outcomeOf(out, errOut, call.out.status, null, started));
        if (!this.dead) this.onIdle?.();
      };
      const maybeDone = () => {
        if (call.out.phase === 'done' && call.err.phase === 'done') finish();
      };
      const call: ActiveCall = {
        // The shell serves only this call while it runs: holding its channel holds just this command.
        out: new FramedStream(nonce, true, (b) => {
          out.push(b);
          const wait = opts.onOutput?.('stdout', b);
          if (wait) holdChannel(this.stream, wait);
        }),
        err: new FramedStream(nonce, false, (b) => {
          errOut.push(b);
          const wait = opts.onOutput?.('stderr', b);
          if (wait) holdChannel(this.stream, wait);
        }),
        onShellGone: (signal) => {
          if (stopping) return reapThenFinish(stopping);
          if (call.out.phase === 'done' && call.err.phase === 'done') return finish();
          if (call.out.phase === 'before') {
            return finish(
              this.retired
                ? new NotStartedError('the shell retired: its previous command left a process holding its output', 'retired')
                : new NotStartedError('the shell exited before the command started'),
            );
          }
          finish(
            new ScoutError('REMOTE_IO', `the resident shell on ${host} exited while the command ran${signal ? ` (signal ${signal})` : ''}; the command's result is unknown`, {
              host,
              reason: 'shell-exited',
              signal,
              ran: true,
            }),
          );
        },
        onStreamError: (e) => finish(new ScoutError('CONNECTION_LOST', `channel on ${host} failed: ${e.message}`, { host })),
      };
      // Completion is checked after each chunk: wrap the scanners' feed.
      const feedOut = call.out.feed.bind(call.out);
      const feedErr = call.err.feed.bind(call.err);
      call.out.feed = (c) => {
        feedOut(c);
        maybeDone();
      };
      call.err.feed = (c) => {
        feedErr(c);
        maybeDone();
      };
      this.active = call;

      // The group signal ends the shell too (see the header); it is replaced on the next call. Once the shell
      // has exited, sshd can no longer signal the session (it signals the session's own pid), so a command
      // that ignored TERM would run on as an orphan while we said "stopped": the group is killed and checked
      // through a channel of its own (reapGroup), and the error says what that found.
      let reaping = false;
      const reapThenFinish = (reason: ScoutError) => {
        if (reaping || settled) return;
        reaping = true;
        for (const t of timers) clearTimeout(t);
        this.close();
        void this.reapGroup().then((gone) => finish(gone ? confirmedStop(reason) : unconfirmedStop(reason)));
      };
      const stop = (reason: ScoutError) => {
        if (stopping || settled) return;
        stopping = reason;
        this.dead = true;
        escalate(this.stream, timers, () => reapThenFinish(reason));
      };
      const onAbort = () => stop(stoppedBy(host, opts.signal));
      const onLost = () => finish(isScoutError(opts.lost?.reason) ? opts.lost.reason : new ScoutError('CONNECTION_LOST', `connection to ${host} was lost`, { host }));
      if (opts.signal?.aborted) return finish(stoppedBy(host, opts.signal));
      if (opts.lost?.aborted) return onLost();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      opts.lost?.addEventListener('abort', onLost, { once: true });
      timers.push(
        setTimeout(() => stop(new ScoutError('COMMAND_TIMEOUT', `command on ${host} timed out after ${opts.timeoutMs} ms and was stopped`, { host, timeoutMs: opts.timeoutMs })), opts.timeoutMs),
      );

      const text = command.endsWith('\n') ? command : `${command}\n`;
      this.stream.write(`${nonce}\n${text}${nonce}\n`);
    });
  }

  /**
   * KILL what is left of the shell's process group and check that nothing is: through a new exec channel,
   * since sshd signals only a session whose first process still runs. True when the group is confirmed gone.
   */
  private async reapGroup(): Promise<boolean> {
    if (!this.client || !this.pid) return false;
    const g = this.pid;
    // kill -0 fails once no process is left in the group; the short loop waits for KILL to land.
    // No `--`: dash's kill takes `-SIG -PGID` but reads `--` as a number and fails. Alive means a process of
    // the group that is not a zombie (an orphan's zombie waits for init, which may be slow to reap it; kill -0
    // counts it). Field 3 after the command name in /proc/PID/stat is the process group; warm shells run only
    // where /proc is (leftoverCheck).
    const script = [
      `kill -KILL -${g} 2>/dev/null; i=0;`,
      `alive() { for f in /proc/[0-9]*/stat; do read -r l < "$f" 2>/dev/null || continue; set -- \${l##*) }; [ "$1" != Z ] && [ "$3" = ${g} ] && return 0; done; return 1; };`,
      `while alive; do i=$((i+1)); [ $i -gt 50 ] && exit 1; kill -KILL -${g} 2>/dev/null; sleep 0.02; done; exit 0`,
    ].join(' ');
    const deadline = performance.now() + REAP_TIMEOUT_MS;
    for (let attempt = 0; attempt < REAP_ATTEMPTS && performance.now() < deadline; attempt++) {
      try {
        const o = await runExec(this.client, this.host, script, { timeoutMs: Math.max(1, Math.round(deadline - performance.now())), maxOutputBytes: 1024 });
        return o.exitCode === 0;
      } catch {
        // sshd frees a session slot lazily: the shell's own channel may still count against MaxSessions.
        await new Promise((r) => setTimeout(r, REAP_RETRY_MS));
      }
    }
    return false;
  }

  /** Stop the shell: kill its process group and close the channel. */
  close(): void {
    this.dead = true;
    trySignal(this.stream, 'KILL');
    closeChannel(this.stream);
  }

  private goneOnce = false;
  private gone(): void {
    this.dead = true;
    this.active?.onShellGone(this.exitSignal);
    if (this.goneOnce) return;
    this.goneOnce = true;
    // Retired after a command left a process holding its output: closing the channel makes sshd close its
    // ends of the pipes, so the leftover's later writes fail (EPIPE) instead of blocking on a pipe nobody
    // reads, and what it wrote before is dropped (no call reads it). No signal: the leftover may be meant to
    // outlive the call (`nohup`), and an exec channel would not kill it either.
    if (this.retired) {
      closeChannel(this.stream);
      return;
    }
    // A killed shell may leave its command running with the channel's pipes open: take the group down and
    // close our side so the channel (and its slot) is given back.
    trySignal(this.stream, 'KILL');
    closeChannel(this.stream);
  }
}
