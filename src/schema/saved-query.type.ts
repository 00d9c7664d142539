import { Field, ID, ObjectType } from 'type-graphql';
import type { AuthStatus } from '../domain/statuses.js';
import { AuthenticationStatus } from './enums.js';
import { DateTime } from './scalars.js';

@ObjectType({ description: 'A saved device query, as under Queries > My queries.' })
export class SavedQuery {
  @Field(() => ID, { description: "The saved query's id." })
  id!: string;

  @Field(() => String, { description: "Its name; for a chart-generated query, the chart item's label." })
  name!: string;

  @Field(() => [String], { description: "e.g. ['My queries', 'Chart-generated queries']" })
  folder!: string[];

  @Field(() => AuthenticationStatus, {
    nullable: true,
    description: 'The chart item that generated it, for a chart-generated query.',
  })
  authStatus!: AuthStatus | null;

  @Field(() => DateTime, { description: 'When it was first saved (ISO 8601, UTC).' })
  createdAt!: Date;

  @Field(() => DateTime, { description: 'When it was last saved or refreshed (ISO 8601, UTC).' })
  updatedAt!: Date;
}
