// The remote half of a durable job (jobs.start with `durable: true`): small POSIX sh scripts that start a
// command detached from the SSH session and from scoutd, and read, signal and remove it later, from any
// connection and any scoutd process. /bin/sh only: no tmux, screen, nohup.out or remote install.
//
// On the host, one directory per job under ${XDG_STATE_HOME:-~/.local/state}/scout/jobs/<id> (0700):
//   command  the command line, for a person looking at the host
//   stdin    what the caller sent to stdin (empty: the command reads EOF)
//   output   stdout and stderr, one file (`>output 2>&1`, as nohup does): the order the command wrote them is
//            the order it is read back, and a byte offset in it is the job's cursor across daemon restarts
//   monitor  pid of the monitor, a shell in its own session that waits for the command and writes rc
//   pid      pid of the command's session leader: its process group is what a signal reaches
//   rc       the exit status the monitor's shell saw (128+N for a command ended by signal N), once it ended
//
// The command runs in a session of its own (setsid; perl's POSIX::setsid where there is none, as on macOS),
// so a hangup, a dropped connection or a killed scoutd never reaches it, and a signal to its group never
// reaches the monitor (which then still records how the command ended).
import { shellQuote } from '../../ssh/quote.js';

/** Exit status of every script below when the job's directory is gone (removed, or never on this host). */
export const GONE = 97;
/** Exit status of the signal script when there was nothing to signal: the command has ended. */
export const NOT_RUNNING = 98;
/** How long the launcher waits for the command's pid before giving up (a host under heavy load). */
const START_WAIT_TICKS = 1000; // × 10 ms

/**
 * Sets "$@" to the words that run a command in a new session: `setsid` where there is one, perl's
 * POSIX::setsid otherwise (macOS), else nothing (the command still has no terminal to hang up). A prefix
 * rather than a function: a function called with redirections keeps the caller's descriptors open (dash saves
 * them while it runs), and the launcher's stdout held that way kept the SSH session open for the job's life.
 */
const NEW_SESSION = `case $NS in setsid) set -- setsid ;; perl) set -- perl -MPOSIX -e 'POSIX::setsid(); exec @ARGV or exit 127' ;; *) set -- ;; esac`;

/** The monitor: $1 job dir, $2 command line. Its own session; waits for the command, then writes rc. */
const MONITOR = [
  'd=$1 line=$2',
  NEW_SESSION,
  'echo $$ >"$d/monitor"',
  // The command starts where a plain job would: the login directory (its line carries its own `cd`).
  'cd "$HOME" 2>/dev/null || cd /',
  // The inner /bin/sh records its pid (= its process group, a new session) before becoming the user's shell.
  `"$@" /bin/sh -c 'unset NS; echo $$ >"$1/pid.tmp" && mv "$1/pid.tmp" "$1/pid" && exec "\${SHELL:-/bin/sh}" -c "$2"' scout-job "$d" "$line" <"$d/stdin" >"$d/output" 2>&1`,
  'echo $? >"$d/rc.tmp" && mv "$d/rc.tmp" "$d/rc"',
].join('\n');

