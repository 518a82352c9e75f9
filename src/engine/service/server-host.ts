/**
 * The one sync server this process may run ("a server to play with"): start,
 * stop, and a status kept current from the engine's server events.
 */
import { parseAddress } from '../../shared/address.js';
import type { ServerStatus, ServeOptions } from '../../shared/api.js';
import { NetsyncError, fail } from '../errors.js';
import type { Identity, RunningServer, ServerEvent, ServerOptions } from '../protocol/api.js';
import { fingerprint } from '../security/fingerprint.js';
import { describeSystemError } from '../system-errors.js';
import { ServiceError, refuse, toApiError } from './errors.js';

export type StartServer = (opts: ServerOptions) => Promise<RunningServer>;

const STOPPED: ServerStatus = { running: false, patterns: [], connections: [], sessions: 0, itemsSent: 0, itemsReceived: 0 };

/** How long sessions in flight may finish when the user stops serving. */
const STOP_GRACE_MS = 2000;

/** The system errors a listen fails with, by the code the API gives each. */
const LISTEN_ERRNO = { EADDRINUSE: 'address-in-use', EADDRNOTAVAIL: 'address-unavailable', EACCES: 'permission' } as const;

/**
 * A failure to listen, with its own code: the engine reports it as 'io' with
 * the phrase describeSystemError gives the errno for that address
 * (protocol/server.ts), which is recognised here by asking for the same
 * phrase. Anything else is left as it came.
 */
function listenFailure(e: unknown, where: string): unknown {
  if (!(e instanceof NetsyncError) || e.code !== 'io') return e;
  for (const [errno, code] of Object.entries(LISTEN_ERRNO)) {
    if (describeSystemError({ code: errno }, { where })?.text === e.message) return new ServiceError(code, e.message);
  }
  return e;
}

export class ServerHost {
  private server: RunningServer | null = null;
  private starting = false;
  private current: ServerStatus = structuredClone(STOPPED);

  constructor(
    private readonly startServer: StartServer,
    private readonly onStatus: (status: ServerStatus) => void,
    /** The server's key and permissions file live here. */
    private readonly configDir: string,
    /** A client presented this key at the start of a session (its fingerprint): the permissions editor offers it. */
    private readonly onClientKey: (fingerprint: string) => void = () => undefined,
  ) {}

  status(): ServerStatus {
    return structuredClone(this.current);
  }

  /** Serves `db` as `identity`, whose fingerprint the status shows (what clients are asked to confirm). */
  async start(db: string, options: ServeOptions, identity: Identity): Promise<ServerStatus> {
    if (this.server || this.starting) refuse('busy', `already serving on ${this.current.host ?? '…'}:${this.current.port ?? ''}; stop it first`);
    const bind = parseAddress(options.bind, undefined, true);
    if (!bind) fail('usage', `"${options.bind}" is not HOST:PORT`);
    this.starting = true;
    try {
      this.server = await this.startServer({
        db,
        host: bind.host,
        port: bind.port,
        patterns: [...options.patterns],
        identity,
        configDir: this.configDir,
        onEvent: (e) => this.apply(e),
      });
    } catch (e) {
      const failure = listenFailure(e, `${bind.host}:${bind.port}`);
      this.update({ ...structuredClone(STOPPED), error: toApiError(failure, options.bind) });
      throw failure;
    } finally {
      this.starting = false;
    }
    this.update({
      ...structuredClone(STOPPED),
      running: true,
      host: this.server.host,
      port: this.server.port,
      patterns: [...options.patterns],
      startedAt: new Date().toISOString(),
      identity: { name: identity.name, fingerprint: fingerprint(identity.keyPair.publicKey) },
    });
    return this.status();
  }

  /** The permissions file was just saved whole and right: its earlier complaint no longer holds. */
  permissionsFixed(): void {
    if (this.current.error?.code !== 'permission') return;
    const { error: _fixed, ...rest } = this.current;
    this.update(rest);
  }

  async stop(): Promise<ServerStatus> {
    const server = this.server;
    if (!server) return this.status();
    this.server = null;
    await server.close(STOP_GRACE_MS);
    this.update({ ...this.current, running: false, connections: [] });
    return this.status();
  }

  private apply(e: ServerEvent): void {
    const s = this.current;
    switch (e.type) {
      case 'listening':
        this.update({ ...s, host: e.host, port: e.port });
        return;
      case 'session-start':
        if (e.client && e.client !== 'anonymous') this.onClientKey(e.client);
        this.update({
          ...s,
          sessions: s.sessions + 1,
          connections: [...s.connections, { sessionId: e.sessionId, remote: e.remote, since: new Date().toISOString() }],
        });
        return;
      case 'session-end':
        this.update({
          ...s,
          itemsSent: s.itemsSent + e.itemsSent,
          itemsReceived: s.itemsReceived + e.itemsReceived,
          connections: s.connections.filter((c) => c.sessionId !== e.sessionId),
        });
        return;
      case 'permissions-error':
        // The engine fails closed (only the server's own key may act) until the file is fixed.
        this.update({ ...s, error: { code: 'permission', message: `The permissions file is unusable, so only this server's own key may sync: ${e.message}` } });
        return;
      case 'refused':
        return; // a connection that never became a session (a failed TLS handshake, say)
      case 'closed':
        this.server = null;
        this.update({ ...s, running: false, connections: [] });
        return;
    }
  }

  private update(next: ServerStatus): void {
    this.current = next;
    this.onStatus(this.status());
  }
}
