/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** The four items of the Security settings chart. */
export type AuthenticationStatus =
  /** The device tried to authenticate and could not (most often: its client certificate is not approved). */
  | 'AUTHENTICATION_FAILED'
  /** The device has 2016-or-later agents, is securely connected and ready for the security model. */
  | 'AUTHENTICATION_SUCCEEDED'
  /** The device runs older (9.x) agents and cannot authenticate. */
  | 'CLIENT_AGENTS_MUST_UPGRADE'
  /** The device has not attempted a secure connection, or the security scanner has not reported yet. */
  | 'NO_AUTHENTICATION_INFO';

/** What a token lets its holder do. */
export type Role =
  /** Everything a VIEWER does, and every mutation: approve, reject, revoke, enable, import. */
  | 'SECURITY_ADMIN'
  /** Reads everything and subscribes to live updates; changes nothing. */
  | 'VIEWER';

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { subject: string, roles: Array<Role> } };

export type SecuritySummaryFieldsFragment = { id: string, total: number, succeeded: number, successRate: number, securityEnabled: boolean, asOf: string, items: Array<{ status: AuthenticationStatus, label: string, count: number }> };

export type SecuritySummaryQueryVariables = Exact<{ [key: string]: never; }>;


export type SecuritySummaryQuery = { authStatusSummary: { id: string, total: number, succeeded: number, successRate: number, securityEnabled: boolean, asOf: string, items: Array<{ status: AuthenticationStatus, label: string, count: number }> } };

export type SecuritySummaryChangedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type SecuritySummaryChangedSubscription = { authStatusSummaryChanged: { id: string, total: number, succeeded: number, successRate: number, securityEnabled: boolean, asOf: string, items: Array<{ status: AuthenticationStatus, label: string, count: number }> } };

export type SecuritySettingsPageQueryVariables = Exact<{ [key: string]: never; }>;


export type SecuritySettingsPageQuery = { securitySettings: { id: string, clientCertificateSecurityEnabled: boolean, enabledAt: string | null, enabledBy: string | null, devicesNotReady: number, certificateAuthority: { subject: string, fingerprint: string, notAfter: string } } };

export type SaveChartQueryMutationVariables = Exact<{
  status: AuthenticationStatus;
}>;


export type SaveChartQueryMutation = { createChartQuery: { id: string, name: string, folder: Array<string>, authStatus: AuthenticationStatus | null, createdAt: string, updatedAt: string } };

export type EnableClientCertificateSecurityMutationVariables = Exact<{ [key: string]: never; }>;


export type EnableClientCertificateSecurityMutation = { enableClientCertificateSecurity: { id: string, clientCertificateSecurityEnabled: boolean, enabledAt: string | null, enabledBy: string | null, devicesNotReady: number } };

export const SecuritySummaryFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SecuritySummaryFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AuthStatusSummary"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"successRate"}},{"kind":"Field","name":{"kind":"Name","value":"securityEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"asOf"}},{"kind":"Field","name":{"kind":"Name","value":"items"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"label"}},{"kind":"Field","name":{"kind":"Name","value":"count"}}]}}]}}]} as unknown as DocumentNode<SecuritySummaryFieldsFragment, unknown>;
export const MeDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Me"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"me"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"roles"}}]}}]}}]} as unknown as DocumentNode<MeQuery, MeQueryVariables>;
export const SecuritySummaryDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SecuritySummary"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"authStatusSummary"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"SecuritySummaryFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SecuritySummaryFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AuthStatusSummary"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"successRate"}},{"kind":"Field","name":{"kind":"Name","value":"securityEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"asOf"}},{"kind":"Field","name":{"kind":"Name","value":"items"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"label"}},{"kind":"Field","name":{"kind":"Name","value":"count"}}]}}]}}]} as unknown as DocumentNode<SecuritySummaryQuery, SecuritySummaryQueryVariables>;
export const SecuritySummaryChangedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"SecuritySummaryChanged"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"authStatusSummaryChanged"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"SecuritySummaryFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SecuritySummaryFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AuthStatusSummary"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"successRate"}},{"kind":"Field","name":{"kind":"Name","value":"securityEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"asOf"}},{"kind":"Field","name":{"kind":"Name","value":"items"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"label"}},{"kind":"Field","name":{"kind":"Name","value":"count"}}]}}]}}]} as unknown as DocumentNode<SecuritySummaryChangedSubscription, SecuritySummaryChangedSubscriptionVariables>;
export const SecuritySettingsPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SecuritySettingsPage"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"securitySettings"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"clientCertificateSecurityEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"enabledAt"}},{"kind":"Field","name":{"kind":"Name","value":"enabledBy"}},{"kind":"Field","name":{"kind":"Name","value":"devicesNotReady"}},{"kind":"Field","name":{"kind":"Name","value":"certificateAuthority"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"fingerprint"}},{"kind":"Field","name":{"kind":"Name","value":"notAfter"}}]}}]}}]}}]} as unknown as DocumentNode<SecuritySettingsPageQuery, SecuritySettingsPageQueryVariables>;
export const SaveChartQueryDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SaveChartQuery"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"status"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"AuthenticationStatus"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createChartQuery"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"status"},"value":{"kind":"Variable","name":{"kind":"Name","value":"status"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"folder"}},{"kind":"Field","name":{"kind":"Name","value":"authStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}}]} as unknown as DocumentNode<SaveChartQueryMutation, SaveChartQueryMutationVariables>;
export const EnableClientCertificateSecurityDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"EnableClientCertificateSecurity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"enableClientCertificateSecurity"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"confirm"},"value":{"kind":"BooleanValue","value":true}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"clientCertificateSecurityEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"enabledAt"}},{"kind":"Field","name":{"kind":"Name","value":"enabledBy"}},{"kind":"Field","name":{"kind":"Name","value":"devicesNotReady"}}]}}]}}]} as unknown as DocumentNode<EnableClientCertificateSecurityMutation, EnableClientCertificateSecurityMutationVariables>;