/**
 * Whether a process with this pid exists, for records owned by a process (running runs, the sync
 * lease, shadow copies): signal 0 checks without sending anything. EPERM means it exists but
 * belongs to another user (possibly a reused pid); it counts as alive, since it is not ours to judge.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
