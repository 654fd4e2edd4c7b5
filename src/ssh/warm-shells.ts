// Per connection: up to N resident shells (warm-shell.ts), each holding one of the connection's channel
// slots while it lives, shared by every call and client. Decides per call whether the fast path applies and
// counts hits, fallbacks (by reason) and restarts for daemon.status.
import type { Client } from 'ssh2';
import { ScoutError, abortReason } from '../protocol/errors.js';
import type { ChannelSlots, SlotRelease } from './channel-slots.js';
import type { ExecOptions, ExecOutcome } from './exec.js';
import { isPlainCommand } from './plain-command.js';
import { NotStartedError, SHELL_START_TIMEOUT_MS, WarmShell, fastPathObstacle } from './warm-shell.js';

/** `auto`: fast path when eligible and the host's shell can run it; `on`: as auto, but a shell that cannot
 * start is an error instead of a silent fallback; `off`: an exec channel per command. */
export type ExecMode = 'auto' | 'on' | 'off';

/** Resident shells per connection: two serve an agent's usual one-at-a-time calls plus one overlapping call,
 * and leave 8 of OpenSSH's default 10 sessions to exec channels, SFTP and jobs. */
export const DEFAULT_WARM_SHELLS = 2;

/** Counters shared by every connection of the daemon (shown in daemon.status). */
export interface WarmShellCounters {
  /** Calls served by a resident shell. */
  hits: number;
  /** Of those, plain commands run in the resident shell itself, without a subshell (plain-command.ts). */
  direct: number;
  /** Calls that took an exec channel although the mode allowed the fast path, by reason. */
  fallbacks: Record<string, number>;
  /** Resident shells started. */
  started: number;
  /**
   * Resident shells that ended while their connection lived (killed, timed out, cancelled, or retired because a
   * command left a process holding their output) and are replaced on demand.
   */
  restarts: number;
}

export function newWarmShellCounters(): WarmShellCounters {
  return { hits: 0, direct: 0, fallbacks: {}, started: 0, restarts: 0 };
}

/** A command started on a shell. */
interface Running {
  direct: boolean;
  outcome: Promise<ExecOutcome>;
}

/** What `WarmShells.run` gives back: the outcome, or "use an exec channel", maybe with a slot already held. */
export type ShellRun = { outcome: ExecOutcome } | { slot?: SlotRelease };

/** A call waiting for a shell: takes it (starting its command at once) unless it was served otherwise. */
type ShellTaker = (shell: WarmShell) => void;

export class WarmShells {
  private readonly shells: WarmShell[] = [];
  private starting = 0;
  /** Calls that found every shell busy and no channel free: the first shell to finish goes to the first. */
  private readonly takers: ShellTaker[] = [];
  /** Set when this host's login shell cannot run the resident loop (not POSIX, rc hangs): no more tries. */
  private unavailable: string | undefined;

  constructor(
    private readonly client: Client,
    private readonly host: string,
    private readonly slots: ChannelSlots,
    private readonly counters: WarmShellCounters,
    private readonly max = DEFAULT_WARM_SHELLS,
  ) {
    // Resident shells are an optimisation: they must never make a call wait for a channel. When a caller
    // queues, an idle shell closes and its channel slot goes to the caller.
    slots.onPressure = () => {
      const idle = this.shells.find((s) => !s.busy && !s.dead);
      if (idle) this.giveBack(idle);
    };
  }

  /** Resident shells alive now. */
  get live(): number {
    return this.shells.filter((s) => !s.dead).length;
  }

  /**
   * Run `command` through a resident shell, or say the caller should use an exec channel instead (mode off,
   * an ineligible call, no free channel for a shell, the shell cannot start in auto). When every shell is busy
   * and no channel is free either, the call takes whichever frees first: a shell, or a channel slot that it
   * then holds for its exec channel.
   */
  async run(command: string, opts: ExecOptions, mode: ExecMode): Promise<ShellRun> {
    if (mode === 'off') return {};
    const obstacle = fastPathObstacle(command, opts);
    if (obstacle) return this.fallback(obstacle);
    if (this.unavailable && mode === 'auto') return this.fallback('unavailable');
    // The call's timeout covers waiting for a shell to start, as an exec channel's covers the rc files.
    let deadline = performance.now() + opts.timeoutMs;
    // One retry: a shell found dead before our command started (killed between calls) is replaced.
    for (let attempt = 0; ; attempt++) {
      for (const s of [...this.shells]) if (s.dead && !s.busy) this.retire(s);
      let shell = this.shells.find((s) => !s.busy && !s.dead);
      let running: Running | undefined;
      if (shell) running = this.runOn(shell, command, opts, deadline);
      else if (this.shells.length + this.starting >= this.max) {
        // All shells busy: a free channel serves the call now (its slot taken here, so that the calls right
        // behind this one see it gone); with none free, the first to free up does.
        const slot = this.slots.tryAcquire();
        if (slot) return { ...this.fallback('busy'), slot };
        const next = await this.shellOrSlot(command, opts);
        if ('slot' in next) return { ...this.fallback('busy'), slot: next.slot };
        ({ shell, running } = next);
        deadline = performance.now() + opts.timeoutMs; // the wait did not count (see shellOrSlot)
      } else {
        // Keep a channel free for exec channels, SFTP and jobs (a host with MaxSessions 1 runs no resident shell).
        if (this.slots.open + 2 > this.slots.limit) return this.fallback('no-channel');
        const release = this.slots.tryAcquire();
        if (!release) return this.fallback('no-channel');
        try {
          shell = await this.start(release, deadline, opts.signal);
        } catch (err) {
          if (!(err instanceof NotStartedError)) throw err; // COMMAND_TIMEOUT or CANCELLED while waiting
          if (mode === 'on') throw new ScoutError('CHANNEL_FAILED', `could not start a resident shell on ${this.host}: ${err.reason}`, { host: this.host, ran: false });
          return this.fallback('start-failed');
        }
        running = this.runOn(shell, command, opts, deadline);
      }
      try {
        const outcome = await running.outcome;
        this.counters.hits++;
        if (running.direct) this.counters.direct++;
        return { outcome };
      } catch (err) {
        if (err instanceof NotStartedError) {
          // A shell that retired itself after its previous call (a leftover held its output) is not a failure:
          // try the next. Bounded: each such shell is gone, and a shell retires only after running a command.
          if (err.kind === 'retired') {
            attempt--;
            continue;
          }
          if (attempt === 0) continue;
          if (mode === 'on') throw new ScoutError('CHANNEL_FAILED', `resident shell on ${this.host} failed twice before the command started`, { host: this.host, ran: false });
          return this.fallback('shell-died');
        }
        this.counters.hits++;
        throw err;
      } finally {
        if (shell.dead) this.retire(shell);
      }
    }
  }

