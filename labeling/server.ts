import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '@temporalio/worker';
import { isAnswer } from './score';
import { LabelRequestError, type AnswerInput, type LabelSession } from './session';

/**
 * The labelling page and its JSON API, for one session, on a loopback address:
 *
 *   GET  /              the page (index.html, app.js, style.css from labeling/page/)
 *   GET  /api/session   texts and progress, without sources
 *   POST /api/answers   {item_id, answer: real|fake|skip|undo, ms_taken, answered_at?}
 *   POST /api/finish    locks the session and returns the person's results with the true sources
 */

export interface LabelServerOptions {
  session: LabelSession;
  logger: Logger;
  /** 0 picks a free port. */
  port?: number;
}

export interface LabelServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 4096;

const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  // Everything comes from this server, so the page works offline and loads nothing else.
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  // Requiring JSON means a page on another origin cannot post here without a CORS preflight,
  // which this server never grants.
  if (!(request.headers['content-type'] ?? '').startsWith('application/json'))
    throw new LabelRequestError(415, 'Invalid Content-Type: send the request body as application/json.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new LabelRequestError(
        413,
        `Request body over ${MAX_BODY_BYTES} bytes: send one answer per request.`,
      );
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new LabelRequestError(400, 'Invalid request body: expected JSON.');
  }
}

/** Checks an answer request's fields and returns them typed. */
export function parseAnswerBody(body: unknown): AnswerInput {
  const fields = (body ?? {}) as Record<string, unknown>;
  const { item_id: itemId, answer, ms_taken: msTaken, answered_at: answeredAt } = fields;
  if (typeof itemId !== 'number' || !Number.isInteger(itemId))
    throw new LabelRequestError(400, `Invalid item_id ${JSON.stringify(itemId)}: expected an integer.`);
  if (!isAnswer(answer))
    throw new LabelRequestError(
      400,
      `Invalid answer ${JSON.stringify(answer)}: expected "real", "fake", "skip" or "undo".`,
    );
  if (typeof msTaken !== 'number' || !Number.isFinite(msTaken) || msTaken < 0)
    throw new LabelRequestError(
      400,
      `Invalid ms_taken ${JSON.stringify(msTaken)}: expected milliseconds as a non-negative number.`,
    );
  if (answeredAt !== undefined && typeof answeredAt !== 'string')
    throw new LabelRequestError(
      400,
      `Invalid answered_at ${JSON.stringify(answeredAt)}: expected an ISO 8601 time or nothing.`,
    );
  return { itemId, answer, msTaken, answeredAt };
}

/** Starts the server and resolves once it listens; `url` is the page's address. */
export async function startLabelServer(options: LabelServerOptions): Promise<LabelServer> {
  const { session, logger } = options;
  const pageDir = join(__dirname, 'page');
  const files = Object.fromEntries(
    Object.entries(STATIC_FILES).map(([path, spec]) => [
      path,
      { body: readFileSync(join(pageDir, spec.file)), type: spec.type },
    ]),
  );
  let port = options.port ?? 0;
  // Only these Host values reach the API, so a web page cannot reach it through DNS rebinding.
  const allowedHosts = (): string[] => [`${HOST}:${port}`, `localhost:${port}`];

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!allowedHosts().includes(request.headers.host ?? '')) {
      throw new LabelRequestError(
        421,
        `Invalid Host "${request.headers.host}": open the page at http://${HOST}:${port}/.`,
      );
    }
    const path = new URL(request.url ?? '/', `http://${HOST}`).pathname;
    const file = files[path];
    if (file) {
      if (request.method !== 'GET' && request.method !== 'HEAD')
        throw new LabelRequestError(405, `${request.method} ${path} is not allowed: use GET.`);
      send(response, 200, file.type, file.body);
      return;
    }
    const route = `${request.method} ${path}`;
    switch (route) {
      case 'GET /favicon.ico':
        // Browsers ask for it on every load; answering keeps 404 warnings out of the log.
        response.writeHead(204, SECURITY_HEADERS).end();
        return;
      case 'GET /api/session':
        sendJson(response, 200, session.snapshot());
        return;
      case 'POST /api/answers': {
        const input = parseAnswerBody(await readJsonBody(request));
        const key = await session.record(input);
        if (key) logger.debug('answer saved', { session: session.name, itemId: input.itemId, key });
        const snapshot = session.snapshot();
        sendJson(response, 200, { saved: true, answered: snapshot.answered, nextIndex: snapshot.nextIndex });
        return;
      }
      case 'POST /api/finish': {
        await readJsonBody(request);
        const results = await session.finish();
        logger.info('labelling session finished', { session: session.name, judgments: results.judgments });
        sendJson(response, 200, results);
        return;
      }
      default:
        throw new LabelRequestError(404, `Not found: ${route}. The page is at /.`);
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof LabelRequestError) {
        logger.warn('label request rejected', {
          session: session.name,
          method: request.method,
          path: request.url,
          status: error.status,
          error: error.message,
        });
        if (!response.headersSent) sendJson(response, error.status, { error: error.message });
        return;
      }
      logger.error('label request failed', {
        session: session.name,
        method: request.method,
        path: request.url,
        error: error instanceof Error ? error.message : String(error),
      });
      if (!response.headersSent)
        sendJson(response, 500, {
          error: `The server could not complete the request (${error instanceof Error ? error.message : String(error)}). Try again; answers already saved are kept.`,
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${HOST}:${port}/`;
  logger.info('label server started', { url, session: session.name, workflowId: session.info.workflowId });
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
