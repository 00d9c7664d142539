import { Field, ObjectType } from 'type-graphql';
import type { Role as RoleName } from '../domain/roles.js';
import { Role } from './enums.js';

/** Viewer is the caller as the server sees its token: what a console shows and which controls it offers. */
@ObjectType({ description: 'Who the bearer token speaks for, as this server reads it.' })
export class Viewer {
  @Field(() => String, { description: "The token's subject: the name every change by this caller is audited under." })
  subject!: string;

  @Field(() => [Role], {
    description: "The certfleet roles the token carries (roles for other applications are left out). Empty: the token is valid but may do nothing here.",
  })
  roles!: RoleName[];
}
