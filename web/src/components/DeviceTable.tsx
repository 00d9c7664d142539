import { graphql } from '../gql';
import type { DeviceRowFieldsFragment } from '../gql/graphql';
import { failureReasonLabel, sourceLabel } from '../format';
import { Link } from '../router';
import { LocalTime } from './LocalTime';
import { StatusBadge } from './StatusBadge';

// The fields one row shows: every list of devices (the network view, a saved query) spreads this fragment.
export const DeviceRowFields = graphql(`
  fragment DeviceRowFields on Device {
    id
    name
    agentId
    agentVersion
    isCoreServer
    authStatus
    failureReason
    fullyManageable
    lastConnection {
      at
      source
    }
  }
`);

// One page of a device list with its total: the network view and a saved query's devices read the same.
export const DevicePageFields = graphql(`
  fragment DevicePageFields on DeviceConnection {
    totalCount
    pageInfo {
      ...PageInfoFields
    }
    edges {
      node {
        ...DeviceRowFields
      }
    }
  }
`);

/** DeviceTable lists devices, each name a link to its detail page. */
export function DeviceTable({ devices, caption, busy }: { devices: DeviceRowFieldsFragment[]; caption: string; busy: boolean }) {
  return (
    <div className="table-scroll">
      <table className="data devices" aria-busy={busy}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Agent id</th>
            <th scope="col">Agent version</th>
            <th scope="col">Status</th>
            <th scope="col">Failure reason</th>
            <th scope="col">Last connection</th>
            <th scope="col">Fully manageable</th>
          </tr>
        </thead>
        <tbody>
          {devices.length === 0 ? (
            <tr>
              <td colSpan={7} className="muted">
                {busy ? 'Loading…' : 'No devices match.'}
              </td>
            </tr>
          ) : (
            devices.map((d) => (
              <tr key={d.id}>
                <td>
                  <Link to={`/devices/${encodeURIComponent(d.id)}`}>{d.name}</Link>
                  {d.isCoreServer && <span className="tag">core server</span>}
                </td>
                <td>{d.agentId ?? <span className="muted">none</span>}</td>
                <td>{d.agentVersion ?? <span className="muted">unknown</span>}</td>
                <td>
                  <StatusBadge status={d.authStatus} />
                </td>
                <td>{d.failureReason ? failureReasonLabel(d.failureReason) : ''}</td>
                <td>
                  {d.lastConnection ? (
                    <>
                      <LocalTime iso={d.lastConnection.at} />
                      <span className="sub">{sourceLabel(d.lastConnection.source)}</span>
                    </>
                  ) : (
                    <span className="muted">never</span>
                  )}
                </td>
                <td>{d.fullyManageable ? 'Yes' : 'No'}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