/** The launcher: $1 job id, $2 command line, $3 1 when stdin follows, $4 the monitor script. Prints `dir`, `pid`. */
const LAUNCH = [
  'umask 077',
  'id=$1 line=$2 in=$3 mon=$4',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
  'b=${XDG_STATE_HOME:-$HOME/.local/state}/scout/jobs',
  'mkdir -p "$b" && d=$b/$id && mkdir "$d" || { echo "cannot make the job directory under $b" >&2; exit 90; }',
  'if [ "$in" = 1 ]; then cat >"$d/stdin" || exit 90; else : >"$d/stdin"; fi',
  `printf '%s\\n' "$line" >"$d/command"`,
  'if command -v setsid >/dev/null 2>&1; then NS=setsid; elif command -v perl >/dev/null 2>&1; then NS=perl; else NS=; fi',
  'export NS',
  NEW_SESSION,
  // stdio away from the channel (sshd closes the session only once nothing holds its pipes), then the monitor
  // replaces the subshell: `exec` keeps no copy of the descriptors and leaves no shell waiting for it.
  '( exec </dev/null >/dev/null 2>&1; exec "$@" /bin/sh -c "$mon" scout-job "$d" "$line" ) &',
  'm=$!',
  'i=0',
  'while [ ! -s "$d/pid" ]; do',
  `  kill -0 "$m" 2>/dev/null || [ -s "$d/pid" ] || { echo "the job's monitor ended before the command started" >&2; exit 92; }`,
  `  i=$((i+1)); [ "$i" -gt ${START_WAIT_TICKS} ] && { echo "the command did not start within 10 s" >&2; exit 92; }`,
  '  sleep 0.01 2>/dev/null || sleep 1',
  'done',
  `printf 'dir %s\\npid %s\\n' "$d" "$(cat "$d/pid")"`,
].join('\n');

/**
 * Collect: $1 job dir, $2 offset (negative: that many bytes back from the end). On stderr `from N` and the
 * state (`rc N`, `running`, or `vanished`: no rc and no monitor, as after a reboot), judged before the bytes
 * are read so that with `rc` they are all of them; on stdout the output from N to its end.
 */
const COLLECT = [
  `cd "$1" 2>/dev/null || exit ${GONE}`,
  'if [ "$2" -lt 0 ]; then s=$(wc -c <output); o=$((s + $2)); [ "$o" -lt 0 ] && o=0; else o=$2; fi',
  'if [ -s rc ]; then st="rc $(cat rc)"; elif kill -0 "$(cat monitor 2>/dev/null)" 2>/dev/null; then st=running; else st=vanished; fi',
  `printf 'from %s\\n%s\\n' "$o" "$st" >&2`,
  'exec tail -c +$((o+1)) output',
].join('\n');

/**
 * Follow: $1 job dir, $2 offset. Streams the output from the offset as it grows (tail -f) and exits 0 once the
 * job has ended (rc written, or the monitor gone); the caller then collects the rest. When the channel's
 * stdin closes (scoutd stopped following, or the connection dropped and sshd closed the session's pipes),
 * everything it started is stopped: no tail is left behind on the host.
 */
const FOLLOW = [
  `cd "$1" 2>/dev/null || exit ${GONE}`,
  'm=$(cat monitor 2>/dev/null)',
  'exec 3<&0',
  'tail -c +$(($2+1)) -f output </dev/null & t=$!',
  '( read _ <&3; kill "$t" "$$" ) >/dev/null 2>&1 & r=$!',
  'exec 3<&-',
  'while [ ! -s rc ] && kill -0 "$m" 2>/dev/null; do sleep 0.25 2>/dev/null || sleep 1; done',
  'kill "$t" "$r" 2>/dev/null',
  'exit 0',
].join('\n');

/** Read: $1 job dir, $2 offset, $3 length. Those bytes of the output (fewer at its end). */
const READ = [`cd "$1" 2>/dev/null || exit ${GONE}`, 'tail -c +$(($2+1)) output | head -c "$3"'].join('\n');

/** Signal: $1 job dir, $2 signal name. The command's process group; exits NOT_RUNNING when it has ended. */
const SIGNAL = [
  `cd "$1" 2>/dev/null || exit ${GONE}`,
  `[ -s rc ] && exit ${NOT_RUNNING}`,
  `p=$(cat pid 2>/dev/null) && [ -n "$p" ] || exit ${NOT_RUNNING}`,
  // The group when the command leads one (setsid); the process itself otherwise.
  `kill -s "$2" -- "-$p" 2>/dev/null || kill -s "$2" "$p" 2>/dev/null || exit ${NOT_RUNNING}`,
].join('\n');

/**
 * Locate: $1 job id. Prints `dir`, `pid` (0 when the command never started) of a job whose launch scoutd
 * journaled but never heard the answer of (it was killed meanwhile); exits GONE when the launch never made it.
 */
