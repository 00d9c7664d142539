import { useEffect, useState } from 'react';
import { shortFingerprint } from '../format';

/**
 * Fingerprint shows a key fingerprint shortened, the full value in its tooltip, and a button to copy
 * it whole (what an admin compares against the device's own view of its key). of names the key's
 * owner for the button's accessible name.
 */
export function Fingerprint({ value, of }: { value: string; of: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = () => {
    // The clipboard may be missing or refused (no permission, no focus): say so instead of failing silently.
    if (!navigator.clipboard) {
      setCopied('failed');
      return;
    }
    navigator.clipboard.writeText(value).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
  };
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(null), 2500);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <span className="fingerprint">
      <code title={value}>{shortFingerprint(value)}</code>{' '}
      <button type="button" className="link" onClick={copy}>
        Copy<span className="visually-hidden"> key fingerprint of {of}</span>
      </button>
      <span role="status" className="copy-note">
        {copied === 'yes' ? 'Copied' : copied === 'failed' ? 'The browser refused the copy' : ''}
      </span>
    </span>
  );
}
