import { Field, ID, ObjectType } from 'type-graphql';
import type { AuthStatus } from '../domain/statuses.js';
import { AuthenticationStatus } from './enums.js';
import { DateTime } from './scalars.js';

@ObjectType({ description: 'A saved device query, as under Queries > My queries.' })
export class SavedQuery {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => [String], { description: "e.g. ['My queries', 'Chart-generated queries']" })
  folder!: string[];

  @Field(() => AuthenticationStatus, {
    nullable: true,
    description: 'The chart item that generated it, for a chart-generated query.',
  })
  authStatus!: AuthStatus | null;

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime)
  updatedAt!: Date;
}
