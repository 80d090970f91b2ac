/**
 * The services of the stack, in start order: the one list that `pnpm start`
 * (scripts/start-stack.js), the configuration docs (scripts/config-table.js) and the repository
 * tests read. A new service joins the stack by adding one entry here and one in
 * docker-compose.yml (tests/repo/docker-compose.test.ts checks the two agree).
 *
 * - `dir`: the workspace folder; its `dist/main.js` is the process started.
 * - `port`: its HTTP port (API or health/metrics), passed as PORT.
 * - `config`: modules (relative to `dir`, without extension) whose exported
 *   `<camelName>ConfigShape` is the service's config schema; the first that exists wins.
 * - `urls`: what the stack prints once the service is ready.
 * - `env` (optional): variables the stack sets for this service over the shared environment.
 */
const STACK_SERVICES = [
  {
    name: 'gateway',
    dir: 'services/gateway',
    port: 8080,
    config: ['src/config'],
    urls: [
      ['API', 'http://localhost:8080/api/v1/events'],
      ['OpenAPI document', 'http://localhost:8080/openapi.json'],
    ],
    // the relay runs as its own process (below): publishing stays off the API's event loop
    env: { RELAY_ENABLED: 'false' },
  },
  {
    name: 'relay',
    dir: 'services/relay',
    port: 8084,
    config: ['src/config'],
    urls: [],
  },
  {
    name: 'stream',
    dir: 'services/stream',
    port: 8081,
    config: ['src/config'],
    urls: [
      ['live stream (WebSocket)', 'ws://localhost:8081/events/stream'],
      ['stream example page', 'http://localhost:8081/'],
    ],
  },
  {
    name: 'delivery',
    dir: 'services/delivery',
    port: 8082,
    config: ['src/config'],
    urls: [],
  },
  {
    name: 'eworker-logs',
    dir: 'services/eworkers/logs',
    port: 8083,
    // the client-log eworker runs on the eworker SDK, whose shape it extends or uses as is
    config: ['src/config', '../../../packages/eworker/src/config'],
    urls: [],
  },
];

module.exports = { STACK_SERVICES };
