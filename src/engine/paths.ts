/** Where things live by default, per platform; every default can be overridden. */
import { homedir, platform } from 'node:os';
import { join } from 'node:path';

function appDataDir(): string {
  const home = homedir();
  switch (platform()) {
    case 'win32':
      return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Netsync');
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'Netsync');
    default:
      return join(process.env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'netsync');
  }
}

/** Private keys, known servers, trust: never inside the database, which syncs. */
export function configDir(): string {
  if (process.env.NETSYNC_CONFIG_DIR) return process.env.NETSYNC_CONFIG_DIR;
  const home = homedir();
  switch (platform()) {
    case 'win32':
    case 'darwin':
      return join(appDataDir(), 'config');
    default:
      return join(process.env.XDG_CONFIG_HOME ?? join(home, '.config'), 'netsync');
  }
}

export function defaultDatabasePath(): string {
  return process.env.NETSYNC_DB ?? join(appDataDir(), 'netsync.db');
}
