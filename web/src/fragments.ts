import { graphql } from './gql';

// Selections more than one page reads, defined once and spread by name (fragment masking is off, so
// the data stays plain objects). Those that belong to one component stay beside it: PageInfoFields
// with the Pager (components/paging.tsx), DeviceRowFields and DevicePageFields with the DeviceTable.

// A certificate request and its certificate, as the device page's Certificates table and the Manage
// client access list show them.
export const CertificateFields = graphql(`
  fragment CertificateFields on ClientCertificate {
    id
    status
    subject
    keyAlgorithm
    publicKeyFingerprint
    requestedAt
    decidedAt
    decidedBy
    serialNumber
    notBefore
    notAfter
    revokedAt
    revocationReason
    requestedDeviceName
    requestedAgentVersion
    requestedFrom
  }
`);

// A saved query as My queries lists it (and as saving one from the chart returns it, so the cached list follows).
export const SavedQueryFields = graphql(`
  fragment SavedQueryFields on SavedQuery {
    id
    name
    folder
    authStatus
    createdAt
    updatedAt
  }
`);
