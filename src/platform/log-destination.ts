import pino from 'pino';

/** Log text waiting to be written at most (bytes); lines beyond it are dropped and counted, never held without bound. */
const LOG_BUFFER_MAX_BYTES = 16 * 1024 * 1024;
/** How often dropped log lines are reported (one line saying how many). */
const LOG_DROPS_REPORT_MS = 10_000;
/** Log text gathered before a write (bytes): a busy server's lines go ~25 at a time. */
const LOG_BATCH_BYTES = 8 * 1024;
/** The longest a line waits for its batch (ms): a quiet server's lines are written at least this often. */
const LOG_FLUSH_EVERY_MS = 200;

/**
 * Where the server's log lines go (standard output in production), written asynchronously, from libuv's thread pool,
 * in batches: lines gather until `batchBytes` of them wait (then one write takes them all) or `flushEveryMs` has passed.
 * Written synchronously (pino's default), every request's access line was a write(2) on the event loop: under
 * bench:money's single-record load, 7% of the API server's time, a quarter of its busy time (ADR 0027). Written
 * asynchronously one line at a time, each write cost ~28 µs of CPU handing it to the thread pool and back (ADR 0027,
 * amendment). What is still buffered is written when the process exits (pino registers the flush for an asynchronous
 * destination). When the output does not keep up, the buffer stops at `maxLengthBytes`: later lines are dropped, and
 * a line says how many every `reportEveryMs`.
 */
export function asyncLogDestination(options: { fd: number; maxLengthBytes?: number; reportEveryMs?: number; batchBytes?: number; flushEveryMs?: number }) {
  const destination = pino.destination({
    dest: options.fd, sync: false, maxLength: options.maxLengthBytes ?? LOG_BUFFER_MAX_BYTES,
    minLength: options.batchBytes ?? LOG_BATCH_BYTES, periodicFlush: options.flushEveryMs ?? LOG_FLUSH_EVERY_MS,
  });
  let dropped = 0;
  // The report being written, while it is: when the buffer is still full it is dropped too (sonic-boom says so at
  // once, from `write`). Its count then waits for the next report, with what is dropped meanwhile: no count is lost, and
  // the report itself is not counted as a log line.
  let reportWriting: string | null = null;
  let reportDropped = false;
  destination.on('drop', (data: unknown) => {
    if (data === reportWriting) reportDropped = true;
    else dropped++;
  });
  const report = setInterval(() => {
    if (dropped === 0) return;
    const count = dropped;
    reportWriting = `${JSON.stringify({ level: 40, time: Date.now(), service: 'folio', dropped: count, msg: 'log lines dropped: the log output did not keep up' })}\n`;
    reportDropped = false;
    destination.write(reportWriting);
    reportWriting = null;
    if (!reportDropped) dropped -= count;
  }, options.reportEveryMs ?? LOG_DROPS_REPORT_MS);
  report.unref();
  destination.on('close', () => clearInterval(report));
  return destination;
}
