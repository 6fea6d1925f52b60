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
 * The consumer's IAM actions on the table, and nothing more: GetItem reads the state; PutItem
 * writes the state and the history items (two conditional writes, no transaction).
 * test/integration/store.test.ts checks the store needs no other.
 */
export const CONSUMER_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem"] as const;

/**
 * The read API's IAM actions: GetItem (the state item), Query (the history) and BatchGetItem (the
 * state items a page of the keys-only subject index names) on the table, and Query on the subject
 * index. Nothing that writes, no Scan.
 */
export const READER_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"] as const;
export const READER_INDEX_ACTIONS = ["dynamodb:Query"] as const;
