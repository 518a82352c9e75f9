/**
 * The Content-Security-Policy of every page we serve: our own scripts and
 * styles only, no inline script, no remote anything. `connect` adds the web
 * host's WebSocket origin, which 'self' does not cover in every browser.
 */
export function contentSecurityPolicy(connect: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${["'self'", ...connect].join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