  /** Start the command on an idle shell now (synchronously: nothing else can take the shell in between). */
  private runOn(shell: WarmShell, command: string, opts: ExecOptions, deadline: number): Running {
    const direct = isPlainCommand(command, shell.inventory);
    return { direct, outcome: shell.run(command, { ...opts, timeoutMs: Math.max(1, Math.round(deadline - performance.now())) }, direct) };
  }

  /**
   * Wait for the first of: a shell finishing its call (the command starts on it at once), or a channel slot.
   * Time in this queue does not count against the call's timeout, as time queued for a channel does not.
   */
  private shellOrSlot(command: string, opts: ExecOptions): Promise<{ slot: SlotRelease } | { shell: WarmShell; running: Running }> {
    return new Promise((resolve, reject) => {
      let decided = false;
      const stopQueueing = new AbortController();
      const take: ShellTaker = (shell) => {
        decided = true;
        stopQueueing.abort();
        resolve({ shell, running: this.runOn(shell, command, opts, performance.now() + opts.timeoutMs) });
      };
      const leave = () => {
        decided = true;
        const i = this.takers.indexOf(take);
        if (i >= 0) this.takers.splice(i, 1);
      };
      this.takers.push(take);
      const signal = opts.signal ? AbortSignal.any([opts.signal, stopQueueing.signal]) : stopQueueing.signal;
      this.slots.acquire(signal, leave).then(
        (slot) => resolve({ slot }),
        (err: unknown) => {
          if (decided) return; // a shell took the call
          leave();
          reject(err);
        },
      );
    });
  }

  /** A shell finished its call: it goes to the first call waiting for one, else back to a caller queued for its slot. */
  private handOn(shell: WarmShell): void {
    if (shell.busy || shell.dead) return;
    const take = this.takers.shift();
    if (take) take(shell);
    else if (this.slots.queued > 0) this.giveBack(shell);
  }

  /** Close an idle shell so that its channel slot goes to a caller that queues for one. Not a restart. */
  private giveBack(shell: WarmShell): void {
    shell.close();
    const i = this.shells.indexOf(shell);
    if (i >= 0) this.shells.splice(i, 1);
  }

  /**
   * Start a resident shell for this caller. If the caller stops waiting (its deadline or cancel comes first),
   * the shell still joins the set when it is ready, idle for the next call: its rc cost is not wasted.
   */
  private start(release: SlotRelease, deadline: number, signal: AbortSignal | undefined): Promise<WarmShell> {
    this.starting++;
    let abandoned = false;
    // An open channel proves the server allows this many sessions (ChannelSlots keeps its limit above that).
    const starting = WarmShell.start(this.client, this.host, release, SHELL_START_TIMEOUT_MS, () => release.established())
      .then(
        (shell) => {
          this.counters.started++;
          shell.onIdle = () => this.handOn(shell);
          if (abandoned) {
            this.shells.push(shell);
            this.handOn(shell);
          }
          return shell;
        },
        (err: unknown) => {
          // A refused channel is momentary; a shell that opened but never became ready will not next time either.
          if (err instanceof NotStartedError && err.kind === 'shell') this.unavailable = err.reason;
          throw err;
        },
      )
      .finally(() => this.starting--);
    return new Promise<WarmShell>((resolve, reject) => {
      const giveUp = (err: ScoutError) => {
        abandoned = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        starting.catch(() => undefined);
        reject(err);
      };
      const onAbort = () => giveUp(abortReason(signal, `command on ${this.host}`, { host: this.host }));
      const waitMs = Math.max(0, deadline - performance.now());
      const timer = setTimeout(
        () =>
          giveUp(
            new ScoutError('COMMAND_TIMEOUT', `command on ${this.host} timed out after waiting ${Math.round(waitMs)} ms for a resident shell to start; it did not run`, {
              host: this.host,
              ran: false,
            }),
          ),
        waitMs,
      );
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      starting.then(
        (shell) => {
          if (abandoned) return;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.shells.push(shell);
          resolve(shell);
        },
        (err: unknown) => {
          if (abandoned) return;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  /** Stop the resident shells no call is using (a busy one finishes its call first). */
  closeIdle(): void {
    for (const s of this.shells.filter((x) => !x.busy)) this.giveBack(s);
  }

  private retire(shell: WarmShell): void {
    const i = this.shells.indexOf(shell);
    if (i < 0) return;
    this.shells.splice(i, 1);
    this.counters.restarts++;
  }

  private fallback(reason: string): { slot?: SlotRelease } {
    this.counters.fallbacks[reason] = (this.counters.fallbacks[reason] ?? 0) + 1;
    return {};
  }
}
