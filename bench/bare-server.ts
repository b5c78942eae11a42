/**
 * The baseline every HTTP figure is compared with: a bare node:http server
 * that reads the whole body, JSON.parses it and answers a small JSON object.
 * Run as its own process (PORT, HOST from the environment), like cwm.
 */
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let status = 200;
    try {
      if (chunks.length > 0) JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      status = 400;
    }
    const text = JSON.stringify({ status: status === 200 ? 'accepted' : 'error' });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.listen(port, host);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
