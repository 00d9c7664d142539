import { Field, ObjectType, type ClassType } from 'type-graphql';

// The page shape every list of the API shares: a connection of edges (cursor, node) and its pageInfo.

@ObjectType({ description: 'Where a page stands in its list, for asking for the next one.' })
export class PageInfo {
  @Field(() => Boolean, { description: 'Whether more items follow this page: pass endCursor as after to get them.' })
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: "The last edge's cursor (opaque; pass it as after); null on an empty page." })
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
  first: 'How many items to return: 1 to 500 (BAD_USER_INPUT otherwise).',
  after:
    'Return the items after this cursor: an endCursor or edge cursor this same list returned (BAD_USER_INPUT otherwise); null: from the start.',
} as const;
