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
    "\n  fragment SecuritySummaryFields on AuthStatusSummary {\n    id\n    total\n    succeeded\n    successRate\n    securityEnabled\n    asOf\n    items {\n      status\n      label\n      count\n    }\n  }\n": typeof types.SecuritySummaryFieldsFragmentDoc,
    "\n  query SecuritySummary {\n    authStatusSummary {\n      ...SecuritySummaryFields\n    }\n  }\n": typeof types.SecuritySummaryDocument,
    "\n  subscription SecuritySummaryChanged {\n    authStatusSummaryChanged {\n      ...SecuritySummaryFields\n    }\n  }\n": typeof types.SecuritySummaryChangedDocument,
    "\n  query SecuritySettingsPage {\n    securitySettings {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n      certificateAuthority {\n        subject\n        fingerprint\n        notAfter\n      }\n    }\n  }\n": typeof types.SecuritySettingsPageDocument,
    "\n  mutation SaveChartQuery($status: AuthenticationStatus!) {\n    createChartQuery(status: $status) {\n      id\n      name\n      folder\n      authStatus\n      createdAt\n      updatedAt\n    }\n  }\n": typeof types.SaveChartQueryDocument,
    "\n  mutation EnableClientCertificateSecurity {\n    enableClientCertificateSecurity(confirm: true) {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n    }\n  }\n": typeof types.EnableClientCertificateSecurityDocument,
};
const documents: Documents = {
    "\n  query Me {\n    me {\n      subject\n      roles\n    }\n  }\n": types.MeDocument,
    "\n  fragment SecuritySummaryFields on AuthStatusSummary {\n    id\n    total\n    succeeded\n    successRate\n    securityEnabled\n    asOf\n    items {\n      status\n      label\n      count\n    }\n  }\n": types.SecuritySummaryFieldsFragmentDoc,
    "\n  query SecuritySummary {\n    authStatusSummary {\n      ...SecuritySummaryFields\n    }\n  }\n": types.SecuritySummaryDocument,
    "\n  subscription SecuritySummaryChanged {\n    authStatusSummaryChanged {\n      ...SecuritySummaryFields\n    }\n  }\n": types.SecuritySummaryChangedDocument,
    "\n  query SecuritySettingsPage {\n    securitySettings {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n      certificateAuthority {\n        subject\n        fingerprint\n        notAfter\n      }\n    }\n  }\n": types.SecuritySettingsPageDocument,
    "\n  mutation SaveChartQuery($status: AuthenticationStatus!) {\n    createChartQuery(status: $status) {\n      id\n      name\n      folder\n      authStatus\n      createdAt\n      updatedAt\n    }\n  }\n": types.SaveChartQueryDocument,
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
export function graphql(source: "\n  mutation SaveChartQuery($status: AuthenticationStatus!) {\n    createChartQuery(status: $status) {\n      id\n      name\n      folder\n      authStatus\n      createdAt\n      updatedAt\n    }\n  }\n"): (typeof documents)["\n  mutation SaveChartQuery($status: AuthenticationStatus!) {\n    createChartQuery(status: $status) {\n      id\n      name\n      folder\n      authStatus\n      createdAt\n      updatedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EnableClientCertificateSecurity {\n    enableClientCertificateSecurity(confirm: true) {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n    }\n  }\n"): (typeof documents)["\n  mutation EnableClientCertificateSecurity {\n    enableClientCertificateSecurity(confirm: true) {\n      id\n      clientCertificateSecurityEnabled\n      enabledAt\n      enabledBy\n      devicesNotReady\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;