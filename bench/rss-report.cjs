// Preloaded into benchmarked processes: reports their peak RSS on exit.
process.on('exit', () => {
  process.stderr.write(`NETSYNC_MAXRSS_KIB=${process.resourceUsage().maxRSS}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
