// Unified diff (as `diff -u` prints it) computed in the shim: Myers' O((N+M)·D) shortest edit script on lines,
// after trimming the common head and tail, which is where most of two similar files is. Written here rather
// than pulled in as a dependency: it is ~100 lines and `patch` in diff.test.ts checks every output applies.

/** Context lines around each change, like `diff -u`. */
export const CONTEXT_LINES = 3;
/**
 * Above this many differing lines the trace of Myers' search (O(D²) integers) would grow past ~16 MB; the
 * diff then falls back to "all of the middle removed, all of it added": still a correct patch, just not minimal.
 */
const MAX_EDIT_DISTANCE = 2_000;

type Op = { t: ' ' | '-' | '+'; line: string };

/** Split keeping each line's terminator, so a missing final newline is a difference like any other. */
function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === '' ? [] : lines;
}

function myers(a: string[], b: string[]): Op[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  // trace[d][k + d] = furthest x on diagonal k after d edits (only k in [-d, d] exists at step d).
  const trace: Int32Array[] = [];
  let prev = new Int32Array(0);
  for (let d = 0; d <= max; d++) {
    const cur = new Int32Array(2 * d + 1);
    const p = (k: number) => prev[k + d - 1];
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (d === 0) x = 0;
      else if (k === -d || (k !== d && p(k - 1) < p(k + 1))) x = p(k + 1);
      else x = p(k - 1) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      cur[k + d] = x;
      if (x >= n && y >= m) {
        trace.push(cur);
        return backtrack(a, b, trace);
      }
    }
    trace.push(cur);
    prev = cur;
  }
  return undefined;
}

/** Walk the trace back from (n, m) to (0, 0), emitting the edit script in order. */
function backtrack(a: string[], b: string[], trace: Int32Array[]): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  const get = (d: number, k: number) => trace[d][k + d];
  for (let d = trace.length - 1; d > 0; d--) {
    const k = x - y;
    const prevK = k === -d || (k !== d && get(d - 1, k - 1) < get(d - 1, k + 1)) ? k + 1 : k - 1;
    const prevX = get(d - 1, prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ t: ' ', line: a[--x] });
      y--;
    }
    if (x === prevX) ops.push({ t: '+', line: b[--y] });
    else ops.push({ t: '-', line: a[--x] });
  }
  while (x > 0 && y > 0) {
    ops.push({ t: ' ', line: a[--x] });
    y--;
  }
  return ops.reverse();
}

function editScript(a: string[], b: string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const mid = myers(midA, midB) ?? [...midA.map((line): Op => ({ t: '-', line })), ...midB.map((line): Op => ({ t: '+', line }))];
  return [...a.slice(0, head).map((line): Op => ({ t: ' ', line })), ...mid, ...a.slice(a.length - tail).map((line): Op => ({ t: ' ', line }))];
}

function range(start: number, count: number): string {
  // diff -u: a one-line range has no count; an empty range names the line before it.
  if (count === 1) return String(start);
  return `${count === 0 ? start - 1 : start},${count}`;
}

function emit(op: Op): string {
  return op.line.endsWith('\n') ? `${op.t}${op.line}` : `${op.t}${op.line}\n\\ No newline at end of file\n`;
}

/** The unified diff of two texts with `---`/`+++` headers, or '' when they are equal. */
export function unifiedDiff(oldText: string, newText: string, oldLabel: string, newLabel: string, context = CONTEXT_LINES): string {
  if (oldText === newText) return '';
  const ops = editScript(splitLines(oldText), splitLines(newText));
  const out = [`--- ${oldLabel}\n`, `+++ ${newLabel}\n`];
  let i = 0;
  while (i < ops.length) {
    // Next change, then extend the hunk while changes are within 2×context of each other.
    while (i < ops.length && ops[i].t === ' ') i++;
    if (i >= ops.length) break;
    const start = Math.max(0, i - context);
    let end = i;
    for (;;) {
      while (end < ops.length && ops[end].t !== ' ') end++;
      let gap = end;
      while (gap < ops.length && ops[gap].t === ' ') gap++;
      if (gap < ops.length && gap - end <= 2 * context) end = gap;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    let oldLine = 1;
    let newLine = 1;
    for (let j = 0; j < start; j++) {
      if (ops[j].t !== '+') oldLine++;
      if (ops[j].t !== '-') newLine++;
    }
    const hunk = ops.slice(start, stop);
    const oldCount = hunk.filter((o) => o.t !== '+').length;
    const newCount = hunk.filter((o) => o.t !== '-').length;
    out.push(`@@ -${range(oldLine, oldCount)} +${range(newLine, newCount)} @@\n`, ...hunk.map(emit));
    i = stop;
  }
  return out.join('');
}
