import { Field, Float, Int, ObjectType } from 'type-graphql';
import { AuthenticationStatus } from './enums.js';
import { DateTime } from './scalars.js';
import type { AuthStatus } from '../domain/statuses.js';

@ObjectType()
export class AuthStatusCount {
  @Field(() => AuthenticationStatus)
  status!: AuthStatus;

  @Field(() => String, { description: "The chart item's label, e.g. 'Authentication succeeded'." })
  label!: string;

  @Field(() => Int)
  count!: number;
}

@ObjectType()
export class AuthStatusSummary {
  @Field(() => Int)
  total!: number;

  @Field(() => Int)
  succeeded!: number;

  @Field(() => Int)
  noAuthenticationInfo!: number;

  @Field(() => Int)
  failed!: number;

  @Field(() => Int)
  mustUpgrade!: number;

  @Field(() => Float, { description: 'succeeded / total, from 0 to 1; 0 when total is 0.' })
  successRate!: number;

  @Field(() => [AuthStatusCount], { description: 'All four chart items, always, in the order of AuthenticationStatus.' })
  items!: AuthStatusCount[];

  @Field(() => Boolean)
  securityEnabled!: boolean;

  @Field(() => DateTime, { description: 'When these counts were read.' })
  asOf!: Date;
}
