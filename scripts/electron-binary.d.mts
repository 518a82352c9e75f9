export type ElectronBinary = { ok: true; path: string } | { ok: false; reason: string };
export function electronBinary(root?: string): ElectronBinary;
