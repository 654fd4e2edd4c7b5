// Result shapes of the fs.*, transfer.* and fleet.* methods as the shared contracts define them
// (/work/prompts/contracts.md). They are built on other branches; until those merge, the shim codes against
// these mirrors. Type-only: nothing here exists at run time.
export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface FsReadResult {
  path: string;
  content: string;
  encoding: 'utf8' | 'base64';
  size: number;
  bytes: number;
  offset: number;
  truncated: boolean;
}

export interface FsEntry {
  name: string;
  type: EntryType;
  size: number;
  mode: number;
  mtime: string;
  linkTarget?: string;
}

export interface FsListResult {
  path: string;
  entries: FsEntry[];
}

export interface FsStatResult {
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  mtime: string;
  linkTarget?: string;
}

export interface TreeNode {
  name: string;
  type: EntryType;
  size?: number;
  children?: TreeNode[];
}

export interface FsTreeResult {
  path: string;
  root: TreeNode;
  entries: number;
  truncated: boolean;
}

export interface FsFindResult {
  paths: string[];
  truncated: boolean;
}

export interface TransferResult {
  bytes: number;
  files: number;
  durationMs: number;
  /** The path written (inside the requested one when that was an existing directory). */
  path?: string;
}
