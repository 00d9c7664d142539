import { describe, expect, it } from 'vitest';
import { findHaproxy, parseStatsCsv } from '../../../src/faults/haproxy.js';

// The head and a few rows of HAProxy 2.6's status CSV (`/;csv`), cut after the status column's neighbours.
const CSV = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,
api,FRONTEND,,,1,3,8000,40,0,0,0,0,0,,,,,OPEN,,
api,replica-a,0,0,1,2,,20,0,0,,0,,0,0,0,0,UP,1,
api,replica-b,0,0,0,1,,20,0,0,,0,,0,0,0,0,DOWN 1/2,1,
api,BACKEND,0,0,1,3,800,40,0,0,0,0,,0,0,0,0,UP,2,
agents,replica-a,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,
agents,replica-b,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,
`;

describe('parseStatsCsv', () => {
  it("reads each server's backend, status and open sessions, leaving out frontends and backends", () => {
    expect(parseStatsCsv(CSV)).toEqual([
      { backend: 'api', server: 'replica-a', status: 'UP', sessions: 1 },
      { backend: 'api', server: 'replica-b', status: 'DOWN 1/2', sessions: 0 },
      { backend: 'agents', server: 'replica-a', status: 'UP', sessions: 0 },
      { backend: 'agents', server: 'replica-b', status: 'DOWN', sessions: 0 },
    ]);
  });

  it('refuses what is not the status CSV (an HTML page, an error)', () => {
    expect(() => parseStatsCsv('<html><body>503 Service Unavailable</body></html>')).toThrow(/not HAProxy's status CSV/);
  });
});

describe('findHaproxy', () => {
  it('takes $HAPROXY first, then the PATH; null when neither nor /usr/sbin/haproxy is there', () => {
    expect(findHaproxy({ HAPROXY: process.execPath, PATH: '' })).toBe(process.execPath);
    const found = findHaproxy({ PATH: '/nonexistent' });
    expect(found === null || found === '/usr/sbin/haproxy').toBe(true);
  });
});
