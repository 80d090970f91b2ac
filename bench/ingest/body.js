'use strict';
/** The event `bench:ingest` sends (a ~340-byte `log:ClientLog`), and `batch-cost.js` stores. */
const BODY = JSON.stringify({
  client: {
    browser: 'Firefox',
    version: '128.0',
    os: 'Linux',
    screen_width: 1920,
    screen_height: 1080,
    app_name: 'reten-bench',
    app_version: '1.4.2',
  },
  logs: [
    { timestamp: '2026-11-25T12:00:00.000Z', level: 'info', message: 'page loaded in 412 ms' },
    { timestamp: '2026-11-25T12:00:01.000Z', level: 'warn', message: 'slow image /hero.png' },
  ],
});

module.exports = { BODY };
