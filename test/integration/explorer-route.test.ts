import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '../support/test-core.js';

// /graphql is both the API and, for a browser navigating to it, the GraphQL explorer's page. Only a GET
// that accepts HTML and asks nothing (no ?query=) gets the page; every script still reaches GraphQL.
describe('/graphql: the explorer for a browser, GraphQL for everyone else', () => {
  let tc: TestCore;
  let token: string;
  const query = '{ authStatusSummary { total } }';

  beforeAll(async () => {
    tc = await startTestCore();
    token = await tc.token('script', ['VIEWER']);
  });
  afterAll(async () => {
    await tc?.close();
  });

  it('a browser opening /graphql gets the explorer, under the same policy as the console', async () => {
    const res = await fetch(tc.url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("worker-src 'self' blob:");
    const html = await res.text();
    expect(html).toContain('<title>certfleet GraphQL explorer</title>');
    // Its scripts and styles are the core's own files.
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets.filter((a) => !a.startsWith('/'))).toEqual([]);
  });

  it('GET with ?query= and Accept: application/json runs the query', async () => {
    const res = await fetch(`${tc.url}?query=${encodeURIComponent(query)}`, {
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${token}`,
        // Apollo Server answers a GET only when it could not have come from a plain cross-site form or link.
        'apollo-require-preflight': 'true',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ data: { authStatusSummary: { total: 1 } } });
  });

  it('GET with ?query= from a browser reaches GraphQL, not the page (and its CSRF check)', async () => {
    const res = await fetch(`${tc.url}?query=${encodeURIComponent(query)}`, {
      headers: { accept: 'text/html,application/json;q=0.9', authorization: `Bearer ${token}` },
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string }[] };
    expect(body.errors[0].message).toContain('Cross-Site Request Forgery');
  });

  it('POST is unaffected, whatever it accepts', async () => {
    for (const accept of ['application/json', 'text/html, application/json;q=0.9']) {
      const res = await fetch(tc.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
      expect(res.status, accept).toBe(200);
      expect(res.headers.get('content-type'), accept).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({ data: { authStatusSummary: { total: 1 } } });
    }
  });
});
