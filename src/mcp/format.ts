// Plain text an agent reads well: what was asked for, the size of what came back, and a note whenever
// something was cut or failed. Shapes follow the Python Scout MCP where agents already know them
// (host list marks, `[exit code: N]`, broadcast sections and `N/M hosts succeeded`).
import type { HostInfo, ExecResult } from '../protocol/methods/index.js';
import type { EntryType, FsEntry, FsReadResult, FsTreeResult, TransferResult, TreeNode } from '../protocol/methods/index.js';

/** Width of a broadcast section header, as in Scout MCP. */
const HEADER_WIDTH = 60;

export function hostsText(hosts: HostInfo[]): string {
  if (hosts.length === 0) return 'No SSH hosts configured.';
  const lines = hosts.map((h) => {
    const mark = h.online === undefined ? '[?]' : h.online ? '[✓]' : '[✗]';
    const state = h.online === undefined ? (h.proxyJump ? `via ${h.proxyJump.join(',')}` : 'unknown') : h.online ? 'online' : 'offline';
    const extra = [h.connected ? 'connected' : '', h.latencyMs !== undefined ? `${h.latencyMs} ms` : ''].filter(Boolean).join(', ');
    return `  ${mark} ${h.name} (${state}) -> ${h.user}@${h.hostname}:${h.port}${extra ? `  [${extra}]` : ''}`;
  });
  return `Available hosts:\n${lines.join('\n')}`;
}

export function sizeText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(2)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** A file's text, or a note instead of binary bytes, with a truncation note when the cap cut it. */
export function fileText(r: FsReadResult): string {
  if (r.encoding === 'base64') {
    return `[binary file: ${sizeText(r.size)}; not shown as text — download it with beam]`;
  }
  if (!r.truncated) return r.content;
  return `${r.content}\n\n[truncated at ${r.bytes} bytes of ${r.size}; raise SCOUT_MAX_FILE_SIZE or download it with beam]`;
}

const TYPE_CHAR: Record<EntryType, string> = { dir: 'd', file: '-', symlink: 'l', other: '?' };

function modeString(type: EntryType, mode: number): string {
  const rwx = (bits: number) => `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${bits & 1 ? 'x' : '-'}`;
  return `${TYPE_CHAR[type]}${rwx(mode >> 6)}${rwx(mode >> 3)}${rwx(mode)}`;
}

function when(iso: string): string {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '';
}

/** A directory like `ls -la` shows it: mode, size, mtime, name (dirs end in `/`, links show their target). */
export function listingText(path: string, entries: FsEntry[]): string {
  const width = Math.max(1, ...entries.map((e) => String(e.size).length));
  const rows = entries.map((e) => {
    const name = e.type === 'dir' ? `${e.name}/` : e.linkTarget !== undefined ? `${e.name} -> ${e.linkTarget}` : e.name;
    return `${modeString(e.type, e.mode)}  ${String(e.size).padStart(width)}  ${when(e.mtime)}  ${name}`;
  });
  const n = entries.length;
  return `${path} (${n} entr${n === 1 ? 'y' : 'ies'})\n${rows.join('\n')}`.trimEnd();
}

export function treeText(r: FsTreeResult, depth: number): string {
  const lines = [r.root.type === 'dir' ? `${r.path}/`.replace(/\/+$/, '/') : r.path];
  const walk = (nodes: TreeNode[], prefix: string) => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${n.name}${n.type === 'dir' ? '/' : ''}`);
      if (n.children?.length) walk(n.children, prefix + (last ? '    ' : '│   '));
    });
  };
  walk(r.root.children ?? [], '');
  lines.push('', `${r.entries} entr${r.entries === 1 ? 'y' : 'ies'}, depth ${depth}${r.truncated ? ' [truncated: entry cap reached]' : ''}`);
  return lines.join('\n');
}

/** Command output: stdout, then `[stderr]`, then `[exit code: N]` when not 0; `(no output)` when silent. */
export function execText(r: ExecResult): string {
  const decode = (s: string) => (r.encoding === 'base64' ? Buffer.from(s, 'base64').toString('utf8') : s);
  const stdout = decode(r.stdout);
  const stderr = decode(r.stderr);
  const parts: string[] = [];
  if (stdout) parts.push(stdout.replace(/\n$/, ''));
  if (stderr) parts.push(`[stderr]\n${stderr.replace(/\n$/, '')}`);
  if (parts.length === 0) parts.push('(no output)');
  if (r.truncated) parts.push('[output truncated at the per-stream cap (SCOUT_MAX_OUTPUT_BYTES)]');
  if (r.signal) parts.push(`[killed by signal ${r.signal}]`);
  else if (r.exitCode !== 0) parts.push(`[exit code: ${r.exitCode}]`);
  return parts.join('\n');
}

export function transferText(verb: string, from: string, to: string, r: TransferResult): string {
  const files = r.files === 1 ? '' : `, ${r.files} files`;
  return `✓ ${verb} ${from} → ${to}\n  Size: ${sizeText(r.bytes)}${files} in ${Math.round(r.durationMs)} ms`;
}

export interface Section {
  title: string;
  ok: boolean;
  body: string;
}

/** Broadcast results: one section per target, headed with it, then `N/M hosts succeeded`. */
export function broadcastText(sections: Section[]): string {
  const header = (s: Section) => {
    const label = `═══ ${s.title}${s.ok ? '' : ' [FAILED]'} `;
    return label.padEnd(HEADER_WIDTH, '═');
  };
  const ok = sections.filter((s) => s.ok).length;
  const body = sections.map((s) => `${header(s)}\n${s.body}\n`).join('\n');
  return `${body}\n─── ${ok}/${sections.length} hosts succeeded ───`;
}

export interface ErrorLike {
  code: string;
  message: string;
}

export function errorText(e: ErrorLike): string {
  return `Error: ${e.message} [${e.code}]`;
}
