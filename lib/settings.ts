/**
 * CDK-only facts: the IAM actions each role or grantee gets, and nothing more. What the runtime and
 * the local pipeline must agree on with the stack (timeouts, batch sizes, queue settings, table
 * layout, routes, names) is in lambdas/core/contract.ts.
 */

/**
 * What a queue's consumer may do on it, and nothing more: the four actions of an SQS poller
 * (Lambda's event source mapping uses exactly these; a downstream consumer of `status-changes`
 * gets the same). Not GetQueueUrl, SendMessage or PurgeQueue.
 */
export const SQS_POLLER_ACTIONS = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
  "sqs:GetQueueAttributes",
] as const;

/**
 * The consumer's IAM actions on the table, and nothing more: GetItem reads the state;
 * TransactWriteItems (no action of its own) is authorized per item by PutItem and
 * ConditionCheckItem. test/integration/store.test.ts checks the store needs no other.
 */
export const CONSUMER_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"] as const;

/**
 * The read API's IAM actions: GetItem (the state item) and Query (the history) on the table,
 * and Query on the subject index. Nothing that writes, no Scan, no batch actions.
 */
export const READER_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query"] as const;
export const READER_INDEX_ACTIONS = ["dynamodb:Query"] as const;
