import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
/**
 * The bare HTTP shell the floors share (floor-server.ts,
 * floor-steady-server.ts): a node:http server on PORT that reads each
 * request body whole and hands it to `handle` with a reply function, 400
 * when `handle` throws, and on SIGTERM stops listening, runs `close` and
 * exits. Prints `listening:` when ready (startFloor waits for it).
 */
import http from 'node:http';

export type Reply = (status: number, body: string) => void;

export function serveFloor(handle: (method: string, url: string, body: Buffer, reply: Reply) => void, close: () => Promise<unknown>): void {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply: Reply = (status, body) => res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      try {
        handle(req.method ?? '', req.url ?? '', Buffer.concat(chunks), reply);
      } catch (err) {
        reply(400, JSON.stringify({ error: String(err) }));
      }
    });
  });
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write(`listening: http://127.0.0.1:${process.env.PORT}\n`));
  process.on('SIGTERM', () => {
    server.close();
    void close().then(() => process.exit(0));
  });
}

/** Herald's schema on DATABASE_URL (`herald migrate`), for a floor that writes Herald's own rows (FLOOR_RECORD=herald). */
export function migrateHeraldSchema(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../../bin/herald.js', import.meta.url)), 'migrate'], { env: process.env, stdio: 'ignore' });
}
