// Is Electron's binary here, and can it show a window? Detected without
// require('electron') (Electron 39 throws when the binary is missing, 42+
// tries to download it): read node_modules/electron/path.txt and check the
// file it names (docs/TOOLCHAIN facts). Used by `npm start` and the e2e tests.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** @returns {{ ok: true, path: string } | { ok: false, reason: string }} */
export function electronBinary(root = process.cwd()) {
  const pkg = join(root, 'node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) {
    return {
      ok: false,
      reason:
        "Electron's binary is not installed here (node_modules/electron/path.txt is missing; `node node_modules/electron/install.js` fetches it where the internet is reachable)",
    };
  }
  const exe = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(exe)) return { ok: false, reason: `Electron's binary is not installed here (${exe} is missing)` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { ok: false, reason: 'Electron is installed but there is no display here (neither DISPLAY nor WAYLAND_DISPLAY is set; try xvfb-run -a)' };
  }
  return { ok: true, path: exe };
}
