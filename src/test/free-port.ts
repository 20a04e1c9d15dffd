import fs from 'node:fs';
import net from 'node:net';

/**
 * A TCP port on 127.0.0.1 for a server a test starts while other tests run: above the kernel's ephemeral range, so no
 * client connection of this machine can be holding it as its local port (in CI's PostgreSQL 15 run a fixed port
 * inside the range once was, and the fixture's server could not start), and free when chosen (tried with a listen).
 * Distinct within this process.
 */
const handedOut = new Set<number>();

function ephemeralUpperBound(): number {
  try {
    const upper = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[1]);
    return Number.isInteger(upper) && upper > 1024 && upper < 65000 ? upper : 60999;
  } catch {
    return 60999;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function freePortAboveEphemeral(): Promise<number> {
  const low = ephemeralUpperBound() + 1;
  const span = 65535 - low + 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * span);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port above ${low - 1} after 50 tries`);
}
