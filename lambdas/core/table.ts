/**
 * The `verifications` table, shared by the CDK stack, the local pipeline and the Lambdas.
 * One partition per verification (`correlationId`): one state item (`sk = "STATE"`) and one
 * history item per event (`sk = "EVENT#{eventId}"`). The GSI `bySubject` lists the state items
 * of one integrator user (sparse: history items carry no `subjectKey`).
 */
export const TABLE = {
  name: "verifications",
  partitionKey: "correlationId",
  sortKey: "sk",
  stateSortKey: "STATE",
  eventSortKeyPrefix: "EVENT#",
  subjectIndex: { name: "bySubject", partitionKey: "subjectKey", sortKey: "updatedAt" },
} as const;
