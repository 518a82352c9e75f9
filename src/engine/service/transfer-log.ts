/**
 * The sessions the Transfers screen lists after a reload or a restart: the
 * last KEEP_TRANSFERS, newest first, with how each ended and its figures,
 * in `<config>/transfers.json`. The config folder, not the database: the
 * database syncs, and what this machine did is nobody else's business.
 * Best effort: a history that cannot be read or written never fails a
 * session, and one that cannot be read is left as it is, not overwritten.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { TransferRecord } from '../../shared/api.js';
import type { DiffSide, SessionSummary } from '../../shared/sync.js';
import { fail } from '../errors.js';
import { writePrivateFile } from './files.js';

interface TransferFile {
  format: 'netsync-transfers-v1';
  transfers: TransferRecord[];
}

export const KEEP_TRANSFERS = 100;

/** A side's counts without its rows and groups: the rows are paged from memory while the app runs, never kept. */
function countsOnly(side: DiffSide): DiffSide {
  return { count: side.count, bytes: side.bytes, groups: [], items: [] };
}

/** The summary as a kept transfer holds it: every figure, no list of items. */
export function keptSummary(s: SessionSummary): SessionSummary {
  return { ...s, weLack: countsOnly(s.weLack), theyLack: countsOnly(s.theyLack) };
}

export class TransferLog {
  private records: TransferRecord[] | null = null;

  constructor(readonly file: string) {}

  /** Newest first. */
  list(): TransferRecord[] {
    return structuredClone(this.load());
  }

  add(record: TransferRecord): void {
    let records: TransferRecord[];
    try {
      records = this.load();
    } catch {
      return; // unreadable: list() says so, and the file stays for the user to look at
    }
    const next = [record, ...records.filter((r) => r.info.sessionId !== record.info.sessionId)].slice(0, KEEP_TRANSFERS);
    try {
      writePrivateFile(this.file, `${JSON.stringify({ format: 'netsync-transfers-v1', transfers: next } satisfies TransferFile)}\n`);
      this.records = next;
    } catch {
      // A full disk or a read-only folder: the session itself went well, and says so.
    }
  }

  private load(): TransferRecord[] {
    if (this.records) return this.records;
    if (!existsSync(this.file)) return (this.records = []);
    let parsed: TransferFile;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8')) as TransferFile;
    } catch (e) {
      return fail('io', `the transfer history ${this.file} is unreadable (${(e as Error).message}); remove it to start a new one`);
    }
    if (parsed?.format !== 'netsync-transfers-v1' || !Array.isArray(parsed.transfers)) {
      fail('io', `${this.file} is not a Netsync transfer history; remove it to start a new one`);
    }
    this.records = parsed.transfers.filter(isRecord);
    return this.records;
  }
}

function isRecord(r: unknown): r is TransferRecord {
  const q = r as Partial<TransferRecord> | null;
  return typeof q?.info?.sessionId === 'string' && typeof q.info.startedAt === 'string' && typeof q.endedAt === 'string' && typeof q.peerName === 'string';
}
