// The load generator, run as a child process of bench/run.ts so that it does not share the server's event loop
// or count towards its memory. Reads one scenario as JSON from argv[2]; prints autocannon's result as JSON on stdout.
import autocannon, { type Options } from 'autocannon';

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const url = new URL(options.url);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
  console.error(`refusing to send load to ${url.hostname}: the benchmark only targets loopback`);
  process.exit(2);
}
const result = await autocannon(options);
process.stdout.write(JSON.stringify(result));
