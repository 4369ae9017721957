import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Reading one file of the workspace as text: no links followed at the end, no FIFOs, no binary. */

/**
 * The bytes of a file already resolved to its real path. O_NOFOLLOW refuses a symlink swapped in
 * as the last component since it was resolved, O_NONBLOCK keeps a FIFO from blocking the open, and
 * the checks run on the opened descriptor, so they describe what is actually read.
 */
export async function readRegularFile(realPath: string, maxBytes: number): Promise<Uint8Array | { kind: 'unreadable'; reason: string }> {
  let handle;
  try {
    handle = await open(realPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return { kind: 'unreadable', reason: 'it was replaced by a symbolic link while being read' };
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { kind: 'unreadable', reason: 'it is not a regular file' };
    if (info.size > maxBytes) return { kind: 'unreadable', reason: `it is over the ${formatBytes(maxBytes)} limit for text files` };
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Text or the reason it is not text. Invalid UTF-8 counts as binary: decoding it lossily and
 * staging an edit would silently rewrite every byte that did not decode.
 */
export function decodeText(bytes: Uint8Array): string | { kind: 'unreadable'; reason: string } {
  if (bytes.includes(0)) return { kind: 'unreadable', reason: 'it looks like a binary file (contains NUL bytes)' };
  try {
    return utf8.decode(bytes);
  } catch {
    return { kind: 'unreadable', reason: 'it is not valid UTF-8 text' };
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
