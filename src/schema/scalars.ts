import { DateTimeResolver } from 'graphql-scalars';

/** DateTime is the contract's scalar: an RFC 3339 date-time string. */
export const DateTime = DateTimeResolver;
