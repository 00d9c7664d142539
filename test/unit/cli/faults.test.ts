import { describe, expect, it } from 'vitest';
import { runFaultsCli } from '../../../src/cli/faults.js';

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runFaultsCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

// Only the command line: a real fault run starts a PostgreSQL cluster and cores (.ci/run runs --quick).
describe('npm run faults: command line', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: npm run faults/);
    expect(r.out).toContain('--quick');
    expect(r.err).toBe('');
  });

  it.each([
    [['--faults', 'kill,reboot'], /--faults takes kill, pg-restart, replica-kill \(got "reboot"\)/],
    [['--agents', '0'], /--agents must be a whole number from 1/],
    [['--pg-restart-mode', 'smart'], /--pg-restart-mode must be fast or immediate/],
    [['--after', '5s', '--request-timeout', '10s'], /--after \(5000 ms\) must be at least --request-timeout/],
    [['--before', 'soon'], /--before must be a duration/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
  ])('%j is a usage error: exit 2, one line, nothing started', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });
});
