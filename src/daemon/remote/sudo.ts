// sudo without the password in sight: the command runs as
//   sudo -S -p PROMPT -- /bin/sh -c 'printf "%s\n" "$0" >&2; exec /bin/sh -c "$1"' MARKER COMMAND
// with a random PROMPT and MARKER. The password is read from the host's configured source only when PROMPT
// appears on stderr, and written to stdin once (then stdin is closed); it is never in argv, the environment,
// a log or an error text. A second PROMPT means sudo refused it: SUDO_FAILED at once, never a retry loop.
// MARKER on stderr means sudo let the command start: from there its output is the command's own, and what
// sudo printed before (its lecture, the prompt) is dropped. Anything else sudo waits on (a PAM question we
// do not know) is a partial line that is neither; it fails after UNKNOWN_PROMPT_MS.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScoutError } from '../../protocol/errors.js';
import { shellQuote } from '../../ssh/quote.js';
import type { SudoPolicy } from '../policy.js';

/** A partial line on sudo's stderr that is not our prompt, unchanged this long, is a question we cannot answer. */
export const UNKNOWN_PROMPT_MS = 1000;
/** A password command (`pass show …`) gets this long. */
const PASSWORD_COMMAND_MS = 15_000;

export interface SudoWrap {
  prompt: string;
  marker: string;
  /** The remote command line (before the cwd prefix). */
  line: string;
}

export function sudoWrap(command: string): SudoWrap {
  const token = crypto.randomBytes(12).toString('hex');
  const prompt = `[scout-sudo-${token}]`;
  const marker = `scout-sudo-started-${token}`;
  const inner = `printf "%s\\n" "$0" >&2; exec /bin/sh -c "$1"`;
  return { prompt, marker, line: `sudo -S -p ${shellQuote(prompt)} -- /bin/sh -c ${shellQuote(inner)} ${shellQuote(marker)} ${shellQuote(command)}` };
}

export type GateStep = { kind: 'password' } | { kind: 'started'; rest: Buffer } | { kind: 'fail'; message: string };

/** sudo's side of stderr, until the command starts: pure, fed chunk by chunk. */
export class SudoGate {
  private buf = Buffer.alloc(0);
  private prompts = 0;
  /** Whole lines sudo printed ("Sorry, try again.", "… is not in the sudoers file"): for the error text. */
  readonly said: string[] = [];
  started = false;

  constructor(
    private readonly prompt: string,
    private readonly marker: string,
  ) {}

  feed(chunk: Buffer): GateStep[] {
    if (this.started) return [];
    this.buf = Buffer.concat([this.buf, chunk]);
    const steps: GateStep[] = [];
    for (;;) {
      const m = this.buf.indexOf(`${this.marker}\n`);
      const p = this.buf.indexOf(this.prompt);
      if (p >= 0 && (m < 0 || p < m)) {
        this.keepLines(this.buf.subarray(0, p));
        this.buf = this.buf.subarray(p + this.prompt.length);
        if (++this.prompts > 1) return [...steps, { kind: 'fail', message: 'sudo refused the password (it asked again)' }];
        steps.push({ kind: 'password' });
        continue;
      }
      if (m >= 0) {
        this.keepLines(this.buf.subarray(0, m));
        this.started = true;
        steps.push({ kind: 'started', rest: Buffer.from(this.buf.subarray(m + this.marker.length + 1)) });
        this.buf = Buffer.alloc(0);
        return steps;
      }
      const nl = this.buf.lastIndexOf(0x0a);
      if (nl >= 0) {
        this.keepLines(this.buf.subarray(0, nl + 1));
        this.buf = this.buf.subarray(nl + 1);
      }
      return steps;
    }
  }

  /** A partial line that could not become our prompt or marker: what sudo (or PAM) asks instead. */
  unknownQuestion(): string | undefined {
    const s = this.buf.toString('utf8');
    if (!s.trim() || this.prompt.startsWith(s) || this.marker.startsWith(s)) return undefined;
    return s.trim().slice(0, 200);
  }

  private keepLines(b: Buffer): void {
    for (const line of b.toString('utf8').split('\n')) if (line.trim()) this.said.push(line.trim().slice(0, 300));
  }
}

/** The password from the host's source; undefined when none is configured. Errors never carry it. */
export async function readPassword(host: string, sudo: SudoPolicy, home = os.homedir()): Promise<string | undefined> {
  const src = sudo.password;
  if (!src) return undefined;
  if ('file' in src) {
    const file = src.file.startsWith('~/') ? path.join(home, src.file.slice(2)) : src.file;
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (err) {
      throw failed(host, `its password file ${file} cannot be read (${(err as NodeJS.ErrnoException).code})`);
    }
    if ((st.mode & 0o077) !== 0 || (typeof process.getuid === 'function' && st.uid !== process.getuid()))
      throw failed(host, `its password file ${file} must be yours and readable by you alone (chmod 600 ${file})`);
    return firstLine(fs.readFileSync(file, 'utf8'));
  }
  return new Promise((resolve, reject) => {
    execFile(src.command[0], src.command.slice(1), { timeout: PASSWORD_COMMAND_MS, maxBuffer: 64 * 1024 }, (err, stdout) => {
      // Its stderr and stdout stay out of the message: either may echo the secret.
      if (err) reject(failed(host, `its password command (${src.command[0]}) failed${(err as NodeJS.ErrnoException).code ? ` (${(err as NodeJS.ErrnoException).code})` : ''}`));
      else resolve(firstLine(stdout));
    });
  });
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/\r$/, '');
}

export function failed(host: string, why: string): ScoutError {
  return new ScoutError('SUDO_FAILED', `sudo on ${host}: ${why}; nothing ran as root`, { host });
}
