import { createContext, useContext } from 'react';
import type { Role } from './gql/graphql';

/** ViewerInfo is who is signed in, from the server's `me`. */
export interface ViewerInfo {
  subject: string;
  roles: Role[];
  /** isAdmin: the console offers approve, reject, revoke, enable and delete (the server checks each anyway). */
  isAdmin: boolean;
}

export const ViewerContext = createContext<ViewerInfo>({ subject: '', roles: [], isAdmin: false });

/** useViewer is the signed-in caller. */
export function useViewer(): ViewerInfo {
  return useContext(ViewerContext);
}
