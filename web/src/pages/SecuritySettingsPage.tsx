import type { Reference } from '@apollo/client';
import { useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { EnableSecurityDialog } from '../components/EnableSecurityDialog';
import { ErrorNote } from '../components/ErrorNote';
import { LocalTime } from '../components/LocalTime';
import { StatusChart } from '../components/StatusChart';
import { formatCount, formatPercent } from '../format';
import { graphql } from '../gql';
import type { AuthenticationStatus } from '../gql/graphql';
import { Link, navigate } from '../router';
import { useViewer } from '../viewer';

// The query and the subscription select exactly the same fields: the summary's id is always 'fleet',
// so Apollo's cache merges each push into the query's entry and the page re-renders from the query.
graphql(`
  fragment SecuritySummaryFields on AuthStatusSummary {
    id
    total
    succeeded
    successRate
    securityEnabled
    asOf
    items {
      status
      label
      count
    }
  }
`);

const SecuritySummaryQuery = graphql(`
  query SecuritySummary {
    authStatusSummary {
      ...SecuritySummaryFields
    }
  }
`);

const SecuritySummaryChanged = graphql(`
  subscription SecuritySummaryChanged {
    authStatusSummaryChanged {
      ...SecuritySummaryFields
    }
  }
`);

const SecuritySettingsQuery = graphql(`
  query SecuritySettingsPage {
    securitySettings {
      id
      clientCertificateSecurityEnabled
      enabledAt
      enabledBy
      devicesNotReady
      certificateAuthority {
        subject
        fingerprint
        notAfter
      }
    }
  }
`);

const SaveChartQuery = graphql(`
  mutation SaveChartQuery($status: AuthenticationStatus!) {
    createChartQuery(status: $status) {
      ...SavedQueryFields
    }
  }
`);

const EnableClientCertificateSecurity = graphql(`
  mutation EnableClientCertificateSecurity {
    enableClientCertificateSecurity(confirm: true) {
      id
      clientCertificateSecurityEnabled
      enabledAt
      enabledBy
      devicesNotReady
    }
  }
`);

/** devicesPath is the network view filtered to one chart item (it reads repeated `status` parameters). */
function devicesPath(status: AuthenticationStatus): string {
  return `/devices?${new URLSearchParams({ status }).toString()}`;
}

/** SecuritySettingsPage is the console's home: the live chart of the four states, the security switch and the CA. */
export function SecuritySettingsPage() {
  return (
    <div className="security-settings">
      <h1>Security settings</h1>
      <AuthStatusSection />
      <SecuritySwitchSection />
    </div>
  );
}

function AuthStatusSection() {
  const viewer = useViewer();
  const summary = useQuery(SecuritySummaryQuery);
  // Its pushes land in the cache entry the query reads; the hook's own data is not needed.
  const live = useSubscription(SecuritySummaryChanged);
  const [saveChartQuery] = useMutation(SaveChartQuery, {
    // A query already listed under My queries is refreshed in place (same id); a new one joins the list.
    update(cache, { data }) {
      const saved = data?.createChartQuery;
      if (!saved) return;
      cache.modify({
        fields: {
          myQueries(existing, { readField, toReference }) {
            const list = existing as readonly Reference[];
            if (list.some((ref) => readField('id', ref) === saved.id)) return list;
            const ref = toReference(saved);
            return ref ? [...list, ref] : list;
          },
        },
      });
    },
  });
  const drilling = useRef(false);
  const [saving, setSaving] = useState(false);
  const [drillError, setDrillError] = useState<{ status: AuthenticationStatus; error: unknown } | null>(null);

  const drill = useCallback(
    async (status: AuthenticationStatus) => {
      // A double-click repeated while the first is being saved does nothing more; the server keeps one
      // query per caller and chart item anyway (a later save refreshes it).
      if (drilling.current) return;
      drilling.current = true;
      setDrillError(null);
      try {
        // A VIEWER may list the devices but not save queries.
        if (viewer.isAdmin) {
          setSaving(true);
          await saveChartQuery({ variables: { status } });
        }
        navigate(devicesPath(status));
      } catch (error) {
        setDrillError({ status, error });
        setSaving(false);
      } finally {
        drilling.current = false;
      }
    },
    [viewer.isAdmin, saveChartQuery],
  );

  const data = summary.data?.authStatusSummary;
  return (
    <section className="panel" aria-labelledby="status-heading" aria-busy={(summary.loading && !data) || undefined}>
      <h2 id="status-heading">Authentication status of the devices</h2>
      {summary.error ? <ErrorNote error={summary.error} /> : null}
      {live.error ? (
        <>
          <p className="note">Live updates stopped; reload the page to resume them.</p>
          <ErrorNote error={live.error} />
        </>
      ) : null}
      {!data ? (
        summary.error ? null : <p className="muted">Loading the chart…</p>
      ) : (
        <>
          <dl className="chart-figures">
            <div>
              <dt>Success rate</dt>
              <dd data-testid="success-rate">
                <data value={data.successRate}>{formatPercent(data.successRate)}</data>
              </dd>
            </div>
            <div>
              <dt>Devices</dt>
              <dd data-testid="total-devices">
                <data value={data.total}>{formatCount(data.total)}</data>
              </dd>
            </div>
            <div>
              <dt>{data.securityEnabled ? 'Not fully manageable' : 'Would not be fully manageable'}</dt>
              {/* The server's devicesNotReady: every device not in Authentication succeeded, kept live here. */}
              <dd data-testid="devices-not-ready">
                <data value={data.total - data.succeeded}>{formatCount(data.total - data.succeeded)}</data>
              </dd>
            </div>
          </dl>
          <StatusChart items={data.items} total={data.total} onDrill={drill} busy={saving} describedBy="chart-hint" />
          <p id="chart-hint" className="hint">
            Double-click a chart item, or select it in the list and press Enter, to list its devices
            {viewer.isAdmin ? ' and save the query under My queries › Chart-generated queries' : ''}.
          </p>
          <p className="hint">
            Updated live; counts as of <LocalTime iso={data.asOf} />.
          </p>
          {drillError ? (
            <div>
              <ErrorNote error={drillError.error} />
              <p>
                The query was not saved. <Link to={devicesPath(drillError.status)}>List the devices anyway</Link>
              </p>
            </div>
          ) : null}
        </>
      )}
    </section>
  );
}

function SecuritySwitchSection() {
  const viewer = useViewer();
  const settings = useQuery(SecuritySettingsQuery);
  // The summary says when security is switched on, live: from another admin's console or a script.
  const summary = useQuery(SecuritySummaryQuery, { fetchPolicy: 'cache-only' });
  const [enable, enabling] = useMutation(EnableClientCertificateSecurity);
  const [open, setOpen] = useState(false);
  const triggerRef = useRef<HTMLButtonElement>(null);
  const stateRef = useRef<HTMLParagraphElement>(null);
  const wasOpen = useRef(false);

  const s = settings.data?.securitySettings;
  const enabledElsewhere = summary.data?.authStatusSummary.securityEnabled === true && s?.clientCertificateSecurityEnabled === false;
  const { refetch } = settings;
  useEffect(() => {
    if (enabledElsewhere) void refetch();
  }, [enabledElsewhere, refetch]);

  // Focus goes back where it came from when the dialog closes: the button, or, once the button is
  // gone because security is on, the sentence that says so.
  useEffect(() => {
    if (wasOpen.current && !open) (triggerRef.current ?? stateRef.current)?.focus();
    wasOpen.current = open;
  }, [open]);

  const openDialog = () => {
    enabling.reset();
    setOpen(true);
    // The number of devices not ready moves with the fleet: read it fresh for the warning.
    void refetch().catch(() => {});
  };
  const confirm = async () => {
    try {
      await enable();
      setOpen(false);
    } catch {
      // Shown in the dialog through enabling.error.
    }
  };

  return (
    <>
      <section className="panel" aria-labelledby="switch-heading" aria-busy={(settings.loading && !s) || undefined}>
        <h2 id="switch-heading">Client certificate-based security</h2>
        {settings.error ? <ErrorNote error={settings.error} /> : null}
        {!s ? (
          settings.error ? null : <p className="muted">Loading the settings…</p>
        ) : s.clientCertificateSecurityEnabled ? (
          <p ref={stateRef} tabIndex={-1} data-testid="security-state" className="security-state on">
            <strong>Enabled</strong>
            {s.enabledAt ? (
              <>
                {' '}
                on <LocalTime iso={s.enabledAt} />
              </>
            ) : null}
            {s.enabledBy ? (
              <>
                {' '}
                by <strong data-testid="enabled-by">{s.enabledBy}</strong>
              </>
            ) : null}
            . Only devices that authenticate with a valid client certificate can read secure core data. It cannot be
            disabled.
          </p>
        ) : (
          <>
            <p ref={stateRef} tabIndex={-1} data-testid="security-state" className="security-state off">
              <strong>Not enabled.</strong> Devices are not yet required to authenticate with a client certificate. Once
              enabled, it cannot be disabled.
            </p>
            {viewer.isAdmin ? (
              <button ref={triggerRef} type="button" onClick={openDialog}>
                Enable client certificate-based security
              </button>
            ) : (
              <p className="note">Only a security admin can enable it.</p>
            )}
          </>
        )}
      </section>
      <section className="panel" aria-labelledby="ca-heading" aria-busy={(settings.loading && !s) || undefined}>
        <h2 id="ca-heading">Certificate authority</h2>
        {s ? (
          <dl className="ca-details">
            <dt>Subject</dt>
            <dd data-testid="ca-subject">{s.certificateAuthority.subject}</dd>
            <dt>SHA-256 fingerprint</dt>
            <dd>
              <code data-testid="ca-fingerprint">{s.certificateAuthority.fingerprint}</code>
            </dd>
            <dt>Expires</dt>
            <dd data-testid="ca-not-after">
              <LocalTime iso={s.certificateAuthority.notAfter} />
            </dd>
          </dl>
        ) : settings.error ? null : (
          <p className="muted">Loading the certificate authority…</p>
        )}
      </section>
      {/* Kept mounted once security is on, so that a successful confirm closes the dialog rather than tearing it out of the page. */}
      {viewer.isAdmin && s ? (
        <EnableSecurityDialog
          open={open}
          devicesNotReady={settings.loading ? null : s.devicesNotReady}
          busy={enabling.loading}
          error={enabling.error}
          onCancel={() => setOpen(false)}
          onConfirm={() => void confirm()}
        />
      ) : null}
    </>
  );
}
