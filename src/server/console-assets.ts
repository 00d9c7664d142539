import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';

/** DEFAULT_CONSOLE_DIR is where `npm run build:web` (run by npm install) writes the console. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** CONSOLE_PATHS are the console's own pages; each is answered with its single page, which routes itself. */
const CONSOLE_PATHS = /^\/(?:devices|queries|client-access|audit)(?:\/[^/]*)?\/?$/;

/**
 * CONTENT_SECURITY_POLICY keeps every console page on its own origin: scripts, styles, fonts, images
 * and connections (HTTP and WebSocket) come from the core itself or nowhere, so a page cannot be made
 * to load or send anything elsewhere, and no other site may frame it. Inline styles are allowed for the
 * chart library and the explorer's editor, which set element styles; inline scripts are not.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function pageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  // A sign-in link's token is in the fragment, which browsers never send; no-referrer keeps the rest of
  // the URL (device ids, searches) from leaking through links as well.
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-cache');
}

/** wantsPage says whether a GET comes from a browser navigating (it accepts HTML) rather than from a script. */
export function wantsPage(req: Request): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
}

/**
 * consoleRouter serves the console built into dir: its pages at / and at each console path, its
 * hashed assets under /assets (cached for good: their names change with their content), and the
 * GraphQL explorer for a browser that opens /graphql. Without a build it says how to make one.
 */
export function consoleRouter(dir: string): Router {
  const router = express.Router();
  const built = (file: string) => join(dir, file);
  const sendPage = (file: string) => (req: Request, res: Response, next: NextFunction) => {
    if (!existsSync(built(file))) {
      res.status(503).type('text/plain').send('The console is not built: run `npm run build:web` (npm install runs it).\n');
      return;
    }
    pageHeaders(res);
    res.sendFile(built(file), (err) => {
      if (err && !res.headersSent) next(err);
    });
  };
  router.get('/', sendPage('index.html'));
  router.get(CONSOLE_PATHS, sendPage('index.html'));
  // A browser opening the API's URL gets the explorer; scripts (GET with ?query=, or JSON) still reach GraphQL.
  router.get('/graphql', (req, res, next) => {
    if (wantsPage(req) && req.query.query === undefined) return sendPage('graphiql.html')(req, res, next);
    next();
  });
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
      fallthrough: false,
      setHeaders: (res) => res.setHeader('X-Content-Type-Options', 'nosniff'),
    }),
  );
  router.get('/favicon.svg', express.static(dir, { index: false }));
  return router;
}
