export {
  HeraldClient,
  MAX_BATCH,
  newEventId,
  type BatchPublished,
  type Delivery,
  type Endpoint,
  type EndpointInput,
  type Event,
  type EventInput,
  type Input,
  type Item,
  type ListRoute,
  type Output,
  type Published,
  type Route,
  type Tenant,
} from './client.js';
export { HeraldError, type FieldProblem } from './errors.js';
export type { TransportOptions } from './transport.js';
export type { Routes } from './openapi-types.js';
