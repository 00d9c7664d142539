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
  @ObjectType(`${nodeType.name}Edge`)
  class Edge {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: TNode;
  }

  // Registered only so the subclass inherits its fields; never reachable from the schema's roots, so never served.
  @ObjectType(`${nodeType.name}ConnectionBase`)
  abstract class NodeConnection {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return NodeConnection;
}
