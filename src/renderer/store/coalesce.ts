/**
 * A refresh that events may ask for many times a second (the database
 * changes twice a second during a sync): it runs once at a time, and a call
 * that comes while it runs makes it run once more when that run ends, with
 * every request made meanwhile merged into one, `gapMs` after the start of
 * the run before (the engine answers the window on the thread that runs the
 * sync, so a refresh it did not need is time the sync waits).
 */
export function coalesced<R>(run: (request: R) => Promise<void>, merge: (a: R, b: R) => R, gapMs = 0): (request: R) => Promise<void> {
  let running: Promise<void> | null = null;
  let queued: { request: R } | null = null;
  return (request) => {
    if (running) {
      queued = queued ? { request: merge(queued.request, request) } : { request };
      return running;
    }
    running = (async () => {
      try {
        let next = request;
        for (;;) {
          const started = Date.now();
          await run(next);
          if (!queued) return;
          const wait = started + gapMs - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          // Taken after the wait: requests made during it join this run.
          next = queued.request;
          queued = null;
        }
      } finally {
        running = null;
      }
    })();
    return running;
  };
}
