/**
 * Logical IDs that do not move when resources are grouped into constructs.
 *
 * CloudFormation knows a resource by its logical ID, which CDK derives from the construct path
 * (`Consumer/Resource` → `Consumer8D6BE417`). Moving a resource into a construct changes its path,
 * hence its ID, and CloudFormation then creates a new resource and deletes the old one: a new, empty
 * verifications table (the old one is retained and deletion-protected, so the deploy fails or leaves
 * it orphaned), new secrets without the operators' webhook secrets, new queues without the messages
 * in flight, new log groups, new API routes clashing with the old ones' route keys, and a new stream
 * mapping re-reading 24 hours of the table's stream (republishing status changes).
 *
 * Every resource of PipelineStack was first written as a direct child of the stack. The stack
 * *flattens* the constructs that now group them: a flattened scope is left out of the path its
 * resources' logical IDs are computed from, and its prefix is prepended to its children's ids
 * (a `Default` child takes the prefix itself). The ID is then CDK's own (`Names.uniqueId`) for that
 * path, so a construct whose children are named as the stack's were keeps every ID unchanged.
 * test/infra/logical-ids.test.ts pins the IDs of the stateful resources.
 */
import { type CfnElement, Names } from "aws-cdk-lib";
import { Construct, type IConstruct, RootConstruct } from "constructs";

const PREFIXES = new WeakMap<IConstruct, string>();

/**
 * Leaves `scope` out of the logical IDs of the resources under it, as if each of its children were
 * a child of its parent named `${prefix}${childId}` (a `Default` child: `prefix`). Only stacks that
 * allocate IDs with `flatLogicalId` honour it; two resources that end up with the same ID fail the
 * synth (CloudFormation sections reject duplicates).
 */
export function flattenLogicalIds(scope: IConstruct, prefix = ""): void {
  PREFIXES.set(scope, prefix);
}

/** The logical ID of `element`, its flattened scopes left out: for `Stack.allocateLogicalId`. */
export function flatLogicalId(element: CfnElement): string {
  const scopes = element.node.scopes;
  const path: string[] = [];
  let prefix = "";
  for (const scope of scopes.slice(scopes.indexOf(element.stack) + 1)) {
    const own = PREFIXES.get(scope);
    if (own !== undefined) {
      prefix += own;
      continue;
    }
    const id = scope.node.id;
    path.push(prefix !== "" && id === "Default" ? prefix : prefix + id);
    prefix = "";
  }
  // CDK's algorithm, through its public API: the unique id of a construct at that path.
  return Names.uniqueId(path.reduce<Construct>((parent, id) => new Construct(parent, id), new RootConstruct()));
}