const LOCATE = [
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
  'd=${XDG_STATE_HOME:-$HOME/.local/state}/scout/jobs/$1',
  `[ -d "$d" ] || exit ${GONE}`,
  `p=$(cat "$d/pid" 2>/dev/null); printf 'dir %s\npid %s\n' "$d" "\${p:-0}"`,
].join('\n');

/** Remove: $1 job dir, only ever a job directory by its shape. */
const REMOVE = ['case $1 in */scout/jobs/j*) rm -rf -- "$1" ;; *) exit 96 ;; esac'].join('\n');

/** The line sshd runs: the script under /bin/sh whatever the login shell, with its arguments quoted. */
function sh(script: string, args: string[]): string {
  return ['/bin/sh', '-c', shellQuote(script), 'scout-job', ...args.map(shellQuote)].join(' ');
}

/** Job ids are `j` and hex (jobs.ts): nothing in one needs quoting, and a remove can check the shape. */
function checkId(id: string): string {
  if (!/^j[0-9a-f]+$/.test(id)) throw new Error(`not a job id: ${id}`);
  return id;
}

export const durableLines = {
  launch: (id: string, line: string, hasStdin: boolean) => sh(LAUNCH, [checkId(id), line, hasStdin ? '1' : '0', MONITOR]),
  collect: (dir: string, offset: number) => sh(COLLECT, [dir, String(Math.trunc(offset))]),
  follow: (dir: string, offset: number) => sh(FOLLOW, [dir, String(Math.trunc(offset))]),
  read: (dir: string, offset: number, length: number) => sh(READ, [dir, String(Math.trunc(offset)), String(Math.trunc(length))]),
  signal: (dir: string, signal: string) => sh(SIGNAL, [dir, signal]),
  remove: (dir: string) => sh(REMOVE, [dir]),
  locate: (id: string) => sh(LOCATE, [checkId(id)]),
};

/** What the launcher printed: the job's directory and its process group. */
export function parseLaunch(stdout: string): { dir: string; pid: number } {
  const dir = /^dir (.+)$/m.exec(stdout)?.[1];
  const pid = Number(/^pid (\d+)$/m.exec(stdout)?.[1]);
  if (!dir || !Number.isSafeInteger(pid) || pid < 0) throw new Error(`unexpected launcher output: ${JSON.stringify(stdout.slice(0, 200))}`);
  return { dir, pid };
}

/** The state a collect found: ended with the shell's status, still running, or gone without a status. */
export type RemoteState = { kind: 'ended'; status: number } | { kind: 'running' } | { kind: 'vanished' };

/** What a collect printed on stderr: where its bytes start and the job's state. */
export function parseCollect(stderr: string): { from: number; state: RemoteState } {
  const from = Number(/^from (\d+)$/m.exec(stderr)?.[1]);
  const rc = /^rc (\d+)$/m.exec(stderr)?.[1];
  if (!Number.isSafeInteger(from)) throw new Error(`unexpected collect output: ${JSON.stringify(stderr.slice(0, 200))}`);
  if (rc !== undefined) return { from, state: { kind: 'ended', status: Number(rc) } };
  if (/^running$/m.test(stderr)) return { from, state: { kind: 'running' } };
  if (/^vanished$/m.test(stderr)) return { from, state: { kind: 'vanished' } };
  throw new Error(`unexpected collect output: ${JSON.stringify(stderr.slice(0, 200))}`);
}

/**
 * A shell status as exitCode/signal, the way ssh.exec reports them: above 128 the command was ended by signal
 * status−128 (what every POSIX shell reports), named from the local table (Linux numbering: the signals a
 * person sends, TERM, KILL, INT, HUP, have the same numbers on every Unix).
 */
export function statusOutcome(status: number, signals: Record<string, number>): { exitCode: number | null; signal: string | null } {
  if (status > 128) {
    const name = Object.keys(signals).find((k) => signals[k] === status - 128);
    if (name) return { exitCode: null, signal: name };
  }
  return { exitCode: status, signal: null };
}
