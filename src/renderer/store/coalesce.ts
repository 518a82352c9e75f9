/**
 * A refresh that events may ask for many times a second (the database
 * changes twice a second during a sync): it runs once at a time, and a call
 * that comes while it runs makes it run once more when that run ends, with
 * every request made meanwhile merged into one.
 */
export function coalesced<R>(run: (request: R) => Promise<void>, merge: (a: R, b: R) => R): (request: R) => Promise<void> {
  let running: Promise<void> | null = null;
  let queued: { request: R } | null = null;
  return (request) => {
    if (running) {
      queued = queued ? { request: merge(queued.request, request) } : { request };
      return running;
    }
    running = (async () => {
      try {
        let next: R | null = request;
        while (next !== null) {
          await run(next);
          next = queued ? queued.request : null;
          queued = null;
        }
      } finally {
        running = null;
      }
    })();
    return running;
  };
}
