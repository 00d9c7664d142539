import { Field, ObjectType, type ClassType } from 'type-graphql';

// The page shape every list of the API shares: a connection of edges (cursor, node) and its pageInfo.

@ObjectType({
  description:
    'Where a page sits in its list (Relay connections). Page forward with first/after from endCursor, backward with last/before from startCursor.',
})
export class PageInfo {
  @Field(() => Boolean, {
    description: 'True when the list goes on after this page (from endCursor), whichever way the page was read.',
  })
  hasNextPage!: boolean;

  @Field(() => Boolean, {
    description: 'True when the list has items before this page (before startCursor), whichever way the page was read.',
  })
  hasPreviousPage!: boolean;

  @Field(() => String, {
    nullable: true,
    description: "The cursor of this page's first edge (pass it as before to read the page before); null when the page is empty.",
  })
  startCursor!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The cursor of this page's last edge (pass it as after to read the page after); null when the page is empty.",
  })
  endCursor!: string | null;
}

/**
 * Connection returns the base of the connection type for one node type, and registers its edge
 * type, named after the node's type (Device → DeviceEdge). Use it once per node type:
 *   @ObjectType() export class DeviceConnection extends Connection(Device) {}
 * A list that also counts its matches adds its totalCount field in the subclass, after edges and pageInfo.
 */
export function Connection<TNode extends object>(nodeType: ClassType<TNode>) {
  @ObjectType(`${nodeType.name}Edge`, { description: `One ${nodeType.name} of a page, with its cursor.` })
  class Edge {
    @Field(() => String, { description: 'Opaque: pass it as after to get the items that follow this one.' })
    cursor!: string;

    @Field(() => nodeType, { description: `The ${nodeType.name}.` })
    node!: TNode;
  }

  // Registered only so the subclass inherits its fields; never reachable from the schema's roots, so never served.
  @ObjectType(`${nodeType.name}ConnectionBase`)
  abstract class NodeConnection {
    @Field(() => [Edge], { description: 'The items of this page, in the order of the list.' })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Whether more items follow, and the cursor to ask for them.' })
    pageInfo!: PageInfo;
  }
  return NodeConnection;
}

/** PAGE_ARGS describe the arguments every paged list takes, the same way everywhere. */
export const PAGE_ARGS = {
  first: 'Forward paging: how many items to return, 1 to 500 (BAD_USER_INPUT otherwise). Not with last or before.',
  after:
    'Forward paging: return the items after this cursor, an endCursor or edge cursor this same list returned (BAD_USER_INPUT otherwise); null: from the start.',
  last: 'Backward paging: how many items to return, the ones just before `before` (or the end of the list), 1 to 500. Not with first or after.',
  before:
    "Backward paging: return the items before this cursor (a page's startCursor or an edge's cursor from this list). Not with first or after.",
} as const;
