/**
 * Drives one HTTP target with autocannon, in its own process so the load generator never
 * shares a CPU with the server it measures. argv: a JSON job; prints the result as JSON.
 * Job: { url, method, headers, body, connections, durationSeconds, overallRate? }
 */
const autocannon = require('autocannon');

async function main() {
  const job = JSON.parse(process.argv[2]);
  const result = await autocannon({
    url: job.url,
    method: job.method ?? 'POST',
    headers: job.headers ?? {},
    body: job.body,
    connections: job.connections,
    duration: job.durationSeconds,
    pipelining: 1,
    // a fixed rate in requests/s (open loop at that rate): equal load for CPU comparisons
    ...(job.overallRate ? { overallRate: job.overallRate } : {}),
  });
  const out = {
    requests: result.requests.total,
    rps: result.requests.total / job.durationSeconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: result.statusCodeStats,
    // this process's own CPU (the load generator's share of the machine)
    cpuUs: (({ user, system }) => user + system)(process.cpuUsage()),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
