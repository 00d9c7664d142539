/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Me {\n    me {\n      subject\n      roles\n    }\n  }\n": typeof types.MeDocument,
    "\n  mutation DeleteMySavedQuery($id: ID!) {\n    deleteSavedQuery(id: $id)\n  }\n": typeof types.DeleteMySavedQueryDocument,
    "\n  fragment DeviceRowFields on Device {\n    id\n    name\n    agentId\n    agentVersion\n    isCoreServer\n    authStatus\n    failureReason\n    fullyManageable\n    lastConnection {\n      at\n      source\n    }\n  }\n": typeof types.DeviceRowFieldsFragmentDoc,
    "\n  fragment DevicePageFields on DeviceConnection {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      node {\n        ...DeviceRowFields\n      }\n    }\n  }\n": typeof types.DevicePageFieldsFragmentDoc,
    "\n  mutation RevokeCertificate($id: ID!, $reason: RevocationReason) {\n    revokeClientCertificate(id: $id, reason: $reason) {\n      id\n      status\n      revokedAt\n      revocationReason\n      device {\n        id\n        authStatus\n        failureReason\n        fullyManageable\n      }\n    }\n  }\n": typeof types.RevokeCertificateDocument,
    "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    hasPreviousPage\n    startCursor\n    endCursor\n  }\n": typeof types.PageInfoFieldsFragmentDoc,
    "\n  fragment CertificateFields on ClientCertificate {\n    id\n    status\n    subject\n    keyAlgorithm\n    publicKeyFingerprint\n    requestedAt\n    decidedAt\n    decidedBy\n    serialNumber\n    notBefore\n    notAfter\n    revokedAt\n    revocationReason\n    requestedDeviceName\n    requestedAgentVersion\n    requestedFrom\n  }\n": typeof types.CertificateFieldsFragmentDoc,
    "\n  fragment SavedQueryFields on SavedQuery {\n    id\n    name\n    folder\n    authStatus\n    createdAt\n    updatedAt\n  }\n": typeof types.SavedQueryFieldsFragmentDoc,
    "\n  query ConsoleAuditLog($first: Int, $after: String, $last: Int, $before: String) {\n    auditLog(first: $first, after: $after, last: $last, before: $before) {\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          id\n          at\n          actor\n          action\n          targetId\n          details\n        }\n      }\n    }\n  }\n": typeof types.ConsoleAuditLogDocument,
    "\n  query ClientAccessList($filter: ClientAccessRequestFilter!, $first: Int, $after: String, $last: Int, $before: String) {\n    clientAccessRequests(filter: $filter, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...CertificateFields\n          device {\n            id\n            name\n            agentId\n          }\n        }\n      }\n    }\n  }\n": typeof types.ClientAccessListDocument,
    "\n  query ClientAccessCounts($search: String) {\n    pending: clientAccessRequests(first: 1, filter: { statuses: [PENDING], search: $search }) {\n      totalCount\n    }\n    approved: clientAccessRequests(first: 1, filter: { statuses: [APPROVED], search: $search }) {\n      totalCount\n    }\n    rejected: clientAccessRequests(first: 1, filter: { statuses: [REJECTED], search: $search }) {\n      totalCount\n    }\n    revoked: clientAccessRequests(first: 1, filter: { statuses: [REVOKED], search: $search }) {\n      totalCount\n    }\n  }\n": typeof types.ClientAccessCountsDocument,
    "\n  subscription ClientAccessPageRequested {\n    clientAccessRequested {\n      id\n      status\n      requestedDeviceName\n      device {\n        id\n        name\n        agentId\n      }\n    }\n  }\n": typeof types.ClientAccessPageRequestedDocument,
    "\n  subscription ClientAccessPageDecided {\n    clientAccessDecided {\n      requestId\n      decision\n      decidedBy\n      request {\n        id\n        status\n        decidedAt\n        decidedBy\n        revokedAt\n        revocationReason\n      }\n    }\n  }\n": typeof types.ClientAccessPageDecidedDocument,
    "\n  mutation ClientAccessApprove($ids: [ID!]!) {\n    approveClients(ids: $ids) {\n      approved {\n        id\n        status\n        decidedAt\n        decidedBy\n        notAfter\n      }\n      failed {\n        id\n        code\n        message\n      }\n    }\n  }\n": typeof types.ClientAccessApproveDocument,
    "\n  mutation ClientAccessReject($ids: [ID!]!, $reason: String) {\n    rejectClients(ids: $ids, reason: $reason) {\n      rejected {\n        id\n        status\n        decidedAt\n        decidedBy\n      }\n      failed {\n        id\n        code\n        message\n      }\n    }\n  }\n": typeof types.ClientAccessRejectDocument,
    "\n  query DeviceDetail($id: ID!, $historyFirst: Int, $historyAfter: String, $historyLast: Int, $historyBefore: String) {\n    device(id: $id) {\n      ...DeviceRowFields\n      imported\n      unverifiedAttempts\n      lastUnverifiedAttemptAt\n      inventory {\n        path\n        value\n      }\n      connectionHistory(first: $historyFirst, after: $historyAfter, last: $historyLast, before: $historyBefore) {\n        pageInfo {\n          ...PageInfoFields\n        }\n        edges {\n          cursor\n          node {\n            at\n            source\n            result\n            failureReason\n            agentVersion\n            certificateSerialNumber\n            verified\n            unverifiedReason\n            remoteAddress\n          }\n        }\n      }\n      certificates {\n        ...CertificateFields\n      }\n    }\n  }\n": typeof types.DeviceDetailDocument,
    "\n  query MyQueries {\n    myQueries {\n      ...SavedQueryFields\n    }\n  }\n": typeof types.MyQueriesDocument,
    "\n  query NetworkViewDevices($filter: DeviceFilter, $first: Int, $after: String, $last: Int, $before: String) {\n    devices(filter: $filter, first: $first, after: $after, last: $last, before: $before) {\n      ...DevicePageFields\n    }\n  }\n": typeof types.NetworkViewDevicesDocument,
    "\n  query SavedQueryDevices($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n    savedQuery(id: $id) {\n      ...SavedQueryFields\n      devices(first: $first, after: $after, last: $last, before: $before) {\n        ...DevicePageFields\n      }\n    }\n  }\n": typeof types.SavedQueryDevicesDocument,
    "\n  fragment SecuritySummaryFields on AuthStatusSummary {\n    id\n    total\n    succeeded\n    successRate\n    securityEnabled\n    asOf\n    items {\n      status\n      label\n      count\n    }\n  }\n": typeof types.SecuritySummaryFieldsFragmentDoc,
    "\n  query SecuritySummary {\n    authStatusSummary {\n      ...SecuritySummaryFields\n    }\n  }\n": typeof types.SecuritySummaryDocument,
    "\n  subscription SecuritySummaryChanged {\n    authStatusSummaryChanged {\n      ...SecuritySummaryFields\n    }\n  }\n": typeof types.SecuritySummaryChangedDocument,
    "\n  query SecuritySettingsPage {\n    securitySettings {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n      certificateAuthority {\n        subject\n        fingerprint\n        notAfter\n      }\n    }\n  }\n": typeof types.SecuritySettingsPageDocument,
    "\n  mutation SaveChartQuery($status: AuthenticationStatus!) {\n    createChartQuery(status: $status) {\n      ...SavedQueryFields\n    }\n  }\n": typeof types.SaveChartQueryDocument,
    "\n  mutation EnableClientCertificateSecurity {\n    enableClientCertificateSecurity(confirm: true) {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n    }\n  }\n": typeof types.EnableClientCertificateSecurityDocument,
};
const documents: Documents = {
    "\n  query Me {\n    me {\n      subject\n      roles\n    }\n  }\n": types.MeDocument,
    "\n  mutation DeleteMySavedQuery($id: ID!) {\n    deleteSavedQuery(id: $id)\n  }\n": types.DeleteMySavedQueryDocument,
    "\n  fragment DeviceRowFields on Device {\n    id\n    name\n    agentId\n    agentVersion\n    isCoreServer\n    authStatus\n    failureReason\n    fullyManageable\n    lastConnection {\n      at\n      source\n    }\n  }\n": types.DeviceRowFieldsFragmentDoc,
    "\n  fragment DevicePageFields on DeviceConnection {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      node {\n        ...DeviceRowFields\n      }\n    }\n  }\n": types.DevicePageFieldsFragmentDoc,
    "\n  mutation RevokeCertificate($id: ID!, $reason: RevocationReason) {\n    revokeClientCertificate(id: $id, reason: $reason) {\n      id\n      status\n      revokedAt\n      revocationReason\n      device {\n        id\n        authStatus\n        failureReason\n        fullyManageable\n      }\n    }\n  }\n": types.RevokeCertificateDocument,
    "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    hasPreviousPage\n    startCursor\n    endCursor\n  }\n": types.PageInfoFieldsFragmentDoc,
    "\n  fragment CertificateFields on ClientCertificate {\n    id\n    status\n    subject\n    keyAlgorithm\n    publicKeyFingerprint\n    requestedAt\n    decidedAt\n    decidedBy\n    serialNumber\n    notBefore\n    notAfter\n    revokedAt\n    revocationReason\n    requestedDeviceName\n    requestedAgentVersion\n    requestedFrom\n  }\n": types.CertificateFieldsFragmentDoc,
    "\n  fragment SavedQueryFields on SavedQuery {\n    id\n    name\n    folder\n    authStatus\n    createdAt\n    updatedAt\n  }\n": types.SavedQueryFieldsFragmentDoc,
    "\n  query ConsoleAuditLog($first: Int, $after: String, $last: Int, $before: String) {\n    auditLog(first: $first, after: $after, last: $last, before: $before) {\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          id\n          at\n          actor\n          action\n          targetId\n          details\n        }\n      }\n    }\n  }\n": types.ConsoleAuditLogDocument,
    "\n  query ClientAccessList($filter: ClientAccessRequestFilter!, $first: Int, $after: String, $last: Int, $before: String) {\n    clientAccessRequests(filter: $filter, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...CertificateFields\n          device {\n            id\n            name\n            agentId\n          }\n        }\n      }\n    }\n  }\n": types.ClientAccessListDocument,
    "\n  query ClientAccessCounts($search: String) {\n    pending: clientAccessRequests(first: 1, filter: { statuses: [PENDING], search: $search }) {\n      totalCount\n    }\n    approved: clientAccessRequests(first: 1, filter: { statuses: [APPROVED], search: $search }) {\n      totalCount\n    }\n    rejected: clientAccessRequests(first: 1, filter: { statuses: [REJECTED], search: $search }) {\n      totalCount\n    }\n    revoked: clientAccessRequests(first: 1, filter: { statuses: [REVOKED], search: $search }) {\n      totalCount\n    }\n  }\n": types.ClientAccessCountsDocument,
    "\n  subscription ClientAccessPageRequested {\n    clientAccessRequested {\n      id\n      status\n      requestedDeviceName\n      device {\n        id\n        name\n        agentId\n      }\n    }\n  }\n": types.ClientAccessPageRequestedDocument,
    "\n  subscription ClientAccessPageDecided {\n    clientAccessDecided {\n      requestId\n      decision\n      decidedBy\n      request {\n        id\n        status\n        decidedAt\n        decidedBy\n        revokedAt\n        revocationReason\n      }\n    }\n  }\n": types.ClientAccessPageDecidedDocument,
    "\n  mutation ClientAccessApprove($ids: [ID!]!) {\n    approveClients(ids: $ids) {\n      approved {\n        id\n        status\n        decidedAt\n        decidedBy\n        notAfter\n      }\n      failed {\n        id\n        code\n        message\n      }\n    }\n  }\n": types.ClientAccessApproveDocument,
    "\n  mutation ClientAccessReject($ids: [ID!]!, $reason: String) {\n    rejectClients(ids: $ids, reason: $reason) {\n      rejected {\n        id\n        status\n        decidedAt\n        decidedBy\n      }\n      failed {\n        id\n        code\n        message\n      }\n    }\n  }\n": types.ClientAccessRejectDocument,
    "\n  query DeviceDetail($id: ID!, $historyFirst: Int, $historyAfter: String, $historyLast: Int, $historyBefore: String) {\n    device(id: $id) {\n      ...DeviceRowFields\n      imported\n      unverifiedAttempts\n      lastUnverifiedAttemptAt\n      inventory {\n        path\n        value\n      }\n      connectionHistory(first: $historyFirst, after: $historyAfter, last: $historyLast, before: $historyBefore) {\n        pageInfo {\n          ...PageInfoFields\n        }\n        edges {\n          cursor\n          node {\n            at\n            source\n            result\n            failureReason\n            agentVersion\n            certificateSerialNumber\n            verified\n            unverifiedReason\n            remoteAddress\n          }\n        }\n      }\n      certificates {\n        ...CertificateFields\n      }\n    }\n  }\n": types.DeviceDetailDocument,
    "\n  query MyQueries {\n    myQueries {\n      ...SavedQueryFields\n    }\n  }\n": types.MyQueriesDocument,
    "\n  query NetworkViewDevices($filter: DeviceFilter, $first: Int, $after: String, $last: Int, $before: String) {\n    devices(filter: $filter, first: $first, after: $after, last: $last, before: $before) {\n      ...DevicePageFields\n    }\n  }\n": types.NetworkViewDevicesDocument,
    "\n  query SavedQueryDevices($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n    savedQuery(id: $id) {\n      ...SavedQueryFields\n      devices(first: $first, after: $after, last: $last, before: $before) {\n        ...DevicePageFields\n      }\n    }\n  }\n": types.SavedQueryDevicesDocument,
    "\n  fragment SecuritySummaryFields on AuthStatusSummary {\n    id\n    total\n    succeeded\n    successRate\n    securityEnabled\n    asOf\n    items {\n      status\n      label\n      count\n    }\n  }\n": types.SecuritySummaryFieldsFragmentDoc,
    "\n  query SecuritySummary {\n    authStatusSummary {\n      ...SecuritySummaryFields\n    }\n  }\n": types.SecuritySummaryDocument,
    "\n  subscription SecuritySummaryChanged {\n    authStatusSummaryChanged {\n      ...SecuritySummaryFields\n    }\n  }\n": types.SecuritySummaryChangedDocument,
    "\n  query SecuritySettingsPage {\n    securitySettings {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n      certificateAuthority {\n        subject\n        fingerprint\n        notAfter\n      }\n    }\n  }\n": types.SecuritySettingsPageDocument,
    "\n  mutation SaveChartQuery($status: AuthenticationStatus!) {\n    createChartQuery(status: $status) {\n      ...SavedQueryFields\n    }\n  }\n": types.SaveChartQueryDocument,
    "\n  mutation EnableClientCertificateSecurity {\n    enableClientCertificateSecurity(confirm: true) {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n    }\n  }\n": types.EnableClientCertificateSecurityDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      subject\n      roles\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      subject\n      roles\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteMySavedQuery($id: ID!) {\n    deleteSavedQuery(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteMySavedQuery($id: ID!) {\n    deleteSavedQuery(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DeviceRowFields on Device {\n    id\n    name\n    agentId\n    agentVersion\n    isCoreServer\n    authStatus\n    failureReason\n    fullyManageable\n    lastConnection {\n      at\n      source\n    }\n  }\n"): (typeof documents)["\n  fragment DeviceRowFields on Device {\n    id\n    name\n    agentId\n    agentVersion\n    isCoreServer\n    authStatus\n    failureReason\n    fullyManageable\n    lastConnection {\n      at\n      source\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DevicePageFields on DeviceConnection {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      node {\n        ...DeviceRowFields\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment DevicePageFields on DeviceConnection {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      node {\n        ...DeviceRowFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeCertificate($id: ID!, $reason: RevocationReason) {\n    revokeClientCertificate(id: $id, reason: $reason) {\n      id\n      status\n      revokedAt\n      revocationReason\n      device {\n        id\n        authStatus\n        failureReason\n        fullyManageable\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeCertificate($id: ID!, $reason: RevocationReason) {\n    revokeClientCertificate(id: $id, reason: $reason) {\n      id\n      status\n      revokedAt\n      revocationReason\n      device {\n        id\n        authStatus\n        failureReason\n        fullyManageable\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    hasPreviousPage\n    startCursor\n    endCursor\n  }\n"): (typeof documents)["\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    hasPreviousPage\n    startCursor\n    endCursor\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CertificateFields on ClientCertificate {\n    id\n    status\n    subject\n    keyAlgorithm\n    publicKeyFingerprint\n    requestedAt\n    decidedAt\n    decidedBy\n    serialNumber\n    notBefore\n    notAfter\n    revokedAt\n    revocationReason\n    requestedDeviceName\n    requestedAgentVersion\n    requestedFrom\n  }\n"): (typeof documents)["\n  fragment CertificateFields on ClientCertificate {\n    id\n    status\n    subject\n    keyAlgorithm\n    publicKeyFingerprint\n    requestedAt\n    decidedAt\n    decidedBy\n    serialNumber\n    notBefore\n    notAfter\n    revokedAt\n    revocationReason\n    requestedDeviceName\n    requestedAgentVersion\n    requestedFrom\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SavedQueryFields on SavedQuery {\n    id\n    name\n    folder\n    authStatus\n    createdAt\n    updatedAt\n  }\n"): (typeof documents)["\n  fragment SavedQueryFields on SavedQuery {\n    id\n    name\n    folder\n    authStatus\n    createdAt\n    updatedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleAuditLog($first: Int, $after: String, $last: Int, $before: String) {\n    auditLog(first: $first, after: $after, last: $last, before: $before) {\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          id\n          at\n          actor\n          action\n          targetId\n          details\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleAuditLog($first: Int, $after: String, $last: Int, $before: String) {\n    auditLog(first: $first, after: $after, last: $last, before: $before) {\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          id\n          at\n          actor\n          action\n          targetId\n          details\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ClientAccessList($filter: ClientAccessRequestFilter!, $first: Int, $after: String, $last: Int, $before: String) {\n    clientAccessRequests(filter: $filter, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...CertificateFields\n          device {\n            id\n            name\n            agentId\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ClientAccessList($filter: ClientAccessRequestFilter!, $first: Int, $after: String, $last: Int, $before: String) {\n    clientAccessRequests(filter: $filter, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...CertificateFields\n          device {\n            id\n            name\n            agentId\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ClientAccessCounts($search: String) {\n    pending: clientAccessRequests(first: 1, filter: { statuses: [PENDING], search: $search }) {\n      totalCount\n    }\n    approved: clientAccessRequests(first: 1, filter: { statuses: [APPROVED], search: $search }) {\n      totalCount\n    }\n    rejected: clientAccessRequests(first: 1, filter: { statuses: [REJECTED], search: $search }) {\n      totalCount\n    }\n    revoked: clientAccessRequests(first: 1, filter: { statuses: [REVOKED], search: $search }) {\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query ClientAccessCounts($search: String) {\n    pending: clientAccessRequests(first: 1, filter: { statuses: [PENDING], search: $search }) {\n      totalCount\n    }\n    approved: clientAccessRequests(first: 1, filter: { statuses: [APPROVED], search: $search }) {\n      totalCount\n    }\n    rejected: clientAccessRequests(first: 1, filter: { statuses: [REJECTED], search: $search }) {\n      totalCount\n    }\n    revoked: clientAccessRequests(first: 1, filter: { statuses: [REVOKED], search: $search }) {\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ClientAccessPageRequested {\n    clientAccessRequested {\n      id\n      status\n      requestedDeviceName\n      device {\n        id\n        name\n        agentId\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription ClientAccessPageRequested {\n    clientAccessRequested {\n      id\n      status\n      requestedDeviceName\n      device {\n        id\n        name\n        agentId\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ClientAccessPageDecided {\n    clientAccessDecided {\n      requestId\n      decision\n      decidedBy\n      request {\n        id\n        status\n        decidedAt\n        decidedBy\n        revokedAt\n        revocationReason\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription ClientAccessPageDecided {\n    clientAccessDecided {\n      requestId\n      decision\n      decidedBy\n      request {\n        id\n        status\n        decidedAt\n        decidedBy\n        revokedAt\n        revocationReason\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ClientAccessApprove($ids: [ID!]!) {\n    approveClients(ids: $ids) {\n      approved {\n        id\n        status\n        decidedAt\n        decidedBy\n        notAfter\n      }\n      failed {\n        id\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ClientAccessApprove($ids: [ID!]!) {\n    approveClients(ids: $ids) {\n      approved {\n        id\n        status\n        decidedAt\n        decidedBy\n        notAfter\n      }\n      failed {\n        id\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ClientAccessReject($ids: [ID!]!, $reason: String) {\n    rejectClients(ids: $ids, reason: $reason) {\n      rejected {\n        id\n        status\n        decidedAt\n        decidedBy\n      }\n      failed {\n        id\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ClientAccessReject($ids: [ID!]!, $reason: String) {\n    rejectClients(ids: $ids, reason: $reason) {\n      rejected {\n        id\n        status\n        decidedAt\n        decidedBy\n      }\n      failed {\n        id\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeviceDetail($id: ID!, $historyFirst: Int, $historyAfter: String, $historyLast: Int, $historyBefore: String) {\n    device(id: $id) {\n      ...DeviceRowFields\n      imported\n      unverifiedAttempts\n      lastUnverifiedAttemptAt\n      inventory {\n        path\n        value\n      }\n      connectionHistory(first: $historyFirst, after: $historyAfter, last: $historyLast, before: $historyBefore) {\n        pageInfo {\n          ...PageInfoFields\n        }\n        edges {\n          cursor\n          node {\n            at\n            source\n            result\n            failureReason\n            agentVersion\n            certificateSerialNumber\n            verified\n            unverifiedReason\n            remoteAddress\n          }\n        }\n      }\n      certificates {\n        ...CertificateFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query DeviceDetail($id: ID!, $historyFirst: Int, $historyAfter: String, $historyLast: Int, $historyBefore: String) {\n    device(id: $id) {\n      ...DeviceRowFields\n      imported\n      unverifiedAttempts\n      lastUnverifiedAttemptAt\n      inventory {\n        path\n        value\n      }\n      connectionHistory(first: $historyFirst, after: $historyAfter, last: $historyLast, before: $historyBefore) {\n        pageInfo {\n          ...PageInfoFields\n        }\n        edges {\n          cursor\n          node {\n            at\n            source\n            result\n            failureReason\n            agentVersion\n            certificateSerialNumber\n            verified\n            unverifiedReason\n            remoteAddress\n          }\n        }\n      }\n      certificates {\n        ...CertificateFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyQueries {\n    myQueries {\n      ...SavedQueryFields\n    }\n  }\n"): (typeof documents)["\n  query MyQueries {\n    myQueries {\n      ...SavedQueryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NetworkViewDevices($filter: DeviceFilter, $first: Int, $after: String, $last: Int, $before: String) {\n    devices(filter: $filter, first: $first, after: $after, last: $last, before: $before) {\n      ...DevicePageFields\n    }\n  }\n"): (typeof documents)["\n  query NetworkViewDevices($filter: DeviceFilter, $first: Int, $after: String, $last: Int, $before: String) {\n    devices(filter: $filter, first: $first, after: $after, last: $last, before: $before) {\n      ...DevicePageFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SavedQueryDevices($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n    savedQuery(id: $id) {\n      ...SavedQueryFields\n      devices(first: $first, after: $after, last: $last, before: $before) {\n        ...DevicePageFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query SavedQueryDevices($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n    savedQuery(id: $id) {\n      ...SavedQueryFields\n      devices(first: $first, after: $after, last: $last, before: $before) {\n        ...DevicePageFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SecuritySummaryFields on AuthStatusSummary {\n    id\n    total\n    succeeded\n    successRate\n    securityEnabled\n    asOf\n    items {\n      status\n      label\n      count\n    }\n  }\n"): (typeof documents)["\n  fragment SecuritySummaryFields on AuthStatusSummary {\n    id\n    total\n    succeeded\n    successRate\n    securityEnabled\n    asOf\n    items {\n      status\n      label\n      count\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SecuritySummary {\n    authStatusSummary {\n      ...SecuritySummaryFields\n    }\n  }\n"): (typeof documents)["\n  query SecuritySummary {\n    authStatusSummary {\n      ...SecuritySummaryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription SecuritySummaryChanged {\n    authStatusSummaryChanged {\n      ...SecuritySummaryFields\n    }\n  }\n"): (typeof documents)["\n  subscription SecuritySummaryChanged {\n    authStatusSummaryChanged {\n      ...SecuritySummaryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SecuritySettingsPage {\n    securitySettings {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n      certificateAuthority {\n        subject\n        fingerprint\n        notAfter\n      }\n    }\n  }\n"): (typeof documents)["\n  query SecuritySettingsPage {\n    securitySettings {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n      certificateAuthority {\n        subject\n        fingerprint\n        notAfter\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SaveChartQuery($status: AuthenticationStatus!) {\n    createChartQuery(status: $status) {\n      ...SavedQueryFields\n    }\n  }\n"): (typeof documents)["\n  mutation SaveChartQuery($status: AuthenticationStatus!) {\n    createChartQuery(status: $status) {\n      ...SavedQueryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EnableClientCertificateSecurity {\n    enableClientCertificateSecurity(confirm: true) {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n    }\n  }\n"): (typeof documents)["\n  mutation EnableClientCertificateSecurity {\n    enableClientCertificateSecurity(confirm: true) {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;