// What the API's page tells the app (a JSON script element it writes for the tenant).

export interface InboxConfig {
  tenant: string;
  name: string;
  authority: string;
  clientId: string;
  ws: string;
  page: string;
}

export function readConfig(): InboxConfig {
  const node = document.getElementById("simptu-inbox-config");
  return JSON.parse(node?.textContent ?? "{}") as InboxConfig;
}

export const STAFF_ROLES = ["tenant-admin", "staff"];

export const LABELS = {
  waiting: "Waiting for staff",
  "with-staff": "With staff",
  open: "With the assistant",
  closed: "Closed",
} as const;

export const AUTHORS = { customer: "Customer", agent: "Assistant", staff: "Staff",
                         system: "System" } as const;
