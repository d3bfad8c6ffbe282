/**
 * The API's answers as the CLI reads them: only the fields it shows.
 * The full shapes are in /openapi.json.
 */
export interface TenantRow {
  id: string;
  name: string;
  createdAt: string;
}
export interface EndpointRow {
  id: string;
  url: string;
  description: string;
  eventTypes: string[] | null;
  disabled: boolean;
  disabledReason: string | null;
  createdAt: string;
}
export interface EventTypeRow {
  name: string;
  description: string | null;
  schema: unknown;
  createdAt: string;
}
export interface EventRow {
  id: string;
  type: string;
  createdAt: string;
}
export interface DeliveryRow {
  id: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
}
export interface TokenRow {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  revokedAt: string | null;
}
