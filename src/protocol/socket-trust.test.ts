import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeSocketDir, socketDirProblem, socketFileProblem } from './socket-trust.js';

let tmp: string;
const me = process.geteuid!();

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'socket-trust-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function dir(name: string, mode: number): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d);
  fs.chmodSync(d, mode);
  return d;
}

describe('socketDirProblem', () => {
  it('accepts a directory of ours with mode 0700', () => {
    const d = dir('ok', 0o700);
    expect(socketDirProblem(d, fs.lstatSync(d))).toBeUndefined();
  });

  it('refuses any access for group or others, naming the mode and the fix', () => {
    for (const mode of [0o777, 0o750, 0o705, 0o710]) {
      const d = dir(`m${mode.toString(8)}`, mode);
      const p = socketDirProblem(d, fs.lstatSync(d));
      expect(p?.reason).toBe('open-mode');
      expect(p?.message).toContain(`has mode ${mode.toString(8)}`);
      expect(p?.message).toContain(`chmod 700 ${d}`);
    }
  });

  it('refuses a directory of another uid before looking at its mode', () => {
    const d = dir('foreign', 0o777);
    const p = socketDirProblem(d, fs.lstatSync(d), me + 1);
    expect(p).toMatchObject({ reason: 'foreign-owner', ownerUid: me });
    expect(p?.message).toContain(`is owned by uid ${me}, not by you (uid ${me + 1})`);
  });

  it('refuses a symlink, even to a private directory of ours, and a file', () => {
    const real = dir('real', 0o700);
    const link = path.join(tmp, 'link');
    fs.symlinkSync(real, link);
    expect(socketDirProblem(link, fs.lstatSync(link))?.reason).toBe('symlink');
    const file = path.join(tmp, 'file');
    fs.writeFileSync(file, '');
    expect(socketDirProblem(file, fs.lstatSync(file))?.reason).toBe('not-directory');
  });
});

describe('socketFileProblem', () => {
  it('accepts our own socket file and refuses one of another uid', () => {
    const f = path.join(dir('d', 0o700), 's');
    fs.writeFileSync(f, '');
    expect(socketFileProblem(f, fs.lstatSync(f))).toBeUndefined();
    expect(socketFileProblem(f, fs.lstatSync(f), me + 1)).toMatchObject({ reason: 'foreign-owner', path: f, ownerUid: me });
  });
});

describe('makeSocketDir', () => {
  it('creates the directory and its missing parents 0700 below a directory only we can write', () => {
    const base = dir('base', 0o755);
    const d = path.join(base, 'a', 'b', 'run');
    expect(makeSocketDir(d)).toBeUndefined();
    for (const p of [path.join(base, 'a'), path.join(base, 'a', 'b'), d]) expect(fs.statSync(p).mode & 0o777).toBe(0o700);
    expect(socketDirProblem(d, fs.lstatSync(d))).toBeUndefined();
  });

  it('creates below a sticky world-writable directory such as /tmp', () => {
    const d = path.join(dir('sticky', 0o1777), 'scout-1');
    expect(makeSocketDir(d)).toBeUndefined();
    expect(fs.statSync(d).mode & 0o777).toBe(0o700);
  });

  it('creates nothing below a directory others can write to, and says what to do', () => {
    const open = dir('open', 0o777);
    const d = path.join(open, 'x', 'run');
    const p = makeSocketDir(d);
    expect(p).toMatchObject({ reason: 'unsafe-parent', path: open, mode: '777' });
    expect(p?.message).toContain(`mkdir -m 700 ${d}`);
    expect(fs.readdirSync(open)).toEqual([]);
  });

  it('creates nothing below a directory of another user (not root)', () => {
    const d = path.join(dir('theirs', 0o755), 'run');
    if (me === 0) {
      // As root, a directory of ours counts as root's; judge it for another uid instead.
      expect(makeSocketDir(d, 12345)).toBeUndefined();
      fs.rmdirSync(d);
      fs.chownSync(path.dirname(d), 65534, -1);
      expect(makeSocketDir(d, 12345)).toMatchObject({ reason: 'unsafe-parent', ownerUid: 65534 });
    } else {
      expect(makeSocketDir(d, me + 1)).toMatchObject({ reason: 'unsafe-parent', ownerUid: me });
    }
    expect(fs.existsSync(d)).toBe(false);
  });

  it('leaves an existing directory (or a symlink in its place) to socketDirProblem', () => {
    const d = dir('exists', 0o777);
    expect(makeSocketDir(d)).toBeUndefined();
    expect(fs.statSync(d).mode & 0o777).toBe(0o777);
    const link = path.join(tmp, 'dangling');
    fs.symlinkSync(path.join(tmp, 'nowhere'), link);
    expect(makeSocketDir(link)).toBeUndefined();
    expect(fs.existsSync(path.join(tmp, 'nowhere'))).toBe(false);
  });
});
