import { run } from './main.js';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`netsync: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
