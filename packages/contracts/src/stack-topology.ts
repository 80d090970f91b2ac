import {
  CORE_TOPOLOGY,
  DELIVERY_TOPOLOGY,
  LOGS_EWORKER,
  STREAM_TOPOLOGY,
  eworkerTopology,
} from './broker-names';
import type { Topology } from './broker-names';

/**
 * Everything the stack declares in RabbitMQ that is known before any eworker starts: the
 * source of `infra/rabbitmq/definitions.json` (a test checks the file agrees). Each consumer
 * adds its topology here.
 */
export const STACK_TOPOLOGIES: Topology[] = [
  CORE_TOPOLOGY,
  eworkerTopology(LOGS_EWORKER.name, LOGS_EWORKER.types),
  STREAM_TOPOLOGY,
  DELIVERY_TOPOLOGY,
];
